// End to end with a real guest: the Debian image from scripts/build-guest-image.sh (paths in
// PADDOCK_GUEST_* from run_e2e.sh) boots under qemu:///system from a POST, becomes ready, runs
// a command over SSH with Paddock's own key, powers off by ACPI, restarts, and is deleted with
// its overlay while the base image stays byte-for-byte the same.
#include "paddockd_site.hpp"
#include "terminal_client.hpp"

#include "paddock/core/ssh_client.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

using namespace paddock::test;
using Clock = std::chrono::steady_clock;

namespace {

std::string sha256(const std::string& path) { return commandOutput("sha256sum '" + path + "'").substr(0, 64); }

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

    // The repository's playbook configures the real guest through real ansible-playbook, with
    // Paddock's key (no password anywhere).
    {
        TempDir scratch;
        const std::string log = scratch.file("ansible.log");
        const std::string cmd =
            "ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_PIPELINING=True ANSIBLE_NOCOLOR=1 ANSIBLE_LOCAL_TEMP=" +
            scratch.path() + " ansible-playbook -i '127.0.0.1,' -e ansible_port=" + std::to_string(sshPort) +
            " -e ansible_python_interpreter=/usr/bin/python3 -e vm_name=" + name + " -u student --private-key " +
            endpoint.private_key_path + " " + sourceDir() + "/ansible/playbooks/configure_vm.yml >" + log + " 2>&1";
        const auto t = Clock::now();
        const int rc = std::system(cmd.c_str());
        INFO(readFile(log));
        REQUIRE(rc == 0);
        std::printf("e2e: ansible-playbook configure_vm.yml %.1f s\n", secondsSince(t));
        auto configured = paddock::runSshCommand(endpoint, "cat /etc/motd; test -f ~/lab/WELCOME.md && echo welcome-ok",
                                                 std::chrono::seconds(30));
        REQUIRE(configured.ok());
        CHECK(configured->output.find("Paddock lab VM " + name) != std::string::npos);
        CHECK(configured->output.find("welcome-ok") != std::string::npos);
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

    REQUIRE(paddockd.call("DELETE", "/api/v1/vms/" + name).status == 200);
    CHECK_FALSE(std::filesystem::exists(disk));
    CHECK(paddockd.call("GET", "/api/v1/vms/" + name).status == 404);
    CHECK(sha256(image) == before);

    std::printf("e2e: create->ready %.1f s, ACPI stop %.1f s, start->ready %.1f s, test wall time %.1f s\n",
                createToReady, acpiStop, startToReady, secondsSince(total));
}
