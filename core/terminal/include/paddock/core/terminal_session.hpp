// One interactive shell on a VM over SSH: libssh2 channel with a PTY, driven non-blocking.
// open() blocks (connect, handshake, host-key check, key auth, PTY, shell) and belongs on a
// worker thread; afterwards the session switches to non-blocking mode and is used by exactly
// one thread at a time (the terminal I/O thread), which polls fd() for pollEvents().
// The channel's receive window is small (Options::window_bytes), so a guest that floods output
// while nobody reads is held back by SSH flow control instead of growing our memory.
// Destruction closes the channel and disconnects in blocking mode with a short timeout: hand
// finished sessions to a worker rather than destroying them on the I/O thread.
// No HTTP here; never logs, and error texts never contain key material.
#pragma once

#include "paddock/core/result.hpp"
#include "paddock/core/ssh_client.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

typedef struct _LIBSSH2_CHANNEL LIBSSH2_CHANNEL;

namespace paddock {

struct TerminalOptions {
    SshEndpoint endpoint;
    uint16_t cols = 80;
    uint16_t rows = 24;
    std::string term = "xterm-256color";
    std::chrono::milliseconds connect_timeout{15000};
    uint32_t window_bytes = 256 * 1024;  // SSH receive window: output in flight per session
};

// Clamps a requested terminal size to what a PTY sensibly accepts (1..1000 each way).
uint16_t clampTerminalDimension(long value) noexcept;

class TerminalSession {
public:
    // Conflict when the host key differs from options.endpoint.pinned_host_key; Unavailable when the
    // host does not answer or refuses the channel; Unauthorized when it rejects Paddock's key.
    static Result<std::unique_ptr<TerminalSession>> open(const TerminalOptions& options);
    ~TerminalSession();
    TerminalSession(const TerminalSession&) = delete;
    TerminalSession& operator=(const TerminalSession&) = delete;

    // Outcome of one non-blocking step.
    enum class Io { Progress, WouldBlock, Closed, Failed };

    // Up to `capacity` bytes of terminal output into `buffer`; `n` is set on Progress.
    // Closed when the shell exited (EOF) or the channel closed.
    Io read(char* buffer, size_t capacity, size_t& n);
    // Writes a prefix of `bytes`; `n` is how much was taken on Progress.
    Io write(std::string_view bytes, size_t& n);
    Io resize(uint16_t cols, uint16_t rows);

    int fd() const noexcept;
    // POLLIN and/or POLLOUT: what the last WouldBlock was waiting for (libssh2's block directions).
    short pollEvents() const noexcept;
    const SshHostKey& hostKey() const noexcept;
    // libssh2's last error text, for a Failed step.
    std::string lastError() const;

private:
    TerminalSession() = default;

    std::unique_ptr<SshConnection> connection_;
    LIBSSH2_CHANNEL* channel_ = nullptr;
};

}  // namespace paddock
