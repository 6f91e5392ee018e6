#include "session.hpp"

#include <unistd.h>

#include <algorithm>

namespace paddock::conformance {

void Janitor::trackDomain(const std::string& name) {
    if (std::find(domains_.begin(), domains_.end(), name) == domains_.end()) domains_.push_back(name);
}

void Janitor::trackVolume(const std::string& path) {
    if (std::find(volumes_.begin(), volumes_.end(), path) == volumes_.end()) volumes_.push_back(path);
}

void Janitor::forgetDomain(const std::string& name) {
    domains_.erase(std::remove(domains_.begin(), domains_.end(), name), domains_.end());
}

void Janitor::cleanUp(const pdk_backend_vtable& vt, pdk_backend_connection* conn) {
    if (conn == nullptr) return;
    ErrorRecord err;
    for (const auto& name : domains_) {
        if (vt.destroy_domain != nullptr) vt.destroy_domain(conn, name.c_str(), 0, err.reset());
        if (vt.undefine_domain != nullptr) vt.undefine_domain(conn, name.c_str(), 0, err.reset());
    }
    for (const auto& path : volumes_) {
        if (vt.delete_volume != nullptr) vt.delete_volume(conn, path.c_str(), 0, err.reset());
    }
    domains_.clear();
    volumes_.clear();
}

std::string Session::domainName(const std::string& tag) const {
    return "pdk-conformance-" + std::to_string(::getpid()) + "-" + tag;
}

pdk_domain_spec minimalSpec(const char* name) {
    pdk_domain_spec spec{};
    spec.struct_size = sizeof spec;
    spec.name = name;
    spec.vcpus = 1;
    spec.memory_mib = 128;
    spec.network_mode = PDK_NETWORK_NONE;
    return spec;
}

pdk_status defineTracked(Session& s, const pdk_domain_spec& spec, ErrorRecord& err) {
    if (spec.name != nullptr) s.janitor.trackDomain(spec.name);
    return s.vt.define_domain(s.conn, &spec, 0, err.reset());
}

std::optional<SeenDomain> lookUp(Session& s, const std::string& name, pdk_status* status) {
    if (s.vt.get_domain == nullptr) return std::nullopt;
    auto& probe = s.probes.make<DomainProbe>();
    ErrorRecord err;
    const pdk_status st = inWindow(
        probe, [&] { return s.vt.get_domain(s.conn, name.c_str(), 0, &DomainProbe::sink, &probe, err.reset()); });
    if (status != nullptr) *status = st;
    if (st != PDK_OK || probe.domains.size() != 1) return std::nullopt;
    return probe.domains.front();
}

std::optional<std::vector<SeenDomain>> listAll(Session& s, uint32_t flags) {
    if (s.vt.list_domains == nullptr) return std::nullopt;
    auto& probe = s.probes.make<DomainProbe>();
    ErrorRecord err;
    const pdk_status st =
        inWindow(probe, [&] { return s.vt.list_domains(s.conn, flags, &DomainProbe::sink, &probe, err.reset()); });
    if (st != PDK_OK) return std::nullopt;
    return probe.domains;
}

std::optional<std::string> defineFixture(Session& s, const std::string& tag, const std::string& check,
                                         const Metadata& metadata) {
    const std::string name = s.domainName(tag);
    std::vector<pdk_kv> pairs;
    for (const auto& [k, v] : metadata) pairs.push_back({k.c_str(), v.c_str()});
    pdk_domain_spec spec = minimalSpec(name.c_str());
    spec.metadata = pairs.empty() ? nullptr : pairs.data();
    spec.metadata_count = pairs.size();
    ErrorRecord err;
    const pdk_status st = defineTracked(s, spec, err);
    if (st != PDK_OK) {
        s.report.fail(check, "cannot define fixture domain " + name + ": " + err.describe(st));
        return std::nullopt;
    }
    return name;
}

bool isActive(pdk_domain_state state) {
    return state == PDK_DOMAIN_RUNNING || state == PDK_DOMAIN_BLOCKED || state == PDK_DOMAIN_PAUSED ||
           state == PDK_DOMAIN_SHUTDOWN || state == PDK_DOMAIN_PMSUSPENDED;
}

}  // namespace paddock::conformance
