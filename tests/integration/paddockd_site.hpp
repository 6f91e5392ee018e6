// A private paddockd on a free loopback port talking to qemu:///system, with its own state
// and log directories, a fixed admin token, and SSH forward ports outside run.sh's range.
#pragma once

#include "daemon_process.hpp"
#include "http_client.hpp"
#include "test_support.hpp"

#include <chrono>
#include <cstdlib>
#include <memory>
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

class SystemPaddockd {
public:
    // `siteExtra`: more YAML lines for the site (indented by four spaces).
    explicit SystemPaddockd(const std::string& siteExtra) : port_(freeLoopbackPort()) {
        writeFile(dir_.file("paddock.yaml"),
                  "server: {host: 127.0.0.1, port: " + std::to_string(port_) + "}\n"
                  "paths: {state_dir: " + dir_.file("state") + ", log_dir: " + dir_.file("logs") +
                  ", plugin_dirs: [" + pluginDir() + "], web_dir: " + sourceDir() + "/server/web}\n"
                  "auth:\n  mode: token\n  tokens: [{name: e2e, token: " + token() + ", role: admin}]\n"
                  "sites:\n  - name: system\n    uri: qemu:///system\n    storage_pool: paddock\n" + siteExtra);
        process_ = std::make_unique<DaemonProcess>(
            std::vector<std::string>{PADDOCKD_PATH, "--config", dir_.file("paddock.yaml")}, dir_.file("paddockd.log"), port_);
    }

    static std::string token() { return "integration-token-0123456789"; }
    uint16_t port() const noexcept { return port_; }
    std::string stateDir() const { return dir_.file("state"); }
    std::string log() const { return process_->log(); }

    HttpReply call(const std::string& method, const std::string& path, std::optional<std::string> body = std::nullopt) {
        HttpOptions options;
        options.token = token();
        options.body = std::move(body);
        return httpRequest(port_, method, path, options);
    }

private:
    TempDir dir_;
    uint16_t port_;
    std::unique_ptr<DaemonProcess> process_;
};

}  // namespace paddock::test
