// What the qemu:///system tests share: a private paddockd (PaddockdFixture) on a free loopback
// port talking to qemu:///system, with its own state and log directories and a fixed admin
// token; and the guest image's paths from run_e2e.sh.
#pragma once

#include "paddockd_fixture.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace paddock::test {

// A PADDOCK_GUEST_* path that run_e2e.sh exports after building (or reusing) the guest image.
inline std::string guestEnv(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0')
        throw std::runtime_error(std::string(name) + " is not set: run this test through run_e2e.sh");
    return v;
}

// The lines `command` printed, without blank ones.
inline std::vector<std::string> outputLines(const std::string& command) {
    std::vector<std::string> lines;
    std::istringstream in(commandOutput(command));
    for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
        if (!line.empty()) lines.push_back(line);
    }
    return lines;
}

// Every qemu:///system domain (any state) whose name starts with `prefix`.
inline std::vector<std::string> systemDomains(const std::string& prefix) {
    return outputLines("virsh -q -c qemu:///system list --all --name | grep '^" + prefix + "'");
}

// Every volume of qemu:///system's storage pool `pool` whose name starts with `prefix`.
inline std::vector<std::string> systemVolumes(const std::string& pool, const std::string& prefix) {
    std::vector<std::string> names;
    for (const auto& line : outputLines("virsh -q -c qemu:///system vol-list " + pool)) {
        const std::string name = line.substr(0, line.find(' '));
        if (name.rfind(prefix, 0) == 0) names.push_back(name);
    }
    return names;
}

// Whatever a test leaves on qemu:///system under `prefix` (domains with their storage and
// managed saves, volumes of the pool "paddock") goes, once paddockd has stopped: declare it
// before the PaddockdFixture.
struct DomainSweeper {
    std::string prefix;
    ~DomainSweeper() {
        for (const auto& name : systemDomains(prefix)) {
            (void)std::system(("virsh -q -c qemu:///system destroy '" + name + "' >/dev/null 2>&1").c_str());
            (void)std::system(("virsh -q -c qemu:///system undefine '" + name +
                               "' --managed-save --snapshots-metadata --checkpoints-metadata --remove-all-storage >/dev/null 2>&1")
                                  .c_str());
        }
        for (const auto& volume : systemVolumes("paddock", prefix))
            (void)std::system(
                ("virsh -q -c qemu:///system vol-delete --pool paddock '" + volume + "' >/dev/null 2>&1").c_str());
    }
};

inline double secondsSince(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Polls GET /api/v1/vms/{name} until readiness is "ready" (the VM's answer then); fails the
// test on "unreachable" or after `timeoutS`.
inline rapidjson::Document waitReady(PaddockdFixture& paddockd, const std::string& name, int timeoutS) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutS);
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
        auto reply = paddockd.call("GET", "/api/v1/vms/" + name);
        REQUIRE(reply.status == 200);
        auto doc = reply.json();
        last = reply.body;
        const std::string readiness = doc["vm"]["readiness"].GetString();
        if (readiness == "ready") return doc;
        INFO(last);
        REQUIRE(readiness != "unreachable");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    FAIL("not ready within " << timeoutS << " s: " << last);
    return {};
}

// One site "system" on qemu:///system with the storage pool "paddock" (scripts/setup.sh); the
// caller adds what its test needs to sites.front().
inline DaemonOptions systemOptions() {
    DaemonOptions options;
    options.tokens = {{"e2e", "integration-token-0123456789", "admin"}};
    SiteOptions& site = options.sites.front();
    site.name = "system";
    site.uri = "qemu:///system";
    site.storage_pool = "paddock";
    site.network_mode.clear();
    return options;
}

// systemOptions() for the real guest built by scripts/build-guest-image.sh: template "debian"
// (512 MiB), user-mode networking with SSH forwards in [sshPortMin, sshPortMax], 300 s to ready.
inline DaemonOptions guestOptions(uint16_t sshPortMin, uint16_t sshPortMax, unsigned stopTimeoutS) {
    auto options = systemOptions();
    SiteOptions& site = options.sites.front();
    site.network_mode = "user";
    site.ssh_port_min = sshPortMin;
    site.ssh_port_max = sshPortMax;
    site.stop_timeout_s = stopTimeoutS;
    site.ready_timeout_s = 300;
    site.templates = {{.name = "debian",
                       .base_image = guestEnv("PADDOCK_GUEST_IMAGE"),
                       .kernel = guestEnv("PADDOCK_GUEST_KERNEL"),
                       .initrd = guestEnv("PADDOCK_GUEST_INITRD"),
                       .cmdline = guestEnv("PADDOCK_GUEST_CMDLINE"),
                       .memory_mb = 512}};
    // The repository's playbook, offline (loopback only), with one extra port let in.
    site.templates.front().provision = "{playbook: '" + sourceDir() +
                                       "/ansible/playbooks/configure_vm.yml', timeout_s: 600, "
                                       "extra_vars: {offline: true, firewall_allowed_ports: [8081]}}";
    return options;
}

}  // namespace paddock::test
