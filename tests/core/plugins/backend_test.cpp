// The host-side backend wrapper: NULL entries become one "unsupported" error; the vtable is
// read only as far as the plugin's struct_size.
#include "paddock/core/backend.hpp"

#include "paddock/core/plugin_host.hpp"
#include "result_checks.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

using namespace paddock;

TEST_CASE("missing operations answer Unsupported naming the backend", "[backend]") {
    PluginHost host;
    auto info = host.loadFile(test::fixturePluginDir() + "/good_backend.so");
    REQUIRE(info.ok());
    auto plugin = host.backend(info->id);
    REQUIRE(plugin.ok());
    auto conn = plugin.value()->connect("fixture://");
    REQUIRE(conn.ok());

    auto listed = conn.value()->listDomains();
    REQUIRE(listed.ok());
    CHECK(listed->size() == 2);

    auto snap = conn.value()->snapshotCreate("a", "s", 0);
    REQUIRE_FALSE(snap.ok());
    CHECK(failure(snap).code == ErrorCode::Unsupported);
    CHECK(failure(snap).message == "snapshot_create is not supported by backend " + info->id);
    CHECK_FALSE(conn.value()->supports("snapshot_create"));
    CHECK(conn.value()->supports("list_domains"));
}

TEST_CASE("domain infos are read only as far as the plugin's struct_size goes", "[backend]") {
    PluginHost host;
    REQUIRE(host.loadFile(test::fixturePluginDir() + "/short_domain_info.so").ok());
    auto plugin = host.backend("org.paddock.test.short-info");
    REQUIRE(plugin.ok());
    auto conn = plugin.value()->connect("fixture://");
    REQUIRE(conn.ok());
    // The fixture's metadata pointers are garbage past struct_size: reading them would crash.
    auto listed = conn.value()->listDomains(true);
    REQUIRE(listed.ok());
    REQUIRE(listed->size() == 2);
    const DomainInfo& a = listed->at(0);
    CHECK(a.name == "short-a");
    CHECK(a.state == DomainState::Running);
    CHECK(a.cpu_time_ns == 77);
    CHECK(a.has_managed_save);
    CHECK(a.metadata.empty());
    const DomainInfo& b = listed->at(1);
    CHECK(b.name == "short-b");
    CHECK(b.vcpus == 4);
    CHECK(b.cpu_time_ns == 0);  // past its struct_size: zero, not 123456
    CHECK_FALSE(b.has_managed_save);
    CHECK(b.metadata.empty());
}

TEST_CASE("pdk statuses map to core error codes", "[backend]") {
    CHECK(errorFromStatus(PDK_ERR_NOT_FOUND, "x").code == ErrorCode::NotFound);
    CHECK(errorFromStatus(PDK_ERR_CONFLICT, "x").code == ErrorCode::Conflict);
    CHECK(errorFromStatus(PDK_ERR_ALREADY_EXISTS, "x").code == ErrorCode::AlreadyExists);
    CHECK(errorFromStatus(PDK_ERR_UNSUPPORTED, "x").code == ErrorCode::Unsupported);
    CHECK(errorFromStatus(PDK_ERR_UNAVAILABLE, "x").code == ErrorCode::Unavailable);
    CHECK(errorFromStatus(PDK_ERR_BAD_FLAGS, "x").code == ErrorCode::Internal);
    CHECK(errorFromStatus(PDK_ERR_INVALID_ARGUMENT, "why").message == "why");
}

TEST_CASE("state names are virsh's words", "[backend]") {
    CHECK(domainStateName(DomainState::Shutoff) == "shut off");
    CHECK(domainStateName(DomainState::Running) == "running");
    CHECK(domainStateName(DomainState::Paused) == "paused");
}
