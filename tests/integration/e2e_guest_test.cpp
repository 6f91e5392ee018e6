// End to end with a real guest: the Debian image from scripts/build-guest-image.sh (paths in
// PADDOCK_GUEST_* from run_e2e.sh) boots under qemu:///system from a POST, becomes ready, runs
// a command over SSH with Paddock's own key, powers off by ACPI, restarts, and is deleted with
// its overlay while the base image stays byte-for-byte the same. Between, Paddock provisions it
// with ansible/playbooks/configure_vm.yml (twice: the second run changes nothing) and UFW is
// checked with real packets, before and after a reboot. Memory the guest frees goes back to
// the host (free page reporting through the balloon).
#include "guest_firewall.hpp"
#include "paddockd_site.hpp"
#include "secret_scan.hpp"
#include "terminal_client.hpp"

#include "paddock/core/ssh_client.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace paddock::test;
using Clock = std::chrono::steady_clock;

namespace {

std::string sha256(const std::string& path) { return commandOutput("sha256sum '" + path + "'").substr(0, 64); }

// The resident memory of a running domain's qemu process in MiB (0 when it cannot be read).
long qemuRssMib(const std::string& domain) {
    std::ifstream pidFile("/var/run/libvirt/qemu/" + domain + ".pid");
    long pid = 0;
    if (!(pidFile >> pid) || pid <= 0) return 0;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) / 1024;
    return 0;
}

}  // namespace

TEST_CASE("a real guest boots from the API, answers SSH, powers off by ACPI and is cleaned up", "[e2e]") {
    requireLibvirt("qemu:///system");
    const std::string image = guestEnv("PADDOCK_GUEST_IMAGE");
    const std::string before = sha256(image);
    const auto total = Clock::now();

    PaddockdFixture paddockd(guestOptions(23000, 23999, 90));
    const std::string name = "pdk-e2e-" + std::to_string(::getpid());

    auto t0 = Clock::now();
    auto created = paddockd.call("POST", "/api/v1/vms", R"({"name":")" + name + R"(","owner":"student-1"})");
    {
        INFO(created.body);
        REQUIRE(created.status == 201);
    }
    const std::string disk = created.json()["vm"]["disk"].GetString();
    REQUIRE(std::filesystem::exists(disk));

    auto readyDoc = waitReady(paddockd, name, 300);
    const double createToReady = secondsSince(t0);
    const auto& ready = readyDoc["vm"];
    REQUIRE(ready["ssh"].IsObject());
    CHECK(std::string(ready["ssh"]["host"].GetString()) == "127.0.0.1");
    const auto sshPort = static_cast<uint16_t>(ready["ssh"]["port"].GetUint());
    CHECK(sshPort >= 23000);
    CHECK(sshPort <= 23999);

    const paddock::SshEndpoint endpoint{"127.0.0.1",
                                        sshPort,
                                        "student",
                                        paddockd.stateDir() + "/ssh/id_ed25519",
                                        paddockd.stateDir() + "/ssh/id_ed25519.pub",
                                        {}};
    auto uname = paddock::runSshCommand(endpoint, "uname -a", std::chrono::seconds(30));
    REQUIRE(uname.ok());
    CHECK(uname->exit_status == 0);
    CHECK(uname->output.find("Linux") != std::string::npos);
    // Host keys are made on the guest's first boot, never baked into the image.
    CHECK(uname->host_key.fingerprint == std::string(ready["host_key"]["fingerprint"].GetString()));

    // Free page reporting: 200 MiB the guest touches and frees again (`tail` holds one 200 MiB
    // "line") show in qemu's RSS while held, and leave it within seconds of being freed.
    {
        const long rssBefore = qemuRssMib(name);
        REQUIRE(rssBefore > 0);
        std::atomic<long> peak{rssBefore};
        std::atomic<bool> sampling{true};
        std::thread sampler([&] {
            while (sampling) {
                peak = std::max(peak.load(), qemuRssMib(name));
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        });
        auto held = paddock::runSshCommand(endpoint, "head -c 200M /dev/zero | tail -n 1 | wc -c",
                                           std::chrono::seconds(60));
        sampling = false;
        sampler.join();
        REQUIRE(held.ok());
        CHECK(held->output.find("209715200") != std::string::npos);
        INFO("qemu RSS before " << rssBefore << " MiB, peak " << peak.load() << " MiB, now " << qemuRssMib(name));
        CHECK(peak.load() >= rssBefore + 150);
        CHECK(eventually([&] { return qemuRssMib(name) < peak.load() - 120; }, std::chrono::seconds(30)));
        std::printf("free page reporting: qemu RSS %ld MiB, %ld MiB while the guest held 200 MiB, %ld MiB after\n",
                    rssBefore, peak.load(), qemuRssMib(name));
    }

    // Paddock provisions the real guest with the repository's playbook through real
    // ansible-playbook (POST /api/v1/vms/{name}/provision), offline, with one extra port let in
    // (8081), and a become password set (the guest's sudo needs none; it must reach sudo and
    // nothing else). Before it, two servers in the guest (8080, 8081) answer through forwards
    // added at run time; after it, UFW lets only 8081 through. A second run changes nothing.
    // Paddock names the libvirt domain after the VM.
    const ForwardedServer denied = startForwardedServer(endpoint, name, 8080);
    const ForwardedServer allowed = startForwardedServer(endpoint, name, 8081);
    REQUIRE(denied.answers());  // without this, its silence below would prove nothing
    REQUIRE(allowed.answers());
    const std::string password = "e2e-become-" + std::to_string(::getpid()) + "-p4ss";
    REQUIRE(paddockd.call("POST", "/api/v1/provisioner/secret", R"({"password":")" + password + R"("})").status ==
            200);
    {
        const auto provision = [&](const std::string& run) {
            const auto t = Clock::now();
            ProcessScanner scan(password, "ansible-playbook", 200);  // gently: the guest needs the CPU
            const auto queued = paddockd.call("POST", "/api/v1/vms/" + name + "/provision");
            INFO(queued.body);
            REQUIRE(queued.status == 202);
            const std::string id = queued.json()["operation"]["id"].GetString();
            rapidjson::Document op;
            REQUIRE(eventually(
                [&] {
                    op = paddockd.call("GET", "/api/v1/operations/" + id).json();
                    const std::string state = op["state"].GetString();
                    return state != "queued" && state != "running";
                },
                std::chrono::seconds(900)));
            scan.stop();
            std::printf("e2e: provisioning with configure_vm.yml, %s run %.1f s\n", run.c_str(), secondsSince(t));
            const std::string output = paddockd.call("GET", "/api/v1/operations/" + id + "/output?follow=false").body;
            INFO(output);
            REQUIRE(std::string(op["state"].GetString()) == "succeeded");
            CHECK(scan.hits().empty());
            CHECK(scan.watchedSeen() > 0);
            CHECK(output.find(password) == std::string::npos);
            const PlayRecap recap = playRecap(output);
            REQUIRE(recap.found);
            CHECK(recap.failed == 0);
            CHECK(recap.unreachable == 0);
            CHECK(op["result"]["changed"].GetInt() == recap.changed);
            return recap;
        };
        CHECK(provision("first").changed > 0);
        CHECK(provision("second").changed == 0);  // idempotent
        const auto vm = paddockd.call("GET", "/api/v1/vms/" + name).json();
        CHECK(std::string(vm["vm"]["provisioning"]["state"].GetString()) == "succeeded");
        CHECK(filesContaining(paddockd.dir().path(), password).empty());
    }
    checkUfwDeniesIncoming(ufwStatus(endpoint), {8081});
    CHECK(allowed.answers());
    CHECK(denied.silent());
    CHECK(guestBanner(endpoint, 8080) == denied.banner);  // still up: the firewall kept it out
    {
        auto configured = paddock::runSshCommand(
            endpoint,
            "cat /etc/motd; test -f ~/lab/WELCOME.md && echo welcome-ok; "
            "stat -c '%U:%G %a %n' ~/lab/firewall-exercise.md ~/lab/listen.py",
            std::chrono::seconds(30));
        REQUIRE(configured.ok());
        INFO(configured->output);
        CHECK(configured->output.find("Paddock lab VM " + name) != std::string::npos);
        CHECK(configured->output.find("welcome-ok") != std::string::npos);
        CHECK(configured->output.find("student:student 644 /home/student/lab/firewall-exercise.md") != std::string::npos);
        CHECK(configured->output.find("student:student 755 /home/student/lab/listen.py") != std::string::npos);
    }

    // The browser terminal reaches the guest's shell with a one-time console ticket.
    {
        auto console = paddockd.call("POST", "/api/v1/vms/" + name + "/console");
        REQUIRE(console.status == 201);
        const std::string ticket = console.json()["ticket"].GetString();
        TerminalClient term(paddockd.openWebSocket("/api/v1/vms/" + name + "/terminal?ticket=" + ticket));
        const auto opened = term.nextControl(std::chrono::seconds(60));
        REQUIRE(opened.has_value());
        CHECK(opened->find("\"session\"") != std::string::npos);
        term.type("echo paddock-e2e | tr a-z A-Z\n");  // the output differs from the typed echo
        CHECK(term.waitFor("PADDOCK-E2E", std::chrono::seconds(60)));
        term.type("exit\n");
        CHECK(term.waitClosed(std::chrono::seconds(30)));
    }

    // Graceful: the guest powers itself off on the ACPI power button.
    t0 = Clock::now();
    auto stopped = paddockd.call("POST", "/api/v1/vms/" + name + "/stop");
    REQUIRE(stopped.status == 200);
    CHECK(std::string(stopped.json()["outcome"].GetString()) == "graceful");
    const double acpiStop = secondsSince(t0);

    t0 = Clock::now();
    REQUIRE(paddockd.call("POST", "/api/v1/vms/" + name + "/start").status == 200);
    CHECK(paddockd.call("POST", "/api/v1/vms/" + name + "/start").status == 409);
    waitReady(paddockd, name, 300);
    const double startToReady = secondsSince(t0);
    auto again = paddock::runSshCommand(endpoint, "cat /proc/uptime", std::chrono::seconds(30));
    REQUIRE(again.ok());
    // UFW's rules hold across the reboot (paddock-init loads them). The forwards went with the
    // old QEMU process, the servers with the old guest: new ones, the same verdicts.
    checkUfwDeniesIncoming(ufwStatus(endpoint), {8081});
    {
        const ForwardedServer deniedAfterBoot = startForwardedServer(endpoint, name, 8080);
        const ForwardedServer allowedAfterBoot = startForwardedServer(endpoint, name, 8081);
        CHECK(allowedAfterBoot.answers());
        CHECK(deniedAfterBoot.silent());
    }

    REQUIRE(paddockd.call("DELETE", "/api/v1/vms/" + name).status == 200);
    CHECK_FALSE(std::filesystem::exists(disk));
    CHECK(paddockd.call("GET", "/api/v1/vms/" + name).status == 404);
    CHECK(sha256(image) == before);

    std::printf("e2e: create->ready %.1f s, ACPI stop %.1f s, start->ready %.1f s, test wall time %.1f s\n",
                createToReady, acpiStop, startToReady, secondsSince(total));
}
