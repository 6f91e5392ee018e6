// A private OpenSSH server on a free 127.0.0.1 port, with its own host key, config and an
// authorized client key generated for the test. Runs as the current user; stopped (SIGTERM,
// then SIGKILL) on destruction.
#pragma once

#include "test_support.hpp"

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace paddock::test {

class SshdFixture {
public:
    // `port` 0: a free port is picked (again at every restart); otherwise that port is kept.
    // `extraConfig`: sshd_config lines put before the fixture's own, so they win over them (sshd
    // takes a keyword's first value), e.g. "AllowUsers alice\nPermitRootLogin no\n".
    explicit SshdFixture(uint16_t port = 0, std::string extraConfig = {});
    ~SshdFixture();
    SshdFixture(const SshdFixture&) = delete;
    SshdFixture& operator=(const SshdFixture&) = delete;

    uint16_t port() const noexcept { return port_; }
    std::string user() const { return currentUser(); }
    static std::string currentUser();                                  // the current user's name
    std::string clientKey() const { return dir_.file("client_key"); }  // private key
    std::string clientPublicKey() const { return dir_.file("client_key.pub"); }
    std::string hostKeyFingerprint() const;  // "SHA256:..." of its host key
    // Its host key as one OpenSSH known_hosts line: "[127.0.0.1]:<port> ssh-ed25519 AAAA...".
    std::string knownHostsLine() const;
    // Replaces the host key and restarts sshd (for host-key mismatch tests).
    void rotateHostKey();
    // Also accepts logins with the key in `publicKeyPath` (e.g. Paddock's id_ed25519.pub).
    void authorize(const std::string& publicKeyPath);
    // Lets the authorized keys log in as any local user with a usable account (not locked),
    // not only as the current one: sshd reads AuthorizedKeysFile as the user logging in, so the
    // fixture's directory and authorized_keys become readable by everyone (public keys only).
    void authorizeForAllUsers();
    // sshd's own log so far (e.g. to count "Accepted publickey" lines).
    std::string log() const { return readFile(dir_.file("sshd.log")); }

    // Ends the listener; sessions it forked live on (as with a real sshd). No-op when stopped.
    void stop();
    // Ends the listener and every session it forked (killed, so clients see their connections
    // close, as when the host goes away). No-op when stopped.
    void disconnect();
    // Starts sshd again after stop() or disconnect() (on the same port when one was given, with
    // the same keys). No-op when running.
    void start();
    bool running() const noexcept { return pid_ > 0; }

private:
    TempDir dir_;
    std::string extraConfig_;
    uint16_t port_ = 0;
    uint16_t fixedPort_ = 0;
    pid_t pid_ = -1;
};

}  // namespace paddock::test
