// Readiness probing against a real sshd on loopback.
#include "paddock/core/readiness.hpp"

#include "sshd_fixture.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>

using namespace paddock;
using namespace std::chrono_literals;

TEST_CASE("a VM becomes ready once SSH login works, and events say so", "[readiness]") {
    test::SshdFixture sshd;
    auto hub = EventHub::create();
    std::atomic<int> readyEvents{0};
    auto sub = hub->subscribe([&](const VmEvent& e) {
        if (e.kind == "readiness" && e.readiness == "ready") ++readyEvents;
    });
    std::atomic<int> attempts{0};
    ReadinessTracker tracker(
        "site",
        [&](const std::string&) -> Result<SshEndpoint> {
            // The first attempts see no address yet, as while a guest boots.
            if (++attempts < 3) return makeError(ErrorCode::Unavailable, "no address yet");
            return SshEndpoint{"127.0.0.1", sshd.port(), sshd.user(), sshd.clientKey(), sshd.clientPublicKey()};
        },
        hub, 30s);
    tracker.begin("vm-1");
    CHECK(tracker.get("vm-1").state != Readiness::Unknown);
    const auto info = tracker.waitSettled("vm-1", 20s);
    REQUIRE(info.state == Readiness::Ready);
    CHECK(info.host_key.fingerprint == sshd.hostKeyFingerprint());
    CHECK(info.seconds_to_ready > 0);
    CHECK(readyEvents == 1);

    tracker.cancel("vm-1");
    CHECK(tracker.get("vm-1").state == Readiness::Stopped);
}

TEST_CASE("a guest that never answers becomes unreachable with the reason", "[readiness]") {
    const uint16_t closed = test::freeLoopbackPort();
    ReadinessTracker tracker(
        "site", [&](const std::string&) -> Result<SshEndpoint> { return SshEndpoint{"127.0.0.1", closed, "x", "/nonexistent", "/nonexistent.pub"}; },
        EventHub::create(), 1500ms);
    tracker.begin("vm-2");
    const auto info = tracker.waitSettled("vm-2", 10s);
    CHECK(info.state == Readiness::Unreachable);
    CHECK(info.error.find("no SSH login within") != std::string::npos);
}

TEST_CASE("cancel stops a probe at once and destruction waits for probes", "[readiness]") {
    const uint16_t closed = test::freeLoopbackPort();
    auto tracker = std::make_unique<ReadinessTracker>(
        "site", [&](const std::string&) -> Result<SshEndpoint> { return SshEndpoint{"127.0.0.1", closed, "x", "/n", "/n.pub"}; },
        EventHub::create(), 60s);
    tracker->begin("vm-3");
    tracker->begin("vm-4");
    tracker->cancel("vm-3", Readiness::Unknown);
    CHECK(tracker->get("vm-3").state == Readiness::Unknown);
    tracker.reset();  // vm-4 still probing: must return promptly without crashing
}
