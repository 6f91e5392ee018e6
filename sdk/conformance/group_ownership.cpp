// ownership: inputs are borrowed for the call (the plugin copies what it keeps), sink data is
// the plugin's (the kit copies it in the sink), connections are freed by close alone, and a NULL
// pdk_error is accepted everywhere. Leaks and double frees show under the ASan build of the kit.
#include "groups.hpp"

#include <cstring>
#include <memory>

namespace paddock::conformance {

namespace {

// A heap copy of `text` the kit scribbles over and frees once the call returned.
class LentString {
public:
    explicit LentString(const std::string& text) : bytes_(new char[text.size() + 1]) {
        std::memcpy(bytes_.get(), text.c_str(), text.size() + 1);
    }
    const char* get() const { return bytes_.get(); }
    void revoke() {
        std::memset(bytes_.get(), 'X', std::strlen(bytes_.get()));
        bytes_.reset();
    }

private:
    std::unique_ptr<char[]> bytes_;
};

void checkDefineCopies(Session& s) {
    if (s.vt.define_domain == nullptr || s.vt.get_domain == nullptr) {
        s.report.skip("ownership/define-copies-inputs", "define_domain or get_domain is NULL");
        return;
    }
    const std::string name = s.domainName("lent");
    LentString lentName(name), key("pdk-conformance-key"), value("lent-value");
    pdk_kv pair{key.get(), value.get()};
    pdk_domain_spec spec = minimalSpec(lentName.get());
    spec.metadata = &pair;
    spec.metadata_count = 1;
    ErrorRecord err;
    const pdk_status st = defineTracked(s, spec, err);
    lentName.revoke();
    key.revoke();
    value.revoke();
    if (st != PDK_OK) {
        s.report.fail("ownership/define-copies-inputs", "define_domain returned " + err.describe(st));
        return;
    }
    const auto seen = lookUp(s, name);
    const bool kept = seen && seen->metadata.count("pdk-conformance-key") == 1 &&
                      seen->metadata.at("pdk-conformance-key") == "lent-value";
    s.report.expect(kept, "ownership/define-copies-inputs",
                    seen ? "the metadata read back is not what was lent to define_domain"
                         : "get_domain does not find the domain under the name lent to define_domain");
}

void checkSetMetadataCopies(Session& s, const std::string& fixture) {
    if (s.vt.set_metadata == nullptr || s.vt.get_metadata == nullptr) {
        s.report.skip("ownership/set-metadata-copies-inputs", "set_metadata or get_metadata is NULL");
        return;
    }
    LentString key("pdk-conformance-key"), value("lent-again");
    pdk_kv pair{key.get(), value.get()};
    ErrorRecord err;
    const pdk_status st = s.vt.set_metadata(s.conn, fixture.c_str(), &pair, 1, 0, err.reset());
    key.revoke();
    value.revoke();
    if (st != PDK_OK) {
        s.report.fail("ownership/set-metadata-copies-inputs", "set_metadata returned " + err.describe(st));
        return;
    }
    auto& probe = s.probes.make<KvProbe>();
    inWindow(probe, [&] { return s.vt.get_metadata(s.conn, fixture.c_str(), 0, &KvProbe::sink, &probe, err.reset()); });
    const auto it = probe.pairs.find("pdk-conformance-key");
    s.report.expect(it != probe.pairs.end() && it->second == "lent-again", "ownership/set-metadata-copies-inputs",
                    "the metadata read back is not what was lent to set_metadata");
}

// Connections are the plugin's: opened and closed many times, some with a live subscription.
void checkOpenClose(Session& s) {
    ErrorRecord err;
    for (int i = 0; i < 10; ++i) {
        pdk_backend_connection* conn = nullptr;
        const pdk_status st = s.vt.open(s.options.uri.c_str(), 0, &conn, err.reset());
        if (st != PDK_OK || conn == nullptr) {
            s.report.fail("ownership/open-close",
                          "open number " + std::to_string(i + 1) + " returned " + err.describe(st));
            return;
        }
        if (s.vt.host_info != nullptr) {
            pdk_host_info info{};
            info.struct_size = sizeof info;
            s.vt.host_info(conn, 0, &info, err.reset());
        }
        s.vt.close(conn);
    }
    s.report.pass("ownership/open-close");
}

// Every failing call accepts err == NULL.
void checkNullError(Session& s, const std::string& fixture) {
    const std::string missing = s.domainName("missing");
    const auto& vt = s.vt;
    if (vt.get_domain != nullptr) {
        auto& probe = s.probes.make<DomainProbe>();
        inWindow(probe, [&] { return vt.get_domain(s.conn, missing.c_str(), 0, &DomainProbe::sink, &probe, nullptr); });
    }
    if (vt.start_domain != nullptr) vt.start_domain(s.conn, missing.c_str(), 0, nullptr);
    if (vt.start_domain != nullptr) vt.start_domain(s.conn, fixture.c_str(), kUnknownFlag, nullptr);
    if (vt.host_info != nullptr) vt.host_info(s.conn, 0, nullptr, nullptr);
    if (vt.list_domains != nullptr) vt.list_domains(s.conn, kUnknownFlag, nullptr, nullptr, nullptr);
    pdk_domain_spec spec = minimalSpec(nullptr);
    if (vt.define_domain != nullptr) vt.define_domain(s.conn, &spec, 0, nullptr);
    pdk_backend_connection* conn = nullptr;
    vt.open(s.options.uri.c_str(), kUnknownFlag, &conn, nullptr);
    if (conn != nullptr) vt.close(conn);
    s.report.pass("ownership/null-error-record");
}

}  // namespace

void runOwnershipGroup(Session& s) {
    checkDefineCopies(s);
    checkOpenClose(s);
    if (s.vt.define_domain == nullptr) return;
    const auto fixture = defineFixture(s, "ownership", "ownership/fixture");
    if (!fixture) return;
    checkSetMetadataCopies(s, *fixture);
    checkNullError(s, *fixture);
}

}  // namespace paddock::conformance
