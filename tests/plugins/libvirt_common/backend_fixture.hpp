// What the tests of the libvirt backends built on libvirt_common share beyond the plugin helpers
// of tests/plugins/support: golden files checked by the real virt-xml-validate, a minimal spec,
// and open's refusals.
#pragma once

#include "../support/backend_plugin.hpp"

#include <paddock/pdk_backend.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace lvtest {

using pdktest::Err;

// The descriptor of `<plugin dir>/<file>`; the library stays loaded for the whole run.
inline const pdk_plugin_descriptor& loadDescriptor(const std::string& file) { return pdktest::descriptorOf(file); }

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

using pdktest::checkCapabilitiesMatchVtable;

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
