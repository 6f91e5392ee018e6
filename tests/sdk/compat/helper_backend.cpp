// A backend built against the ABI 1.1 headers with the C++ helper (paddock/cpp/backend.hpp), for
// the 1.0-host compatibility test (host_v1_0.c). Every member fills or reads the full 1.1
// structs; the helper must fit that to whatever the host's struct_size says.
#include <paddock/cpp/backend.hpp>
#include <paddock/cpp/plugin.hpp>

#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace {

struct Defined {
    std::string name;
    uint32_t vcpus = 0;
    uint64_t memoryMib = 0;
    uint16_t sshPort = 0;
    std::map<std::string, std::string> metadata;
};

class CompatConn {
public:
    static std::unique_ptr<CompatConn> open(const char*, uint32_t flags) {
        pdk::checkFlags(flags, 0);
        return std::make_unique<CompatConn>();
    }
    void hostInfo(uint32_t flags, pdk_host_info& out) {
        pdk::checkFlags(flags, 0);
        std::strcpy(out.hypervisor, "Compat");
        std::strcpy(out.auto_domain_type, "qemu");
        std::strcpy(out.hostname, "compat-host");
        out.library_version = 1001000;
        out.hypervisor_version = 7002000;  // 1.1: a 1.0 host has no room for it
    }
    void defineDomain(const pdk_domain_spec& spec, uint32_t flags) {
        pdk::checkFlags(flags, 0);
        if (spec.name == nullptr) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "domain name is NULL");
        std::lock_guard lock(mutex_);
        if (domains_.count(spec.name) != 0)
            throw pdk::Error(PDK_ERR_ALREADY_EXISTS, std::string("domain '") + spec.name + "' exists");
        Defined d{spec.name, spec.vcpus, spec.memory_mib, spec.ssh_forward_port, {}};
        for (size_t i = 0; i < spec.metadata_count; ++i) d.metadata[spec.metadata[i].key] = spec.metadata[i].value;
        domains_[spec.name] = d;
    }
    void getDomain(const char* name, uint32_t flags, pdk_domain_sink sink, void* user) {
        pdk::checkFlags(flags, 0);
        std::lock_guard lock(mutex_);
        const auto it = domains_.find(name);
        if (it == domains_.end())
            throw pdk::Error(PDK_ERR_NOT_FOUND, std::string("domain '") + name + "' does not exist");
        std::vector<pdk_kv> kvs;
        for (const auto& [k, v] : it->second.metadata) kvs.push_back({k.c_str(), v.c_str()});
        pdk_domain_info info{};
        info.struct_size = sizeof info;
        info.name = it->second.name.c_str();
        info.uuid = "00000000-0000-4000-8000-0000000c0a7c";
        info.id = -1;
        info.state = PDK_DOMAIN_SHUTOFF;
        info.max_memory_kib = it->second.memoryMib * 1024;
        info.vcpus = it->second.vcpus;
        info.metadata = kvs.data();
        info.metadata_count = kvs.size();
        sink(user, &info);
    }
    void startDomain(const char* name, uint32_t flags) {
        pdk::checkFlags(flags, 0);
        if (std::string(name) == "long") throw pdk::Error(PDK_ERR_CONFLICT, std::string(3000, 'L'));
        throw pdk::Error(PDK_ERR_NOT_FOUND, std::string("domain '") + name + "' does not exist");
    }
    void sshTarget(const char* name, uint32_t flags, pdk_ssh_target& out) {
        pdk::checkFlags(flags, 0);
        std::lock_guard lock(mutex_);
        const auto it = domains_.find(name);
        if (it == domains_.end())
            throw pdk::Error(PDK_ERR_NOT_FOUND, std::string("domain '") + name + "' does not exist");
        std::strcpy(out.host, "127.0.0.1");
        out.port = it->second.sshPort;
    }
    std::string createOverlay(const pdk_volume_spec& spec, uint32_t flags) {
        pdk::checkFlags(flags, 0);
        return std::string("/pool/") + spec.pool + "/" + spec.name + "@" + std::to_string(spec.capacity_bytes);
    }

private:
    std::mutex mutex_;
    std::map<std::string, Defined> domains_;
};

struct CompatLibrary {
    static void init(const pdk_host&) {}
    static void deinit() noexcept {}
};

const pdk_backend_vtable kVtable = pdk::makeBackendVtable<CompatConn>();

const pdk_plugin_descriptor kDescriptor = {
    .struct_size = sizeof(pdk_plugin_descriptor),
    .abi_major = PDK_ABI_VERSION_MAJOR,
    .abi_minor = PDK_ABI_VERSION_MINOR,
    .kind = PDK_PLUGIN_KIND_BACKEND,
    .id = "org.paddock.test.compat-1-1",
    .name = "1.1 helper backend",
    .version = "1.1.0",
    .description = "Built with the 1.1 C++ helper, loaded by a 1.0 host.",
    .capabilities = nullptr,
    .vtable = &kVtable,
    .init = &pdk::libraryInit<CompatLibrary>,
    .deinit = &pdk::libraryDeinit<CompatLibrary>,
    .next = nullptr,
};

}  // namespace

extern "C" PDK_EXPORT const pdk_plugin_descriptor* pdk_plugin_entry(void) { return &kDescriptor; }
