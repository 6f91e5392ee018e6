// End to end with real guests on qemu:///system: the guest image's heartbeat loop (guest-scripts/
// linux/paddock-heartbeat, started by the guest's init from paddock.heartbeat= on the kernel
// command line that Paddock adds for watched templates) reaches paddockd without a token; when
// it stops (switched off from inside the guest over SSH) the watchdog reverts the VM to its
// "ready" snapshot within the timeout and a few seconds: a file written after the snapshot is
// gone and heartbeats resume. Maintenance: silence does nothing. A killed QEMU is recovered; a
// VM stopped through the API stays stopped; a second watched VM stays untouched throughout and
// is then recovered with the guest-agent probe. Prints the figures bench/watch.sh reports.
#include "guest_ssh.hpp"
#include "paddockd_site.hpp"

#include "paddock/core/ssh_client.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

using namespace paddock::test;
using Clock = std::chrono::steady_clock;

namespace {

constexpr double kTimeoutS = 8;  // the template's heartbeat_timeout_s

paddock::Result<paddock::SshCommandResult> tryRun(const paddock::SshEndpoint& endpoint, const std::string& command) {
    return paddock::runSshCommand(endpoint, command, std::chrono::seconds(60));
}

// The guest's heartbeat loop on or off, from inside the guest (guest-scripts/README.md).
void heartbeats(const paddock::SshEndpoint& guest, bool on) {
    runInGuest(guest, on ? "sudo -n rm -f /run/paddock-heartbeat.disabled" : "sudo -n touch /run/paddock-heartbeat.disabled");
}

rapidjson::Document watchOf(PaddockdFixture& paddockd, const std::string& vm) {
    return paddockd.getJson("/api/v1/vms/" + vm + "/watch");
}

std::string stateOf(PaddockdFixture& paddockd, const std::string& vm) {
    auto w = watchOf(paddockd, vm);
    return w["state"].IsString() ? w["state"].GetString() : "";
}

int revertsOf(PaddockdFixture& paddockd, const std::string& vm) { return watchOf(paddockd, vm)["reverts"].GetInt(); }

// Waits up to `timeoutS` for `condition`; the seconds it took.
template <class Condition>
double waitFor(const char* what, double timeoutS, Condition condition) {
    const auto t0 = Clock::now();
    while (secondsSince(t0) < timeoutS) {
        if (condition()) return secondsSince(t0);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    FAIL("not within " << timeoutS << " s: " << what);
    return 0;
}

std::string qemuPid(const std::string& vm) {
    std::ifstream in("/run/libvirt/qemu/" + vm + ".pid");
    std::string pid;
    in >> pid;
    return pid;
}

}  // namespace

TEST_CASE("watching real guests: heartbeat loss, maintenance, a killed QEMU, an API stop, two VMs",
          "[e2e][watch]") {
    requireLibvirt("qemu:///system");
    const std::string a = "pdk-wa-" + std::to_string(::getpid());
    const std::string b = "pdk-wb-" + std::to_string(::getpid());
    DomainSweeper sweepA{a};
    DomainSweeper sweepB{b};
    auto options = guestOptions(26000, 26999, 30);
    options.sites.front().templates.front().watch =
        "{heartbeat_timeout_s: 8, startup_grace_s: 3, startup_max_wait_s: 240, revert_on_start: false}";
    PaddockdFixture paddockd(options);

    for (const auto& name : {a, b})
        REQUIRE(paddockd.call("POST", "/api/v1/vms", R"({"name":")" + name + R"("})").status == 201);
    auto t0 = Clock::now();
    const auto guestA = guestEndpoint(paddockd, waitReady(paddockd, a, 300)["vm"]["ssh"]);
    const auto guestB = guestEndpoint(paddockd, waitReady(paddockd, b, 300)["vm"]["ssh"]);
    // The guests' own heartbeat units, token-less from 10.0.2.2 (127.0.0.1 here), arm both watchdogs.
    const double firstHeartbeatS =
        secondsSince(t0) + waitFor("both guests' first heartbeats", 120, [&] {
            return stateOf(paddockd, a) == "healthy" && stateOf(paddockd, b) == "healthy";
        });
    CHECK(watchOf(paddockd, a)["source"].GetString() == std::string("template"));
    CHECK(runInGuest(guestA, "cat /proc/cmdline").find("paddock.heartbeat=http://10.0.2.2:") != std::string::npos);

    for (const auto& name : {a, b}) {
        auto snap = paddockd.call("POST", "/api/v1/vms/" + name + "/snapshots", R"({"name":"ready"})");
        INFO(snap.body);
        REQUIRE(snap.status == 201);
    }

    // 1. The artwork hangs: heartbeats stop from inside the guest. Reverted within the timeout and
    //    a few seconds; the file written after the snapshot is gone; heartbeats resume.
    runInGuest(guestA, "echo after-the-snapshot > ~/late && sync");
    heartbeats(guestA, false);
    t0 = Clock::now();
    const double detectS = waitFor("the revert of A", kTimeoutS + 15, [&] { return revertsOf(paddockd, a) == 1; });
    CHECK(detectS <= kTimeoutS + 6);
    const double healthyAgainS =
        detectS + waitFor("A's heartbeats after the revert", 180, [&] { return stateOf(paddockd, a) == "healthy"; });
    auto lateFile = tryRun(guestA, "test -e ~/late");
    REQUIRE(lateFile.ok());
    CHECK(lateFile->exit_status != 0);
    {
        auto w = watchOf(paddockd, a);
        bool timeoutDecision = false;
        for (const auto& d : w["decisions"].GetArray())
            if (std::string(d["reason"].GetString()).find("no heartbeat for") != std::string::npos) timeoutDecision = true;
        CHECK(timeoutDecision);
    }
    CHECK(paddockd.metric("paddock_watch_reverts_total{reason=\"heartbeat_timeout\",site=\"system\",vm=\"" + a +
                          "\"}") == 1);

    // 2. Maintenance: heartbeats stop and nothing happens.
    auto maintenance = paddockd.call("POST", "/api/v1/vms/" + a + "/watch", R"({"auto_revert":false})");
    REQUIRE(maintenance.status == 200);
    heartbeats(guestA, false);
    std::this_thread::sleep_for(std::chrono::duration<double>(kTimeoutS + 6));
    CHECK(revertsOf(paddockd, a) == 1);
    CHECK(runInGuest(guestA, "echo still-here").find("still-here") != std::string::npos);
    REQUIRE(paddockd.call("POST", "/api/v1/vms/" + a + "/watch", R"({"auto_revert":true})").status == 200);
    heartbeats(guestA, true);
    waitFor("A's heartbeats after maintenance", 60, [&] { return stateOf(paddockd, a) == "healthy"; });

    // 3. QEMU killed: the VM is recovered from its snapshot.
    const std::string pid = qemuPid(a);
    REQUIRE_FALSE(pid.empty());
    REQUIRE(std::system(("kill -9 " + pid).c_str()) == 0);
    t0 = Clock::now();
    const double killRecoveredS =
        waitFor("A running again after QEMU was killed", 120, [&] {
            return revertsOf(paddockd, a) == 2 &&
                   std::string(paddockd.getJson("/api/v1/vms/" + a)["vm"]["state"].GetString()) == "running";
        });
    CHECK(paddockd.metric("paddock_watch_reverts_total{reason=\"vm_down\",site=\"system\",vm=\"" + a + "\"}") == 1);
    waitFor("A's heartbeats after the kill", 180, [&] { return stateOf(paddockd, a) == "healthy"; });

    // 4. Stopped through the API: it stays stopped.
    auto stopped = paddockd.call("POST", "/api/v1/vms/" + a + "/stop", "{}");
    REQUIRE(stopped.status == 200);
    std::this_thread::sleep_for(std::chrono::duration<double>(kTimeoutS + 6));
    CHECK(std::string(paddockd.getJson("/api/v1/vms/" + a)["vm"]["state"].GetString()) == "shut off");
    CHECK(stateOf(paddockd, a) == "stopped");
    CHECK(revertsOf(paddockd, a) == 2);

    // 5. B was never touched; then B asks for a revert itself and is watched with the agent probe.
    CHECK(revertsOf(paddockd, b) == 0);
    CHECK(stateOf(paddockd, b) == "healthy");
    REQUIRE(paddockd.call("POST", "/api/v1/vms/" + b + "/watch", R"({"probe":"agent"})").status == 200);
    auto asked = paddockd.call("POST", "/api/v1/vms/" + b + "/revert-request", R"({"reason":"e2e","severity":"info"})",
                               std::string());
    INFO(asked.body);
    REQUIRE(asked.status == 202);
    t0 = Clock::now();
    const double agentS = waitFor("B's guest agent after its revert", 120, [&] {
        auto w = watchOf(paddockd, b);
        for (const auto& d : w["decisions"].GetArray())
            if (std::string(d["reason"].GetString()).find("the probe answered") != std::string::npos) return true;
        return false;
    });
    CHECK(revertsOf(paddockd, b) == 1);

    std::printf("watch figures: boot to first heartbeat %.1f s, heartbeat loss to revert %.1f s (timeout %.0f s), "
                "to heartbeats again %.1f s, killed QEMU to running %.1f s, revert to agent answer %.1f s\n",
                firstHeartbeatS, detectS, kTimeoutS, healthyAgainS, killRecoveredS, agentS);
}
