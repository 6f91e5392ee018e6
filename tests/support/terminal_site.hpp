// A paddockd on test:///default whose VM "term" has its SSH target (user-mode forward port in
// the VM's metadata) pointing at a private sshd (SshdFixture) that accepts Paddock's own key,
// so browser terminals reach a real shell as the current user. Tokens: admin and viewer.
// Single-threaded use; everything is stopped and removed on destruction.
#pragma once

#include "daemon_process.hpp"
#include "http_client.hpp"
#include "sshd_fixture.hpp"
#include "test_support.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/WebSocket.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace paddock::test {

class TerminalSite {
public:
    TerminalSite() : port_(freeLoopbackPort()), sshPort_(freeLoopbackPort()) {
        writeFile(dir_.file("paddock.yaml"),
                  "server: {host: 127.0.0.1, port: " + std::to_string(port_) + ", threads: 8}\n"
                  "paths: {state_dir: " + dir_.file("state") + ", log_dir: " + dir_.file("logs") +
                  ", plugin_dirs: [" + pluginDir() + "], web_dir: " + sourceDir() + "/server/web}\n"
                  "auth:\n  mode: token\n  tokens:\n"
                  "    - {name: teacher-app, token: " + token() + ", role: admin}\n"
                  "    - {name: watcher, token: " + viewerToken() + ", role: viewer}\n"
                  "sites:\n  - name: local\n    backend: org.paddock.libvirt-qemu\n    uri: test:///default\n"
                  "    storage_pool: default-pool\n    network_mode: user\n    stop_timeout_s: 5\n"
                  "    ready_timeout_s: 600\n    ssh_user: " + SshdFixture::currentUser() + "\n"
                  "    ssh_port_min: " + std::to_string(sshPort_) + "\n    ssh_port_max: " + std::to_string(sshPort_) + "\n");
        paddockd_ = std::make_unique<DaemonProcess>(
            std::vector<std::string>{PADDOCKD_PATH, "--config", dir_.file("paddock.yaml")}, dir_.file("paddockd.log"), port_);
        // The VM takes the only forward port of the range, which the sshd then listens on.
        const auto created = call("POST", "/api/v1/vms", std::string(R"({"name":"term","start":true})"));
        if (created.status != 201) throw std::runtime_error("cannot create the VM: " + created.body);
        sshd_ = std::make_unique<SshdFixture>(sshPort_);
        sshd_->authorize(dir_.file("state") + "/ssh/id_ed25519.pub");
    }

    static std::string token() { return "terminal-admin-token-0123456789"; }
    static std::string viewerToken() { return "terminal-viewer-token-0123456789"; }
    uint16_t port() const noexcept { return port_; }
    uint16_t sshPort() const noexcept { return sshPort_; }
    std::string stateDir() const { return dir_.file("state"); }
    std::string logDir() const { return dir_.file("logs"); }
    SshdFixture& sshd() noexcept { return *sshd_; }
    DaemonProcess& paddockd() noexcept { return *paddockd_; }

    HttpReply call(const std::string& method, const std::string& path, std::optional<std::string> body = std::nullopt,
                   const std::string& bearer = token()) {
        HttpOptions options;
        options.token = bearer;
        options.body = std::move(body);
        return httpRequest(port_, method, path, options);
    }

    // POST /api/v1/vms/{vm}/console: the reply's JSON (ticket, websocket_url, console_url, ...).
    rapidjson::Document console(const std::string& vm = "term") {
        const auto reply = call("POST", "/api/v1/vms/" + vm + "/console");
        if (reply.status != 201) throw std::runtime_error("console ticket refused: " + reply.body);
        return reply.json();
    }
    std::string ticket(const std::string& vm = "term") { return console(vm)["ticket"].GetString(); }

    // A client WebSocket; throws Poco::Net::WebSocketException unless the server answers 101.
    std::unique_ptr<Poco::Net::WebSocket> openWebSocket(const std::string& path, const std::string& bearer = {},
                                                        const std::string& origin = {}) {
        Poco::Net::HTTPClientSession session("127.0.0.1", port_);
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path, Poco::Net::HTTPMessage::HTTP_1_1);
        if (!bearer.empty()) request.set("Authorization", "Bearer " + bearer);
        if (!origin.empty()) request.set("Origin", origin);
        Poco::Net::HTTPResponse response;
        return std::make_unique<Poco::Net::WebSocket>(session, request, response);
    }

    // The status a WebSocket upgrade request gets (101 when accepted).
    int upgradeStatus(const std::string& path, const std::string& bearer = {}, const std::string& origin = {}) {
        HttpOptions options;
        options.token = bearer;
        options.headers = {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}, {"Sec-WebSocket-Version", "13"},
                           {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
        if (!origin.empty()) options.headers.emplace_back("Origin", origin);
        return httpRequest(port_, "GET", path, options).status;
    }

private:
    TempDir dir_;
    uint16_t port_;
    uint16_t sshPort_;
    std::unique_ptr<DaemonProcess> paddockd_;
    std::unique_ptr<SshdFixture> sshd_;
};

}  // namespace paddock::test
