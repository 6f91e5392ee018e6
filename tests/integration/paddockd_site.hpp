// What the qemu:///system tests share: a private paddockd (PaddockdFixture) on a free loopback
// port talking to qemu:///system, with its own state and log directories and a fixed admin
// token; and the guest image's paths from run_e2e.sh.
#pragma once

#include "paddockd_fixture.hpp"

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace paddock::test {

// A PADDOCK_GUEST_* path that run_e2e.sh exports after building (or reusing) the guest image.
inline std::string guestEnv(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') throw std::runtime_error(std::string(name) + " is not set: run this test through run_e2e.sh");
    return v;
}

inline double secondsSince(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
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
    return options;
}

}  // namespace paddock::test
