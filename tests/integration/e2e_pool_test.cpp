// End to end on qemu:///system with the real guest (PADDOCK_GUEST_* from run_e2e.sh): a pool
// of 2 in saved mode fills (boot until SSH answers, then libvirt managed save), an allocation
// restores one and hands out a lease whose SSH target works with Paddock's key, the release
// destroys it with its overlay, the pool refills, and the next student sees a fresh disk.
// Beside it a paused pool of 1 (booted until SSH answers, then paused): its allocation resumes
// the VM and the lease's SSH target works at once.
#include "guest_ssh.hpp"
#include "paddockd_site.hpp"

#include "paddock/core/ssh_client.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

using namespace paddock::test;
using Clock = std::chrono::steady_clock;

namespace {

rapidjson::Document waitForIdle(PaddockdFixture& paddockd, const std::string& pool, unsigned idle, int timeoutS) {
    const auto deadline = Clock::now() + std::chrono::seconds(timeoutS);
    std::string last;
    while (Clock::now() < deadline) {
        auto reply = paddockd.call("GET", "/api/v1/pools/" + pool);
        REQUIRE(reply.status == 200);
        last = reply.body;
        auto doc = reply.json();
        if (doc["recovered"].GetBool() && doc["idle"].GetUint() == idle && doc["booting"].GetUint() == 0) return doc;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    FAIL("pool " << pool << " did not reach " << idle << " idle VMs within " << timeoutS << " s: " << last);
    return {};
}

}  // namespace

TEST_CASE("a saved-mode pool of real guests: fill, allocate to SSH, release, refill", "[e2e][pool]") {
    requireLibvirt("qemu:///system");
    const auto total = Clock::now();
    const std::string pool = "pdk-e2e-pool-" + std::to_string(::getpid());
    DomainSweeper sweeper{pool + "-"};
    auto options = guestOptions(24000, 24499, 30);
    const std::string paused = pool + "-p";
    options.sites.front().pools = {
        {.name = pool, .template_name = "debian", .mode = "saved", .min_idle = 2, .max_total = 3},
        {.name = paused, .template_name = "debian", .mode = "paused", .min_idle = 1, .max_total = 1}};
    PaddockdFixture paddockd(options);

    auto t0 = Clock::now();
    waitForIdle(paddockd, pool, 2, 600);
    const double fill = secondsSince(t0);
    waitForIdle(paddockd, paused, 1, 600);

    // Paused: resumed by the allocation, SSH-ready before the answer.
    t0 = Clock::now();
    auto resumed = paddockd.call("POST", "/api/v1/pools/" + paused + "/allocate", R"({"owner":"student-p"})");
    {
        INFO(resumed.body);
        REQUIRE(resumed.status == 200);
    }
    const double resumeToReady = secondsSince(t0);
    const auto pausedLease = resumed.json();
    auto answered = paddock::runSshCommand(guestEndpoint(paddockd, pausedLease["ssh"]), "uname -s",
                                           std::chrono::seconds(60));
    REQUIRE(answered.ok());
    CHECK(answered->output.find("Linux") != std::string::npos);
    // Held to the end: with max_total 1 nothing refills that pool while the saved one is timed.
    auto status = paddockd.call("GET", "/pool/status");
    REQUIRE(status.status == 200);
    const auto statusDoc = status.json();
    for (const auto& vm : statusDoc.GetArray()) CHECK(std::string(vm["state"].GetString()) == "shut off");

    // Allocate: restored from the managed save, SSH-ready before the answer.
    t0 = Clock::now();
    auto first = paddockd.call("POST", "/api/v1/pools/" + pool + "/allocate", R"({"owner":"student-1","ttl_s":600})");
    {
        INFO(first.body);
        REQUIRE(first.status == 200);
    }
    const double allocateToReady = secondsSince(t0);
    const auto lease = first.json();
    const std::string vm = lease["vm"].GetString();
    const auto endpoint = guestEndpoint(paddockd, lease["ssh"]);
    t0 = Clock::now();
    auto marked =
        paddock::runSshCommand(endpoint, "uname -s && touch ~/last-student-was-here", std::chrono::seconds(60));
    REQUIRE(marked.ok());
    const double firstCommand = secondsSince(t0);
    CHECK(marked->exit_status == 0);
    CHECK(marked->output.find("Linux") != std::string::npos);
    auto vmReply = paddockd.call("GET", "/api/v1/vms/" + vm);
    REQUIRE(vmReply.status == 200);
    const std::string disk = vmReply.json()["vm"]["disk"].GetString();
    CHECK(std::filesystem::exists(disk));

    // Release: VM and overlay gone, the pool refills.
    REQUIRE(paddockd.call("DELETE", "/api/v1/leases/" + std::string(lease["id"].GetString())).status == 200);
    CHECK(paddockd.call("GET", "/api/v1/vms/" + vm).status == 404);
    CHECK_FALSE(std::filesystem::exists(disk));
    t0 = Clock::now();
    waitForIdle(paddockd, pool, 2, 600);
    const double refill = secondsSince(t0);

    // The next student gets a fresh disk.
    auto second = paddockd.call("POST", "/api/v1/pools/" + pool + "/allocate", R"({"owner":"student-2"})");
    REQUIRE(second.status == 200);
    auto fresh = paddock::runSshCommand(guestEndpoint(paddockd, second.json()["ssh"]),
                                        "ls ~/last-student-was-here 2>/dev/null | wc -l", std::chrono::seconds(60));
    REQUIRE(fresh.ok());
    std::string count = fresh->output;
    while (!count.empty() && std::isspace(static_cast<unsigned char>(count.back()))) count.pop_back();
    CHECK(count == "0");  // wc -l counted no file (exactly: "10" has a '0' too)
    REQUIRE(paddockd.call("DELETE", "/api/v1/leases/" + std::string(second.json()["id"].GetString())).status == 200);
    REQUIRE(paddockd.call("DELETE", "/api/v1/leases/" + std::string(pausedLease["id"].GetString())).status == 200);

    std::printf(
        "e2e_pool: fill 2 saved VMs %.1f s, allocate->SSH-ready %.1f s (first command %.1f s), refill %.1f s, "
        "paused allocate->SSH-ready %.2f s, test wall time %.1f s\n",
        fill, allocateToReady, firstCommand, refill, resumeToReady, secondsSince(total));
}
