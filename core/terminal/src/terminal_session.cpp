#include "paddock/core/terminal_session.hpp"

#include <libssh2.h>

#include <poll.h>

#include <algorithm>

namespace paddock {

namespace {

constexpr uint32_t kPacketBytes = 32 * 1024;
constexpr long kTeardownTimeoutMs = 2000;

std::string lastSessionError(LIBSSH2_SESSION* session) {
    char* msg = nullptr;
    libssh2_session_last_error(session, &msg, nullptr, 0);
    return msg != nullptr ? msg : "unknown libssh2 error";
}

}  // namespace

uint16_t clampTerminalDimension(long value) noexcept { return static_cast<uint16_t>(std::clamp(value, 1L, 1000L)); }

Result<std::unique_ptr<TerminalSession>> TerminalSession::open(const TerminalOptions& options) {
    auto connection = SshConnection::open(options.endpoint, options.connect_timeout);
    if (!connection) return std::move(connection).error();
    std::unique_ptr<TerminalSession> terminal(new TerminalSession());
    terminal->connection_ = std::move(connection.value());
    LIBSSH2_SESSION* session = terminal->connection_->session();
    const std::string where = options.endpoint.host + ":" + std::to_string(options.endpoint.port);

    // A small window bounds what the guest may have in flight towards us; libssh2 tops it up
    // only as we read, so an unread flood stops at the guest.
    terminal->channel_ = libssh2_channel_open_ex(session, "session", sizeof "session" - 1, options.window_bytes,
                                                 kPacketBytes, nullptr, 0);
    if (terminal->channel_ == nullptr)
        return makeError(ErrorCode::Unavailable,
                         "cannot open an SSH channel on " + where + ": " + lastSessionError(session));
    libssh2_channel_handle_extended_data2(terminal->channel_, LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE);
    if (libssh2_channel_request_pty_ex(terminal->channel_, options.term.data(),
                                       static_cast<unsigned>(options.term.size()), nullptr, 0, options.cols,
                                       options.rows, 0, 0) != 0)
        return makeError(ErrorCode::Unavailable,
                         "the SSH server on " + where + " refused a PTY: " + lastSessionError(session));
    if (libssh2_channel_shell(terminal->channel_) != 0)
        return makeError(ErrorCode::Unavailable,
                         "the SSH server on " + where + " refused a shell: " + lastSessionError(session));
    libssh2_session_set_blocking(session, 0);
    return terminal;
}

TerminalSession::~TerminalSession() {
    if (!connection_) return;
    LIBSSH2_SESSION* session = connection_->session();
    libssh2_session_set_blocking(session, 1);
    libssh2_session_set_timeout(session, kTeardownTimeoutMs);
    if (channel_ != nullptr) {
        // Closing the channel hangs up the shell (SIGHUP on the guest), as closing a terminal window does.
        libssh2_channel_close(channel_);
        libssh2_channel_free(channel_);
    }
}

TerminalSession::Io TerminalSession::read(char* buffer, size_t capacity, size_t& n) {
    const ssize_t rc = libssh2_channel_read(channel_, buffer, capacity);
    if (rc > 0) {
        n = static_cast<size_t>(rc);
        return Io::Progress;
    }
    if (rc == LIBSSH2_ERROR_EAGAIN) return Io::WouldBlock;
    if (rc == 0) return libssh2_channel_eof(channel_) != 0 ? Io::Closed : Io::WouldBlock;
    if (rc == LIBSSH2_ERROR_CHANNEL_CLOSED || rc == LIBSSH2_ERROR_CHANNEL_EOF_SENT) return Io::Closed;
    return Io::Failed;
}

TerminalSession::Io TerminalSession::write(std::string_view bytes, size_t& n) {
    const ssize_t rc = libssh2_channel_write(channel_, bytes.data(), bytes.size());
    if (rc > 0) {
        n = static_cast<size_t>(rc);
        return Io::Progress;
    }
    if (rc == LIBSSH2_ERROR_EAGAIN || rc == 0) return Io::WouldBlock;
    if (rc == LIBSSH2_ERROR_CHANNEL_CLOSED || rc == LIBSSH2_ERROR_CHANNEL_EOF_SENT) return Io::Closed;
    return Io::Failed;
}

TerminalSession::Io TerminalSession::resize(uint16_t cols, uint16_t rows) {
    const int rc = libssh2_channel_request_pty_size(channel_, cols, rows);
    if (rc == 0) return Io::Progress;
    if (rc == LIBSSH2_ERROR_EAGAIN) return Io::WouldBlock;
    return Io::Failed;
}

int TerminalSession::fd() const noexcept { return connection_->socket(); }

short TerminalSession::pollEvents() const noexcept {
    const int directions = libssh2_session_block_directions(connection_->session());
    short events = 0;
    if (directions & LIBSSH2_SESSION_BLOCK_INBOUND) events |= POLLIN;
    if (directions & LIBSSH2_SESSION_BLOCK_OUTBOUND) events |= POLLOUT;
    return events;
}

const SshHostKey& TerminalSession::hostKey() const noexcept { return connection_->hostKey(); }

std::string TerminalSession::lastError() const { return lastSessionError(connection_->session()); }

}  // namespace paddock
