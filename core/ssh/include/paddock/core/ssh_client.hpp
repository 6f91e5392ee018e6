// A small blocking SSH client on libssh2: connect with a deadline, handshake, authenticate
// with Paddock's key, and either stop there (a readiness probe) or run one command.
// Thread-safe: every call uses its own socket and session. Never logs or returns key material.
#pragma once

#include "paddock/core/result.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

typedef struct _LIBSSH2_SESSION LIBSSH2_SESSION;

namespace paddock {

struct SshEndpoint {
    std::string host;
    uint16_t port = 22;
    std::string user;
    std::string private_key_path;  // OpenSSH private key file (unencrypted, 0600)
    std::string public_key_path;   // its .pub file
    // "SHA256:..." the host must present; a host with another key is refused (Conflict) before
    // Paddock authenticates to it. Empty: any key (trust on first use; the caller pins it).
    std::string pinned_host_key;
};

struct SshHostKey {
    std::string type;         // e.g. "ssh-ed25519"
    std::string fingerprint;  // "SHA256:<base64 without padding>", as OpenSSH prints it
    std::string public_key;   // the key blob in base64 with padding, as known_hosts holds it
};

struct SshCommandResult {
    int exit_status = -1;
    std::string output;  // stdout, at most 1 MiB kept
    SshHostKey host_key;
};

// The key as one OpenSSH known_hosts line for `host`:`port` ("[host]:port type base64"; a plain
// "host type base64" for port 22). Empty when the key's blob is unknown.
std::string knownHostsLine(const std::string& host, uint16_t port, const SshHostKey& key);

// Connects and waits for the server's "SSH-" identification line, then disconnects. Cheap to
// retry often: behind QEMU's user-mode port forward the TCP connect always succeeds at once,
// and only the banner tells that the guest's sshd is really listening. Unavailable otherwise.
Status awaitSshBanner(const std::string& host, uint16_t port, std::chrono::milliseconds timeout);

// Handshake + host-key check + public-key authentication, then disconnect. Unavailable while the
// guest's sshd does not answer yet, Conflict for a host key other than the pinned one,
// Unauthorized when it rejects the key.
Result<SshHostKey> probeSsh(const SshEndpoint& endpoint, std::chrono::milliseconds timeout);

// probeSsh on one connection that first waits up to `bannerTimeout` for the "SSH-" line, then
// hands the same connection to the handshake (a banner check followed by a second connection
// would make the guest's sshd accept twice, which under TCG costs it most of a second each).
// Timeout when the port stays silent (behind QEMU's forward: the guest, or its sshd, is not
// up yet); Unavailable when the connection is closed first (the guest's TCP stack refused it)
// or cannot be made; otherwise as probeSsh, with `timeout` bounding the whole attempt.
Result<SshHostKey> probeSshOnBanner(const SshEndpoint& endpoint, std::chrono::milliseconds bannerTimeout,
                                    std::chrono::milliseconds timeout);

// Runs `command` and collects its stdout and exit status.
Result<SshCommandResult> runSshCommand(const SshEndpoint& endpoint, const std::string& command,
                                       std::chrono::milliseconds timeout);

// An authenticated connection for callers that drive their own channels (the terminal).
// open() blocks: connect, handshake, host-key check (endpoint.pinned_host_key), key
// authentication, all within `timeout`.
// Afterwards one thread at a time may use session(); destruction disconnects (blocking, bounded
// by the session's timeout, so run it off latency-sensitive threads).
class SshConnection {
public:
    static Result<std::unique_ptr<SshConnection>> open(const SshEndpoint& endpoint, std::chrono::milliseconds timeout);
    ~SshConnection();
    SshConnection(const SshConnection&) = delete;
    SshConnection& operator=(const SshConnection&) = delete;

    LIBSSH2_SESSION* session() const noexcept;
    int socket() const noexcept;
    const SshHostKey& hostKey() const noexcept;

private:
    struct Impl;
    explicit SshConnection(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace paddock
