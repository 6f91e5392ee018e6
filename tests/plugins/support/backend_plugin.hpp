// What the tests of every backend plugin share: loading a built .so through its one exported
// symbol, as the host does (libraries stay loaded for the whole run), a pdk_error, sinks that
// collect what a call hands back, a connection wrapper, and the rule that a descriptor's
// capabilities match its vtable. Each plugin's test folder adds its
// own defaults on top (plugin_fixture.hpp, backend_fixture.hpp).
#pragma once

#include <test_support.hpp>

#include <paddock/pdk_backend.h>

#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace pdktest {

// The descriptor of `<plugin dir>/<file>`; the library stays loaded for the whole run.
inline const pdk_plugin_descriptor& descriptorOf(const std::string& file) {
    static std::map<std::string, const pdk_plugin_descriptor*> loaded;
    if (auto it = loaded.find(file); it != loaded.end()) return *it->second;
    const std::string path = paddock::test::pluginDir() + "/" + file;
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) throw std::runtime_error(std::string("dlopen failed: ") + dlerror());
    auto entry = reinterpret_cast<pdk_plugin_entry_fn>(dlsym(h, PDK_PLUGIN_ENTRY_SYMBOL));
    if (entry == nullptr) throw std::runtime_error("pdk_plugin_entry missing in " + path);
    return *(loaded[file] = entry());
}

// A pdk_error ready to pass.
struct Err : pdk_error {
    Err() : pdk_error{} { struct_size = sizeof(pdk_error); }
    std::string text() const { return message; }
};

// Runs `expr`, which may use the fresh `err` it declares, and requires PDK_OK, naming the call
// and the error it wrote.
#define OK_CALL(expr)                        \
    do {                                     \
        ::pdktest::Err err;                  \
        const pdk_status st_ = (expr);       \
        INFO(#expr << ": " << err.text());   \
        REQUIRE(st_ == PDK_OK);              \
    } while (0)

struct DomainView {
    std::string name, uuid;
    int32_t id = 0;
    int state = 0;
    uint64_t maxMemoryKib = 0, memoryKib = 0, cpuTimeNs = 0;
    uint32_t vcpus = 0;
    bool managedSave = false;
    std::map<std::string, std::string> metadata;
};

inline void collectDomain(void* user, const pdk_domain_info* info) {
    DomainView v;
    v.name = info->name;
    v.uuid = info->uuid;
    v.id = info->id;
    v.state = info->state;
    v.maxMemoryKib = info->max_memory_kib;
    v.memoryKib = info->memory_kib;
    v.cpuTimeNs = info->cpu_time_ns;
    v.vcpus = info->vcpus;
    v.managedSave = info->has_managed_save != 0;
    for (size_t i = 0; i < info->metadata_count; ++i) v.metadata[info->metadata[i].key] = info->metadata[i].value;
    static_cast<std::vector<DomainView>*>(user)->push_back(v);
}

inline void collectName(void* user, const char* name) { static_cast<std::vector<std::string>*>(user)->push_back(name); }

inline void collectKv(void* user, const char* k, const char* v) {
    (*static_cast<std::map<std::string, std::string>*>(user))[k] = v;
}

// A connection of the backend in `file`, opened on `uri` (throws when open fails), closed on
// destruction.
class Conn {
public:
    Conn(const char* uri, const std::string& file)
        : vt_(*static_cast<const pdk_backend_vtable*>(descriptorOf(file).vtable)) {
        Err err;
        const pdk_status st = vt_.open(uri, 0, &conn_, &err);
        if (st != PDK_OK) throw std::runtime_error("open " + std::string(uri) + ": " + err.text());
    }
    ~Conn() { vt_.close(conn_); }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;
    pdk_backend_connection* get() const { return conn_; }
    const pdk_backend_vtable& vt() const { return vt_; }

    std::vector<DomainView> list(uint32_t flags = 0) {
        std::vector<DomainView> out;
        Err err;
        const pdk_status st = vt_.list_domains(conn_, flags, &collectDomain, &out, &err);
        INFO(err.text());
        REQUIRE(st == PDK_OK);
        return out;
    }
    pdk_status get(const char* name, DomainView& out, Err& err) {
        std::vector<DomainView> v;
        const pdk_status st = vt_.get_domain(conn_, name, 0, &collectDomain, &v, &err);
        if (st == PDK_OK) {
            REQUIRE(v.size() == 1);
            out = v.front();
        }
        return st;
    }
    DomainView get(const char* name) {
        DomainView v;
        Err err;
        const pdk_status st = get(name, v, err);
        INFO(err.text());
        REQUIRE(st == PDK_OK);
        return v;
    }
    std::map<std::string, std::string> metadata(const char* name) {
        std::map<std::string, std::string> kv;
        Err err;
        const pdk_status st = vt_.get_metadata(conn_, name, 0, &collectKv, &kv, &err);
        INFO(err.text());
        REQUIRE(st == PDK_OK);
        return kv;
    }

private:
    const pdk_backend_vtable& vt_;
    pdk_backend_connection* conn_ = nullptr;
};

inline pdk_domain_spec diskless(const char* name) {
    pdk_domain_spec s{};
    s.struct_size = sizeof s;
    s.name = name;
    s.vcpus = 1;
    s.memory_mib = 128;
    return s;
}

// Each capability id and the vtable entries it stands for: present in the descriptor exactly
// when all of them are non-NULL.
struct Capability {
    const char* id;
    std::vector<const void*> entries;
};

inline std::vector<Capability> capabilityMap(const pdk_backend_vtable& v) {
    return {
        {"domain.lifecycle",
         {(const void*)v.list_domains, (const void*)v.get_domain, (const void*)v.start_domain,
          (const void*)v.shutdown_domain, (const void*)v.destroy_domain}},
        {"domain.define", {(const void*)v.define_domain, (const void*)v.undefine_domain}},
        {"volume.overlay", {(const void*)v.create_overlay, (const void*)v.delete_volume, (const void*)v.volume_path}},
        {"snapshot",
         {(const void*)v.snapshot_create, (const void*)v.snapshot_list, (const void*)v.snapshot_revert,
          (const void*)v.snapshot_delete, (const void*)v.snapshot_list_info, (const void*)v.snapshot_create_spec}},
        {"save", {(const void*)v.save_domain}},
        {"events", {(const void*)v.subscribe_events}},
        {"ssh_target", {(const void*)v.ssh_target}},
        {"metadata", {(const void*)v.get_metadata, (const void*)v.set_metadata}},
        {"backup", {(const void*)v.backup_create, (const void*)v.checkpoint_delete, (const void*)v.restore_volume}},
        {"guest_agent", {(const void*)v.guest_ping}},
    };
}

inline void checkCapabilitiesMatchVtable(const pdk_plugin_descriptor& d) {
    const auto& v = *static_cast<const pdk_backend_vtable*>(d.vtable);
    std::vector<std::string> caps;
    for (const char* const* c = d.capabilities; *c != nullptr; ++c) caps.emplace_back(*c);
    std::vector<std::string> known;
    for (const Capability& cap : capabilityMap(v)) {
        known.emplace_back(cap.id);
        const bool listed = std::find(caps.begin(), caps.end(), cap.id) != caps.end();
        for (const void* fn : cap.entries) {
            INFO(d.id << ": capability " << cap.id << (listed ? " listed" : " not listed"));
            CHECK((fn != nullptr) == listed);
        }
    }
    for (const std::string& c : caps) {
        INFO(d.id << " lists unknown capability " << c);
        CHECK(std::find(known.begin(), known.end(), c) != known.end());
    }
    CHECK(v.open != nullptr);
    CHECK(v.close != nullptr);
    CHECK(v.is_alive != nullptr);
    CHECK(v.host_info != nullptr);
}

}  // namespace pdktest
