// A standby paddockd takes over (issue 16): Paddock's state is in libvirt (each domain's
// metadata), so a second paddockd with the same config, its own state_dir and only a copy of the
// first one's SSH key (<state_dir>/ssh/) carries on where a SIGKILLed one stopped. paddockd #1 on
// qemu:///system has a running-mode pool of the real guest (PADDOCK_GUEST_* from run_e2e.sh)
// with a lease and a plain VM; it is killed right after the allocation, before its refill is
// done. #2 lists the plain VM, the pool and the lease (same id, VM, owner, expiry), opens the
// leased guest's browser terminal with the copied key, and refills the pool to min_idle.
// The key is what a standby must share: Paddock puts its public key on each guest's kernel command
// line when it defines the VM, so guests made before the takeover accept that key only, and the
// terminal, readiness probe and provisioning log in with it. (Without the copy the standby still
// lists, recovers and refills everything, but the leased guest's terminal fails with "Username/
// PublicKey combination invalid".)
#include "paddockd_site.hpp"
#include "terminal_client.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

using namespace paddock::test;
using Clock = std::chrono::steady_clock;

namespace {

// GET /api/v1/pools/{pool} once the pool is recovered with `idle` idle VMs and none booting.
rapidjson::Document waitForIdle(PaddockdFixture& paddockd, const std::string& pool, unsigned idle, int timeoutS) {
    rapidjson::Document doc;
    std::string last;
    const bool reached = eventually(
        [&] {
            const auto reply = paddockd.call("GET", "/api/v1/pools/" + pool);
            last = reply.body;
            if (reply.status != 200) return false;
            doc = reply.json();
            return doc["recovered"].GetBool() && doc["idle"].GetUint() == idle && doc["booting"].GetUint() == 0;
        },
        std::chrono::seconds(timeoutS), std::chrono::milliseconds(500));
    INFO(last);
    REQUIRE(reached);
    return doc;
}

// The entry of GET /api/v1/leases with `id` (REQUIREs it).
rapidjson::Document leaseById(PaddockdFixture& paddockd, const std::string& id) {
    const auto leases = paddockd.getJson("/api/v1/leases");
    for (const auto& lease : leases["leases"].GetArray()) {
        if (jsonString(lease["id"]) != id) continue;
        rapidjson::Document doc;
        doc.CopyFrom(lease, doc.GetAllocator());
        return doc;
    }
    FAIL("no lease " << id << " in GET /api/v1/leases");
    return {};
}

}  // namespace

TEST_CASE("a standby paddockd with the same config and a copy of the SSH key takes over a killed one",
          "[e2e][standby]") {
    requireLibvirt("qemu:///system");
    const auto total = Clock::now();
    const std::string prefix = "pdk-sb-" + std::to_string(::getpid());
    const std::string pool = prefix + "-pool";
    const std::string plain = prefix + "-plain";
    DomainSweeper sweeper{prefix};

    auto options = guestOptions(24800, 24899, 10);
    SiteOptions& site = options.sites.front();
    site.templates.push_back({.name = "tiny", .kernel = guestEnv("PADDOCK_GUEST_KERNEL"), .memory_mb = 64});
    site.pools = {{.name = pool, .template_name = "debian", .mode = "running", .min_idle = 1, .max_total = 3}};

    PaddockdFixture first(options);
    auto t0 = Clock::now();
    waitForIdle(first, pool, 1, 300);
    const double fill = secondsSince(t0);
    {
        const auto created = first.call(
            "POST", "/api/v1/vms", R"({"name":")" + plain + R"(","template":"tiny","owner":"teacher","start":false})");
        INFO(created.body);
        REQUIRE(created.status == 201);
    }
    const auto allocated =
        first.call("POST", "/api/v1/pools/" + pool + "/allocate", R"({"owner":"student-1","ttl_s":3600})");
    INFO(allocated.body);
    REQUIRE(allocated.status == 200);
    const auto lease = allocated.json();
    const std::string leaseId = jsonString(lease["id"]);
    const std::string leasedVm = jsonString(lease["vm"]);
    const std::string expiresAt = jsonString(lease["expires_at"]);

    // Killed at once: the pool is below min_idle, its refill under way at most.
    REQUIRE(::kill(first.pid(), SIGKILL) == 0);
    REQUIRE(first.waitExit(30) == 128 + SIGKILL);

    // The standby: the same config, its own state_dir, the first one's key and nothing else of it.
    auto standbyOptions = options;
    standbyOptions.start = false;
    PaddockdFixture standby(standbyOptions);
    std::filesystem::create_directories(standby.stateDir());
    REQUIRE(std::system(("cp -a '" + first.stateDir() + "/ssh' '" + standby.stateDir() + "/ssh'").c_str()) == 0);
    t0 = Clock::now();
    standby.start();

    // The plain VM, the leased one and the lease, as the first paddockd left them.
    {
        const auto vm = standby.getJson("/api/v1/vms/" + plain);
        CHECK(jsonString(vm["vm"]["owner"]) == "teacher");
        CHECK(jsonString(vm["vm"]["state"]) == "shut off");
        const auto leased = standby.getJson("/api/v1/vms/" + leasedVm);
        CHECK(jsonString(leased["vm"]["owner"]) == "student-1");
        CHECK(jsonString(leased["vm"]["state"]) == "running");
    }
    REQUIRE(eventually([&] { return standby.getJson("/api/v1/pools/" + pool)["recovered"].GetBool(); },
                       std::chrono::seconds(120), std::chrono::milliseconds(200)));
    {
        const auto taken = leaseById(standby, leaseId);
        CHECK(jsonString(taken["vm"]) == leasedVm);
        CHECK(jsonString(taken["owner"]) == "student-1");
        CHECK(jsonString(taken["pool"]) == pool);
        CHECK(jsonString(taken["expires_at"]) == expiresAt);
    }

    // The leased guest's terminal, through the standby with the copied key.
    {
        const auto console = standby.call("POST", "/api/v1/vms/" + leasedVm + "/console");
        INFO(console.body);
        REQUIRE(console.status == 201);
        TerminalClient term(standby.openWebSocket("/api/v1/vms/" + leasedVm +
                                                  "/terminal?ticket=" + jsonString(console.json()["ticket"])));
        const auto opened = term.nextControl(std::chrono::seconds(60));
        REQUIRE(opened.has_value());
        CHECK_THAT(*opened, Catch::Contains("\"session\""));
        term.type("echo standby-$(id -un) | tr a-z A-Z\n");
        CHECK(term.waitFor("STANDBY-STUDENT", std::chrono::seconds(60)));
        term.type("exit\n");
        CHECK(term.waitClosed(std::chrono::seconds(30)));
    }

    // The standby refills the pool to min_idle (the first one's refill, if it had begun, is
    // finished or written off; the lease's VM is not counted as idle).
    const auto refilled = waitForIdle(standby, pool, 1, 300);
    const double takeover = secondsSince(t0);
    CHECK(refilled["allocated"].GetUint() == 1);

    // The lease ends through the standby: its VM goes.
    REQUIRE(standby.call("DELETE", "/api/v1/leases/" + leaseId).status == 200);
    CHECK(standby.call("GET", "/api/v1/vms/" + leasedVm).status == 404);

    std::printf(
        "standby_takeover: pool filled by #1 in %.1f s; #2 from start to the pool refilled %.1f s; "
        "test wall time %.1f s\n",
        fill, takeover, secondsSince(total));
    std::fflush(stdout);
}
