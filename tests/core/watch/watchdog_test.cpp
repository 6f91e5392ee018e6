// The watchdog's state machine with a made-up clock: every transition of the exhibition
// controller's behaviour, without sleeping.
#include "paddock/core/watchdog.hpp"

#include <catch2/catch.hpp>

using namespace paddock;
using namespace std::chrono_literals;
using Catch::Contains;

namespace {

struct Clocked {
    explicit Clocked(WatchSettings s = {}) : dog(std::move(s)) {}
    Watchdog::TimePoint at(std::chrono::milliseconds offset) const { return Watchdog::TimePoint{} + offset; }
    Watchdog dog;
};

WatchSettings fast(WatchProbe probe = WatchProbe::Heartbeat, bool revertOnStart = false) {
    WatchSettings s;
    s.heartbeat_timeout = 15s;
    s.startup_grace = 10s;
    s.startup_max_wait = 60s;
    s.probe = probe;
    s.revert_on_start = revertOnStart;
    s.backoff_min = 5s;
    s.backoff_max = 40s;
    return s;
}

// Drives a revert the watchdog asked for to success.
void reverted(Clocked& c, std::chrono::milliseconds at) {
    REQUIRE(c.dog.state() == WatchState::Reverting);
    auto d = c.dog.revertDone(c.at(at), true);
    CHECK_FALSE(d.revert);
}

}  // namespace

TEST_CASE("watchdog: no timeout before the first heartbeat, then the timeout reverts", "[watchdog]") {
    Clocked c(fast());
    auto d = c.dog.begin(c.at(0s), WatchedVm::Running);
    CHECK_FALSE(d.revert);
    CHECK(c.dog.state() == WatchState::WaitingFirstHeartbeat);
    // An hour of silence before the first heartbeat: nothing (the guest may still be booting).
    CHECK_FALSE(c.dog.tick(c.at(3600s)).revert);

    d = c.dog.heartbeat(c.at(3601s));
    CHECK(c.dog.state() == WatchState::Healthy);
    CHECK_THAT(d.reason, Contains("first heartbeat"));
    for (int s = 3602; s < 3700; ++s) {
        CHECK(c.dog.heartbeat(c.at(std::chrono::seconds(s))).reason.empty());
        CHECK_FALSE(c.dog.tick(c.at(std::chrono::seconds(s) + 500ms)).revert);
    }
    // 15 s exactly is not yet late; just after, the revert.
    CHECK_FALSE(c.dog.tick(c.at(3699s + 15s)).revert);
    d = c.dog.tick(c.at(3699s + 15s + 1ms));
    CHECK(d.revert);
    CHECK_THAT(d.reason, Contains("no heartbeat for 15.0 s") && Contains("timeout 15.0 s"));
    CHECK(c.dog.state() == WatchState::Reverting);
    // While reverting: ticks and heartbeats (from the guest as it was) change nothing.
    CHECK_FALSE(c.dog.tick(c.at(4000s)).revert);
    CHECK(c.dog.heartbeat(c.at(4000s)).reason.empty());
    CHECK(c.dog.state() == WatchState::Reverting);
}

TEST_CASE("watchdog: after a revert, the probe, the grace, then armed again", "[watchdog]") {
    Clocked c(fast());
    c.dog.begin(c.at(0s), WatchedVm::Running);
    c.dog.heartbeat(c.at(1s));
    REQUIRE(c.dog.tick(c.at(20s)).revert);
    reverted(c, 25s);
    CHECK(c.dog.state() == WatchState::WaitingProbe);
    CHECK_FALSE(c.dog.lastHeartbeat());
    // The guest boots: its first heartbeat ends the wait; the grace runs.
    auto d = c.dog.heartbeat(c.at(40s));
    CHECK(c.dog.state() == WatchState::Grace);
    CHECK_THAT(d.reason, Contains("10.0 s of grace"));
    CHECK_FALSE(c.dog.tick(c.at(49s)).revert);
    d = c.dog.tick(c.at(50s));
    CHECK(c.dog.state() == WatchState::Healthy);
    CHECK_THAT(d.reason, Contains("watching again"));
    // Armed from the end of the grace, not from the last heartbeat before it.
    CHECK_FALSE(c.dog.tick(c.at(64s)).revert);
    CHECK(c.dog.tick(c.at(65s + 1ms)).revert);
}

TEST_CASE("watchdog: a probe that never answers re-arms after max wait and grace, without a new revert",
          "[watchdog]") {
    Clocked c(fast());
    c.dog.begin(c.at(0s), WatchedVm::Running);
    c.dog.heartbeat(c.at(1s));
    REQUIRE(c.dog.tick(c.at(17s)).revert);
    reverted(c, 20s);
    CHECK_FALSE(c.dog.tick(c.at(79s)).revert);
    auto d = c.dog.tick(c.at(80s));
    CHECK(c.dog.state() == WatchState::Grace);
    CHECK_THAT(d.reason, Contains("did not answer within 60.0 s"));
    c.dog.tick(c.at(90s));
    // No heartbeat ever came: back to "no timeout before the first heartbeat" (it never spins).
    CHECK(c.dog.state() == WatchState::WaitingFirstHeartbeat);
    CHECK_FALSE(c.dog.tick(c.at(10000s)).revert);
}

TEST_CASE("watchdog: agent, SSH and no probe", "[watchdog]") {
    SECTION("agent: a heartbeat does not end the wait, the agent does") {
        Clocked c(fast(WatchProbe::Agent));
        c.dog.begin(c.at(0s), WatchedVm::Running);
        c.dog.heartbeat(c.at(1s));
        REQUIRE(c.dog.tick(c.at(17s)).revert);
        reverted(c, 20s);
        c.dog.heartbeat(c.at(25s));
        CHECK(c.dog.state() == WatchState::WaitingProbe);
        c.dog.probeAnswered(c.at(30s));
        CHECK(c.dog.state() == WatchState::Grace);
        c.dog.tick(c.at(40s));
        // Not a heartbeat probe: re-armed as after any start.
        CHECK(c.dog.state() == WatchState::WaitingFirstHeartbeat);
    }
    SECTION("ssh") {
        Clocked c(fast(WatchProbe::Ssh));
        c.dog.begin(c.at(0s), WatchedVm::Down);
        reverted(c, 5s);
        CHECK(c.dog.probeAnswered(c.at(8s)).reason.find("probe answered") != std::string::npos);
        CHECK(c.dog.state() == WatchState::Grace);
    }
    SECTION("none: straight to the grace") {
        Clocked c(fast(WatchProbe::None));
        c.dog.begin(c.at(0s), WatchedVm::Down);
        reverted(c, 5s);
        CHECK(c.dog.state() == WatchState::Grace);
        CHECK(c.dog.probeAnswered(c.at(6s)).reason.empty());
    }
}

TEST_CASE("watchdog: revert_on_start, and how watching begins", "[watchdog]") {
    Clocked onStart(fast(WatchProbe::Heartbeat, true));
    auto d = onStart.dog.begin(onStart.at(0s), WatchedVm::Running);
    CHECK(d.revert);
    CHECK_THAT(d.reason, Contains("revert_on_start") && Contains("'ready'"));

    Clocked down(fast());
    CHECK(down.dog.begin(down.at(0s), WatchedVm::Down).revert);

    Clocked stopped(fast(WatchProbe::Heartbeat, true));
    d = stopped.dog.begin(stopped.at(0s), WatchedVm::StoppedByApi);
    CHECK_FALSE(d.revert);
    CHECK(stopped.dog.state() == WatchState::Stopped);

    // paddockd restarted in the middle of a revert: the new watchdog begins from what it finds.
    Clocked restarted(fast());
    CHECK(restarted.dog.begin(restarted.at(0s), WatchedVm::Down).revert);
    CHECK(restarted.dog.state() == WatchState::Reverting);
}

TEST_CASE("watchdog: the VM going down, and stops and starts through the API", "[watchdog]") {
    Clocked c(fast());
    c.dog.begin(c.at(0s), WatchedVm::Running);
    auto d = c.dog.vmDown(c.at(5s), "crashed");
    CHECK(d.revert);
    CHECK(d.reason == "the VM crashed");
    // Our own revert stops and starts it: not a new failure.
    CHECK_FALSE(c.dog.vmDown(c.at(6s), "shut off").revert);
    reverted(c, 8s);

    c.dog.heartbeat(c.at(10s));
    c.dog.tick(c.at(20s));
    REQUIRE(c.dog.state() == WatchState::Healthy);
    // Stopped through the API: no revert for its silence, nor for it being off.
    c.dog.stoppedByApi(c.at(21s));
    CHECK(c.dog.state() == WatchState::Stopped);
    CHECK_FALSE(c.dog.tick(c.at(1000s)).revert);
    CHECK_FALSE(c.dog.vmDown(c.at(1000s), "shut off").revert);
    CHECK(c.dog.heartbeat(c.at(1000s)).reason.empty());
    WatchDecision asked;
    CHECK_FALSE(c.dog.requestRevert(c.at(1000s), 0s, "x", asked));
    CHECK_FALSE(asked.revert);
    // Started through the API: watched again, no timeout before its first heartbeat.
    c.dog.startedByApi(c.at(1001s));
    CHECK(c.dog.state() == WatchState::WaitingFirstHeartbeat);
    CHECK_FALSE(c.dog.tick(c.at(2000s)).revert);
    CHECK(c.dog.vmDown(c.at(2001s), "paused by an I/O error").revert);
}

TEST_CASE("watchdog: maintenance reports and never acts; leaving it re-arms", "[watchdog]") {
    Clocked c(fast());
    c.dog.begin(c.at(0s), WatchedVm::Running);
    c.dog.heartbeat(c.at(1s));
    auto d = c.dog.setAutoRevert(c.at(2s), false);
    CHECK_THAT(d.reason, Contains("maintenance"));
    d = c.dog.tick(c.at(30s));
    CHECK_FALSE(d.revert);
    CHECK_THAT(d.reason, Contains("no heartbeat") && Contains("maintenance: no action"));
    // Reported once, not on every tick.
    CHECK(c.dog.tick(c.at(31s)).reason.empty());
    d = c.dog.vmDown(c.at(32s), "crashed");
    CHECK_FALSE(d.revert);
    CHECK_THAT(d.reason, Contains("maintenance"));
    WatchDecision asked;
    CHECK_FALSE(c.dog.requestRevert(c.at(33s), 0s, "idle", asked));
    CHECK_FALSE(asked.revert);
    // Heartbeats after the silence are reported as resumed.
    CHECK_THAT(c.dog.heartbeat(c.at(34s)).reason, Contains("resumed"));
    c.dog.tick(c.at(60s));

    // Maintenance ends: no revert for the silence of the maintenance window.
    d = c.dog.setAutoRevert(c.at(100s), true);
    CHECK_FALSE(d.revert);
    CHECK(c.dog.state() == WatchState::WaitingFirstHeartbeat);
    CHECK_FALSE(c.dog.tick(c.at(200s)).revert);
    c.dog.heartbeat(c.at(201s));
    CHECK(c.dog.tick(c.at(217s)).revert);
    // Toggling to what it is already is no event.
    CHECK(c.dog.setAutoRevert(c.at(218s), true).reason.empty());
}

TEST_CASE("watchdog: failed reverts back off, doubling up to the cap, never spinning", "[watchdog]") {
    Clocked c(fast());
    c.dog.begin(c.at(0s), WatchedVm::Down);
    std::chrono::milliseconds now = 0s;
    const std::chrono::seconds waits[] = {5s, 10s, 20s, 40s, 40s, 40s};
    for (const auto wait : waits) {
        REQUIRE(c.dog.state() == WatchState::Reverting);
        auto d = c.dog.revertDone(c.at(now), false, "libvirt: disk busy");
        CHECK_FALSE(d.revert);
        CHECK_THAT(d.reason, Contains("failed: libvirt: disk busy") && Contains("next try in"));
        CHECK(c.dog.state() == WatchState::Backoff);
        // Not one tick early.
        CHECK_FALSE(c.dog.tick(c.at(now + wait - 1ms)).revert);
        now += wait;
        CHECK(c.dog.tick(c.at(now)).revert);
    }
    CHECK(c.dog.failures() == 6);
    // It works at last: the count starts over once the guest is back.
    reverted(c, now);
    c.dog.heartbeat(c.at(now + 5s));
    CHECK(c.dog.failures() == 0);
}

TEST_CASE("watchdog: a VM that dies again during its recovery is a failure, with backoff", "[watchdog]") {
    Clocked c(fast());
    c.dog.begin(c.at(0s), WatchedVm::Running);
    REQUIRE(c.dog.vmDown(c.at(1s), "crashed").revert);
    reverted(c, 3s);
    auto d = c.dog.vmDown(c.at(4s), "crashed");
    CHECK_FALSE(d.revert);
    CHECK_THAT(d.reason, Contains("again right after its recovery") && Contains("next try in 5.0 s"));
    CHECK(c.dog.state() == WatchState::Backoff);
    CHECK_FALSE(c.dog.vmDown(c.at(5s), "crashed").revert);  // already scheduled
    CHECK(c.dog.tick(c.at(9s)).revert);
    reverted(c, 10s);
    c.dog.heartbeat(c.at(12s));
    REQUIRE(c.dog.state() == WatchState::Grace);
    CHECK_FALSE(c.dog.vmDown(c.at(13s), "shut off").revert);
    CHECK_THAT(c.dog.tick(c.at(13s + 10s)).reason, Contains("retrying"));
}

TEST_CASE("watchdog: heartbeats during a backoff call the retry off", "[watchdog]") {
    Clocked c(fast());
    c.dog.begin(c.at(0s), WatchedVm::Down);
    c.dog.revertDone(c.at(1s), false, "busy");
    REQUIRE(c.dog.state() == WatchState::Backoff);
    CHECK_THAT(c.dog.heartbeat(c.at(2s)).reason, Contains("called off"));
    CHECK(c.dog.state() == WatchState::Healthy);
    CHECK_FALSE(c.dog.tick(c.at(10s)).revert);
}

TEST_CASE("watchdog: guest revert requests", "[watchdog]") {
    Clocked c(fast());
    c.dog.begin(c.at(0s), WatchedVm::Running);
    c.dog.heartbeat(c.at(1s));
    WatchDecision d;
    auto in = c.dog.requestRevert(c.at(2s), 30s, "idle for 10 min", d);
    REQUIRE(in);
    CHECK(*in == 30s);
    CHECK_FALSE(d.revert);
    CHECK_THAT(d.reason, Contains("idle for 10 min") && Contains("30.0 s"));
    // A later one does not postpone it; an earlier one brings it forward.
    in = c.dog.requestRevert(c.at(3s), 60s, "late", d);
    CHECK(*in == 29s);
    in = c.dog.requestRevert(c.at(4s), 10s, "process died", d);
    CHECK(*in == 10s);
    for (int s = 5; s < 14; ++s) {
        c.dog.heartbeat(c.at(std::chrono::seconds(s)));
        CHECK_FALSE(c.dog.tick(c.at(std::chrono::seconds(s))).revert);
    }
    auto due = c.dog.tick(c.at(14s));
    CHECK(due.revert);
    CHECK_THAT(due.reason, Contains("process died"));
    CHECK_FALSE(c.dog.requestedRevertAt());
    // During the recovery a request is refused, not queued.
    in = c.dog.requestRevert(c.at(15s), 0s, "again", d);
    CHECK_FALSE(in);
    CHECK_THAT(d.reason, Contains("reverting"));
    reverted(c, 16s);
    c.dog.heartbeat(c.at(20s));
    c.dog.tick(c.at(30s));
    REQUIRE(c.dog.state() == WatchState::Healthy);
    // delay 0: at once.
    in = c.dog.requestRevert(c.at(31s), 0s, "now", d);
    REQUIRE(in);
    CHECK(*in == 0s);
    CHECK(d.revert);
}

TEST_CASE("watchdog: state names", "[watchdog]") {
    CHECK(watchStateName(WatchState::WaitingFirstHeartbeat) == "waiting_first_heartbeat");
    CHECK(watchStateName(WatchState::Backoff) == "backoff");
    CHECK(watchStateName(WatchState::Stopped) == "stopped");
}

TEST_CASE("watchdog: during a revert, heartbeats, crashes and API stops", "[watchdog]") {
    Clocked c(fast());
    c.dog.begin(c.at(0s), WatchedVm::Running);
    c.dog.heartbeat(c.at(1s));
    REQUIRE(c.dog.tick(c.at(17s)).revert);
    SECTION("heartbeats from the guest as it was before the revert are ignored") {
        CHECK(c.dog.heartbeat(c.at(18s)).reason.empty());
        CHECK(c.dog.state() == WatchState::Reverting);
        CHECK_FALSE(c.dog.tick(c.at(100s)).revert);
    }
    SECTION("the VM going down during our own revert is the revert's doing") {
        CHECK_FALSE(c.dog.vmDown(c.at(18s), "shut off").revert);
        CHECK(c.dog.state() == WatchState::Reverting);
        reverted(c, 20s);
        CHECK(c.dog.state() == WatchState::WaitingProbe);
    }
    SECTION("a crash right after the revert is a failed recovery, retried after a backoff") {
        reverted(c, 20s);
        auto d = c.dog.vmDown(c.at(21s), "crashed");
        CHECK_FALSE(d.revert);
        CHECK(c.dog.state() == WatchState::Backoff);
        CHECK(c.dog.failures() == 1);
        CHECK_FALSE(c.dog.tick(c.at(25s)).revert);
        auto retry = c.dog.tick(c.at(27s));
        CHECK(retry.revert);
        CHECK(retry.cause == "retry");
    }
    SECTION("stopped through the API while reverting: left alone afterwards") {
        c.dog.stoppedByApi(c.at(18s));
        CHECK_FALSE(c.dog.revertDone(c.at(20s), true).revert);
        CHECK(c.dog.state() == WatchState::Stopped);
        CHECK_FALSE(c.dog.tick(c.at(500s)).revert);
    }
}

TEST_CASE("watchdog: paddockd restarting in the middle of a revert", "[watchdog]") {
    // The new paddockd knows nothing of the old one's revert: it finds the VM either off (the
    // revert stopped it) or running the snapshot, and begins from that.
    SECTION("found off: recovered") {
        Clocked c(fast());
        auto d = c.dog.begin(c.at(0s), WatchedVm::Down);
        CHECK(d.revert);
        CHECK(d.cause == "not_running");
    }
    SECTION("found running, revert_on_start off: watched from its first heartbeat") {
        Clocked c(fast());
        CHECK_FALSE(c.dog.begin(c.at(0s), WatchedVm::Running).revert);
        CHECK(c.dog.state() == WatchState::WaitingFirstHeartbeat);
        CHECK_FALSE(c.dog.tick(c.at(100s)).revert);
    }
    SECTION("found running, revert_on_start on: reverted again") {
        Clocked c(fast(WatchProbe::Heartbeat, true));
        auto d = c.dog.begin(c.at(0s), WatchedVm::Running);
        CHECK(d.revert);
        CHECK(d.cause == "revert_on_start");
    }
}

TEST_CASE("watchdog: new settings keep the state; causes name why", "[watchdog]") {
    Clocked c(fast());
    c.dog.begin(c.at(0s), WatchedVm::Running);
    c.dog.heartbeat(c.at(1s));
    WatchSettings longer = fast();
    longer.heartbeat_timeout = 60s;
    CHECK_FALSE(c.dog.reconfigure(c.at(2s), longer).revert);
    CHECK(c.dog.state() == WatchState::Healthy);
    CHECK_FALSE(c.dog.tick(c.at(30s)).revert);  // 15 s would have fired
    auto d = c.dog.tick(c.at(62s));
    CHECK(d.revert);
    CHECK(d.cause == "heartbeat_timeout");
    reverted(c, 63s);
    c.dog.heartbeat(c.at(64s));
    c.dog.tick(c.at(75s));
    REQUIRE(c.dog.state() == WatchState::Healthy);
    // Turning maintenance on through new settings goes the setAutoRevert way.
    WatchSettings maintenance = longer;
    maintenance.auto_revert = false;
    CHECK(c.dog.reconfigure(c.at(76s), maintenance).reason == "maintenance: automatic revert off");
    CHECK_FALSE(c.dog.tick(c.at(500s)).revert);
    CHECK(c.dog.vmDown(c.at(501s), "shut off").cause.empty());
    WatchDecision idle;
    CHECK_FALSE(c.dog.requestRevert(c.at(502s), 0s, "idle", idle, "idle_reset"));
    WatchSettings back = longer;
    c.dog.reconfigure(c.at(503s), back);
    c.dog.heartbeat(c.at(504s));
    CHECK(c.dog.requestRevert(c.at(505s), 0s, "idle for 600 s", idle, "idle_reset") == 0s);
    CHECK(idle.revert);
    CHECK(idle.cause == "idle_reset");
}
