// The host-side backend wrapper: NULL entries become one "unsupported" error; the vtable is
// read only as far as the plugin's struct_size.
#include "paddock/core/backend.hpp"

#include "paddock/core/plugin_host.hpp"
#include "result_checks.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>

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
    CHECK(failure(snap).message == "snapshot_create: unsupported by backend " + info->id);
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

TEST_CASE("guestPing passes the timeout and answers Unsupported for a backend older than 1.5", "[backend]") {
    using std::chrono::milliseconds;
    PluginHost host;
    REQUIRE(host.loadFile(test::fixturePluginDir() + "/guest_agent_backends.so").ok());

    auto agent = host.backend("org.paddock.test.agent");
    REQUIRE(agent.ok());
    auto conn = agent.value()->connect("fixture://");
    REQUIRE(conn.ok());
    CHECK(conn.value()->supports("guest_ping"));
    CHECK(conn.value()->guestPing("alive", milliseconds(500)).ok());
    auto silent = conn.value()->guestPing("silent", milliseconds(1500));
    CHECK(failure(silent).code == ErrorCode::Unavailable);
    CHECK(failure(silent).message == "the guest agent did not answer in 1500 ms");
    CHECK(failure(conn.value()->guestPing("silent", milliseconds(-3))).message ==
          "the guest agent did not answer in 0 ms");
    CHECK(failure(conn.value()->guestPing("silent", milliseconds(uint64_t{1} << 40))).message ==
          "the guest agent did not answer in 4294967295 ms");
    CHECK(failure(conn.value()->guestPing("off", milliseconds(500))).code == ErrorCode::Conflict);
    CHECK(failure(conn.value()->guestPing("no-channel", milliseconds(500))).code == ErrorCode::Unsupported);
    CHECK(failure(conn.value()->guestPing("nope", milliseconds(500))).code == ErrorCode::NotFound);

    // Its vtable ends before guest_ping; the entry behind struct_size (which would answer OK) is
    // never read.
    auto old = host.backend("org.paddock.test.agent-v1-4");
    REQUIRE(old.ok());
    auto oldConn = old.value()->connect("fixture://");
    REQUIRE(oldConn.ok());
    CHECK_FALSE(oldConn.value()->supports("guest_ping"));
    auto ping = oldConn.value()->guestPing("alive", milliseconds(500));
    CHECK(failure(ping).code == ErrorCode::Unsupported);
    CHECK(failure(ping).message == "guest_ping: unsupported by backend org.paddock.test.agent-v1-4");

    // A backend that leaves the entry NULL answers the same.
    auto good = host.loadFile(test::fixturePluginDir() + "/good_backend.so");
    REQUIRE(good.ok());
    auto goodConn = host.backend(good->id).value()->connect("fixture://");
    REQUIRE(goodConn.ok());
    CHECK(failure(goodConn.value()->guestPing("alive", milliseconds(500))).code == ErrorCode::Unsupported);
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

TEST_CASE("hostResources and volumeInfo (ABI 1.7) through libvirt-qemu; Unsupported where the entry is NULL",
          "[backend]") {
    PluginHost host;
    REQUIRE(host.loadFile(test::pluginDir() + "/paddock_libvirt_qemu.so").ok());
    auto conn = host.backend("org.paddock.libvirt-qemu").value()->connect("test:///default");
    REQUIRE(conn.ok());
    const auto resources = conn.value()->hostResources();
    REQUIRE(resources.ok());
    CHECK(resources.value().cpus == 16);
    CHECK(resources.value().memory_free_bytes == resources.value().memory_total_bytes);
    const auto self = conn.value()->volumeInfo("/proc/self/exe");
    REQUIRE(self.ok());
    CHECK_FALSE(self.value().in_pool);
    CHECK(self.value().pool.empty());
    const auto missing = conn.value()->volumeInfo("/nonexistent-pdk/base.qcow2");
    CHECK(failure(missing).code == ErrorCode::NotFound);
    CHECK_THAT(failure(missing).message, Catch::Contains("no storage pool holds it"));

    auto good = host.loadFile(test::fixturePluginDir() + "/good_backend.so");
    REQUIRE(good.ok());
    auto goodConn = host.backend(good->id).value()->connect("fixture://");
    REQUIRE(goodConn.ok());
    CHECK(failure(goodConn.value()->hostResources()).message ==
          "host_resources: unsupported by backend " + good->id);
    CHECK(failure(goodConn.value()->volumeInfo("/x")).code == ErrorCode::Unsupported);
}

TEST_CASE("a backend older than ABI 1.7 is never asked to bind a forward elsewhere than 127.0.0.1", "[backend]") {
    PluginHost host;
    REQUIRE(host.loadFile(test::fixturePluginDir() + "/guest_agent_backends.so").ok());
    auto old = host.backend("org.paddock.test.agent-v1-4");
    REQUIRE(old.ok());
    auto conn = old.value()->connect("fixture://");
    REQUIRE(conn.ok());
    DomainSpec spec;
    spec.name = "fwd";
    spec.network_mode = PDK_NETWORK_USER;
    spec.ssh_forward_port = 22001;
    spec.ssh_forward_address = "0.0.0.0";
    const auto refused = conn.value()->defineDomain(spec);
    CHECK(failure(refused).code == ErrorCode::Unsupported);
    CHECK_THAT(failure(refused).message, Catch::Contains("ssh_forward_address 0.0.0.0") &&
                                             Catch::Contains("org.paddock.test.agent-v1-4 (ABI 1.4)") &&
                                             Catch::Contains("needs ABI 1.7"));
    // The default address goes through to the backend (which has no define_domain at all).
    spec.ssh_forward_address = "127.0.0.1";
    CHECK(failure(conn.value()->defineDomain(spec)).message ==
          "define_domain: unsupported by backend org.paddock.test.agent-v1-4");
}
