// Checking what ansible/playbooks/configure_vm.yml did to a real guest, whoever ran it (the
// e2e test runs ansible-playbook by hand; Paddock's provisioning API may run it instead):
//  - playRecap(): the PLAY RECAP counts of ansible-playbook's output (changed=0 on a second run);
//  - ufwStatus() + checkUfwDeniesIncoming(): what `sudo ufw status verbose` says;
//  - with real packets: startGuestListener() starts a TCP server in the guest that greets each
//    connection with a banner, addHostForward() forwards a free 127.0.0.1 port to it at run time
//    (QEMU user-mode networking, HMP hostfwd_add on Paddock's netdev "pdknet0"), and
//    readBanner() reads the banner on the host side. QEMU accepts the host's connection at once
//    whatever the guest does, so a firewall that drops the guest's SYN shows as "no banner
//    within the timeout" (never as a refused connection). guestBanner() reads the banner from
//    inside the guest (loopback, which UFW always lets in) to show the server is up.
// Traffic stays on 127.0.0.1 on the host and inside the guest.
#pragma once

#include "test_support.hpp"

#include "paddock/core/ssh_client.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <regex>
#include <string>
#include <vector>

namespace paddock::test {

// One host's line of ansible-playbook's PLAY RECAP (the last one when there are several).
struct PlayRecap {
    bool found = false;
    int ok = 0, changed = 0, unreachable = 0, failed = 0, skipped = 0;
};

inline PlayRecap playRecap(const std::string& log) {
    PlayRecap recap;
    const auto at = log.rfind("PLAY RECAP");
    if (at == std::string::npos) return recap;
    const std::string tail = log.substr(at);
    const auto count = [&](const char* key, int& into) {
        std::smatch m;
        if (std::regex_search(tail, m, std::regex(std::string("\\b") + key + "=([0-9]+)"))) into = std::stoi(m[1]);
    };
    recap.found = tail.find("ok=") != std::string::npos;
    count("ok", recap.ok);
    count("changed", recap.changed);
    count("unreachable", recap.unreachable);
    count("failed", recap.failed);
    count("skipped", recap.skipped);
    return recap;
}

// `sudo ufw status verbose` in the guest (REQUIREs that it ran).
inline std::string ufwStatus(const SshEndpoint& guest) {
    auto out = runSshCommand(guest, "sudo -n ufw status verbose 2>&1", std::chrono::seconds(60));
    REQUIRE(out.ok());
    INFO(out->output);
    REQUIRE(out->exit_status == 0);
    return out->output;
}

// The playbook's firewall: active, incoming denied, outgoing allowed, logging off, and an
// ALLOW IN rule for 22/tcp and each of `allowedPorts` (IPv4 and IPv6).
inline void checkUfwDeniesIncoming(const std::string& status, const std::vector<uint16_t>& allowedPorts) {
    INFO("ufw status verbose:\n" << status);
    CHECK(status.find("Status: active") != std::string::npos);
    CHECK(status.find("Logging: off") != std::string::npos);
    CHECK(std::regex_search(status, std::regex("Default: deny \\(incoming\\), allow \\(outgoing\\)")));
    std::vector<uint16_t> ports{22};
    ports.insert(ports.end(), allowedPorts.begin(), allowedPorts.end());
    for (const uint16_t port : ports) {
        INFO("port " << port);
        const std::string p = std::to_string(port);
        CHECK(std::regex_search(status, std::regex("(^|\\n)" + p + "/tcp +ALLOW IN +Anywhere *(\\n|$)")));
        CHECK(std::regex_search(status, std::regex("(^|\\n)" + p + "/tcp \\(v6\\) +ALLOW IN +Anywhere \\(v6\\)")));
    }
}

// Starts, detached from the SSH session, a python3 TCP server on `port` in the guest that
// writes `banner` and a newline to each connection and closes it. It runs until the guest stops.
inline void startGuestListener(const SshEndpoint& guest, uint16_t port, const std::string& banner) {
    const std::string script = "import socket\n"
                               "s = socket.create_server(('', " + std::to_string(port) + "))\n"
                               "while True:\n"
                               "    c, _ = s.accept()\n"
                               "    c.sendall(b'" + banner + "\\n')\n"
                               "    c.close()\n";
    const std::string command =
        "setsid -f python3 -c \"" + script + "\" </dev/null >/dev/null 2>&1; echo started";
    auto out = runSshCommand(guest, command, std::chrono::seconds(60));
    REQUIRE(out.ok());
    INFO(out->output);
    REQUIRE(out->output.find("started") != std::string::npos);
}

// The first line the guest's server on `port` writes, read inside the guest from 127.0.0.1;
// retried for up to `timeoutS` (the server needs a moment to start under TCG). Empty if none.
inline std::string guestBanner(const SshEndpoint& guest, uint16_t port, int timeoutS = 30) {
    const std::string command =
        "python3 -c \"import socket, sys, time\n"
        "end = time.time() + " + std::to_string(timeoutS) + "\n"
        "while True:\n"
        "    try:\n"
        "        print(socket.create_connection(('127.0.0.1', " + std::to_string(port) + "), 5)"
        ".makefile().readline().strip()); break\n"
        "    except OSError:\n"
        "        if time.time() > end: break\n"
        "        time.sleep(0.2)\n\"";
    auto out = runSshCommand(guest, command, std::chrono::seconds(timeoutS + 30));
    REQUIRE(out.ok());
    std::string line = out->output;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return line;
}

// Forwards a free 127.0.0.1 port to `guestPort` of the running libvirt domain `domain` (on
// qemu:///system) through its user-mode netdev pdknet0; that host port. The forward lasts as
// long as the QEMU process (a restart of the domain drops it).
inline uint16_t addHostForward(const std::string& domain, uint16_t guestPort) {
    const uint16_t hostPort = freeLoopbackPort();
    const std::string rule = "tcp:127.0.0.1:" + std::to_string(hostPort) + "-:" + std::to_string(guestPort);
    const std::string command = "virsh -q -c qemu:///system qemu-monitor-command --hmp '" + domain +
                                "' 'hostfwd_add pdknet0 " + rule + "' 2>&1; echo \"rc=$?\"";
    const std::string out = commandOutput(command);
    INFO(command << "\n" << out);
    // HMP reports its errors as text with virsh's exit status 0: success prints nothing.
    REQUIRE(out.find_first_not_of(" \r\n") == out.find("rc=0"));
    return hostPort;
}

// The first line (without its newline) read from 127.0.0.1:`port` within `timeout`; empty when
// nothing came (or the connection was refused or closed without a word).
inline std::string readBanner(uint16_t port, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return {};
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    std::string got;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        while (got.find('\n') == std::string::npos) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) break;
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
            char buf[256];
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) break;
            got.append(buf, static_cast<size_t>(n));
        }
    }
    ::close(fd);
    if (const auto nl = got.find('\n'); nl != std::string::npos) got.resize(nl);
    return got;
}

// readBanner() retried until it returns something or `timeout` passes: for a forward to a
// server that should answer (the first connections after hostfwd_add may race the guest).
inline std::string awaitBanner(uint16_t port, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string banner;
    while (banner.empty() && std::chrono::steady_clock::now() < deadline) {
        banner = readBanner(port, std::chrono::seconds(3));
        if (banner.empty()) ::usleep(200 * 1000);
    }
    return banner;
}

// A server in the guest (startGuestListener) on `guest_port`, up (seen from inside the guest),
// and reachable from the host at 127.0.0.1:`host_port` unless the guest's firewall says no.
struct ForwardedServer {
    uint16_t guest_port = 0;
    uint16_t host_port = 0;
    std::string banner;
    // It answered from the host within `timeout` (retried: allow for a slow guest).
    bool answers(std::chrono::seconds timeout = std::chrono::seconds(20)) const {
        return awaitBanner(host_port, timeout) == banner;
    }
    // Nothing came from the host side within `timeout`: the guest dropped the connection.
    bool silent(std::chrono::seconds timeout = std::chrono::seconds(5)) const {
        return readBanner(host_port, timeout).empty();
    }
};

inline ForwardedServer startForwardedServer(const SshEndpoint& guest, const std::string& domain, uint16_t guestPort) {
    ForwardedServer server{guestPort, 0, "banner-" + std::to_string(guestPort)};
    startGuestListener(guest, guestPort, server.banner);
    REQUIRE(guestBanner(guest, guestPort) == server.banner);
    server.host_port = addHostForward(domain, guestPort);
    return server;
}

}  // namespace paddock::test
