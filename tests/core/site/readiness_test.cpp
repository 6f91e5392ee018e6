// Readiness probing against a real sshd on loopback.
#include "paddock/core/readiness.hpp"

#include "sshd_fixture.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

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
            return SshEndpoint{"127.0.0.1", sshd.port(), sshd.user(), sshd.clientKey(), sshd.clientPublicKey(), {}};
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
    auto hub = EventHub::create();
    std::atomic<int> bootingEvents{0};
    auto sub = hub->subscribe([&](const VmEvent& e) {
        if (e.kind == "readiness" && e.readiness == "booting") ++bootingEvents;
    });
    ReadinessTracker tracker(
        "site",
        [&](const std::string&) -> Result<SshEndpoint> {
            return SshEndpoint{"127.0.0.1", closed, "x", "/nonexistent", "/nonexistent.pub", {}};
        },
        hub, 1500ms);
    tracker.begin("vm-2");
    const auto info = tracker.waitSettled("vm-2", 10s);
    CHECK(info.state == Readiness::Unreachable);
    CHECK(info.error.find("no SSH login within") != std::string::npos);
    // Every refused attempt (one per 0.1 s) left it booting: one event for that, not one each.
    CHECK(bootingEvents == 1);
}

TEST_CASE("cancel stops a probe at once and destruction waits for probes", "[readiness]") {
    const uint16_t closed = test::freeLoopbackPort();
    // Counts resolver calls in progress: a probe thread still running after the destructor
    // returned would be caught inside it, or enter it, later.
    std::atomic<int> resolving{0};
    std::atomic<int> calls{0};
    auto tracker = std::make_unique<ReadinessTracker>(
        "site",
        [&](const std::string&) -> Result<SshEndpoint> {
            ++resolving;
            ++calls;
            SshEndpoint endpoint{"127.0.0.1", closed, "x", "/n", "/n.pub", {}};
            --resolving;
            return endpoint;
        },
        EventHub::create(), 60s);
    tracker->begin("vm-3");
    tracker->begin("vm-4");
    tracker->cancel("vm-3", Readiness::Unknown);
    CHECK(tracker->get("vm-3").state == Readiness::Unknown);
    CHECK(tracker->get("vm-4").state == Readiness::Booting);

    // vm-4 is still probing (its timeout is 60 s): destruction cancels it and returns well
    // before that timeout, once its thread has finished. The bound is generous on purpose: it
    // tells a prompt destructor from one that waits the probe out, not fast from slow.
    const auto started = std::chrono::steady_clock::now();
    tracker.reset();
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(took < 20s);
    CHECK(resolving == 0);
    const int callsAfterDestruction = calls;
    std::this_thread::sleep_for(600ms);  // a probe left running retries every 250 ms
    CHECK(calls == callsAfterDestruction);
}

TEST_CASE("a starved guest gets more time on each attempt that ran out, up to a cap", "[readiness]") {
    using std::chrono::seconds;
    const auto first = paddock::probeAllowance(0);
    CHECK(first.banner == seconds(5));
    CHECK(first.attempt == seconds(10));
    CHECK(paddock::probeAllowance(1).attempt == seconds(20));
    const auto capped = paddock::probeAllowance(2);
    CHECK(capped.banner == seconds(20));
    CHECK(capped.attempt == seconds(40));
    // However many ran out: never more than the cap, and no overflow.
    for (unsigned n : {3u, 4u, 31u, 32u, 1000u, ~0u}) {
        CHECK(paddock::probeAllowance(n).banner == capped.banner);
        CHECK(paddock::probeAllowance(n).attempt == capped.attempt);
    }
    // The banner wait never outlasts the attempt it is part of.
    for (unsigned n = 0; n < 6; ++n) CHECK(paddock::probeAllowance(n).banner < paddock::probeAllowance(n).attempt);
}
