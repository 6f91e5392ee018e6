// What the tests of the libvirt backends built on libvirt_common share: loading a plugin .so
// through its one exported symbol (as the host does), golden files checked by the real
// virt-xml-validate, and the rule that a descriptor's capabilities match its vtable.
#pragma once

#include <test_support.hpp>

#include <paddock/pdk_backend.h>

#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace lvtest {

// The descriptor of `<plugin dir>/<file>`; the library stays loaded for the whole run.
inline const pdk_plugin_descriptor& loadDescriptor(const std::string& file) {
    static std::map<std::string, const pdk_plugin_descriptor*> loaded;
    if (auto it = loaded.find(file); it != loaded.end()) return *it->second;
    const std::string path = paddock::test::pluginDir() + "/" + file;
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) throw std::runtime_error(std::string("dlopen failed: ") + dlerror());
    auto entry = reinterpret_cast<pdk_plugin_entry_fn>(dlsym(h, PDK_PLUGIN_ENTRY_SYMBOL));
    if (entry == nullptr) throw std::runtime_error("pdk_plugin_entry missing in " + path);
    loaded[file] = entry();
    return *loaded[file];
}

struct Err : pdk_error {
    Err() : pdk_error{} { struct_size = sizeof(pdk_error); }
    std::string text() const { return message; }
};

// A minimal valid spec.
inline pdk_domain_spec spec(const char* name) {
    pdk_domain_spec s{};
    s.struct_size = sizeof s;
    s.name = name;
    s.vcpus = 1;
    s.memory_mib = 256;
    s.network_mode = PDK_NETWORK_NONE;
    return s;
}

// Compares `xml` with data/<file> (PADDOCK_UPDATE_GOLDEN=1 rewrites it) and validates it with
// libvirt's own virt-xml-validate, which must be installed (libvirt-clients).
inline void checkGolden(const std::string& dataDir, const std::string& file, const std::string& xml) {
    namespace t = paddock::test;
    REQUIRE(std::system("command -v virt-xml-validate >/dev/null 2>&1") == 0);
    const std::string path = dataDir + "/" + file;
    const char* update = std::getenv("PADDOCK_UPDATE_GOLDEN");
    if (update != nullptr && std::string(update) == "1") t::writeFile(path, xml);
    CHECK(xml == t::readFile(path));
    INFO(file << " must satisfy libvirt's domain schema");
    CHECK(std::system(("virt-xml-validate '" + path + "' domain >/dev/null 2>&1").c_str()) == 0);
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

// open(uri, flags) must fail with `status` and exactly `message` (when not empty), within 2 s.
inline void checkOpenFails(const pdk_backend_vtable& v, const char* uri, uint32_t flags, pdk_status status,
                           const std::string& message = {}) {
    Err err;
    pdk_backend_connection* conn = nullptr;
    const auto start = std::chrono::steady_clock::now();
    const pdk_status st = v.open(uri, flags, &conn, &err);
    const auto took = std::chrono::steady_clock::now() - start;
    INFO("open(" << (uri != nullptr ? uri : "NULL") << ", " << flags << "): " << err.text());
    CHECK(st == status);
    CHECK(err.status == status);
    CHECK(conn == nullptr);
    if (!message.empty()) CHECK(err.text() == message);
    CHECK(took < std::chrono::seconds(2));
    if (conn != nullptr) v.close(conn);
}

}  // namespace lvtest
