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
    SshdFixture();
    ~SshdFixture();
    SshdFixture(const SshdFixture&) = delete;
    SshdFixture& operator=(const SshdFixture&) = delete;

    uint16_t port() const noexcept { return port_; }
    std::string user() const;                                   // the current user's name
    std::string clientKey() const { return dir_.file("client_key"); }        // private key
    std::string clientPublicKey() const { return dir_.file("client_key.pub"); }
    std::string hostKeyFingerprint() const;                     // "SHA256:..." of its host key
    // Replaces the host key and restarts sshd (for host-key mismatch tests).
    void rotateHostKey();

private:
    void start();
    void stop();

    TempDir dir_;
    uint16_t port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace paddock::test
