// The byte stream under one client connection: plain TCP, or TLS over it (tls.hpp). Everything
// is non-blocking: an operation that cannot go on says which readiness it waits for, and the
// caller's poll loop (the HttpServer's epoll thread, later the WebSocketHub's poll thread) calls
// it again once the descriptor is ready. A transport owns its descriptor and closes it when
// destroyed. One thread at a time: the HttpServer's I/O thread owns it until a WebSocket upgrade
// hands it (by unique_ptr) to the hub's thread.
//
// TLS reads may need to write (a key update) and TLS writes may need to read, so besides the
// returned status a caller arms its poll from wantsWrite() and writeWantsRead().
// A write that returned WantRead/WantWrite may already be encrypted into a record: the next
// write() must start with the same bytes (it may pass more after them, or a moved buffer).
// Plain TCP keeps that rule trivially.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace paddock::server {

enum class IoStatus {
    Done,       // handshake(): finished; read()/write(): `bytes` (> 0) moved
    WantRead,   // no progress now: call again when the descriptor is readable
    WantWrite,  // no progress now: call again when the descriptor is writable
    Closed,     // the peer ended the stream (EOF, or a TLS close_notify)
    Error,      // the connection is unusable; error() says why
};

struct IoResult {
    IoStatus status = IoStatus::Done;
    size_t bytes = 0;
};

class Transport {
public:
    // Closes the descriptor (unless release()d).
    virtual ~Transport();
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    int fd() const noexcept { return fd_; }
    // Whether the stream is TLS.
    virtual bool secure() const noexcept = 0;

    // Completes the protocol's handshake (TLS); Done at once for plain TCP. Until it returns
    // Done, read() and write() must not be called.
    virtual IoResult handshake() = 0;
    // Up to `size` bytes of the peer's data.
    virtual IoResult read(char* buffer, size_t size) = 0;
    // Some of `bytes` (a partial write is Done with fewer bytes).
    virtual IoResult write(std::string_view bytes) = 0;
    // Some of `first` followed by `second`, as one stream: Done with the count from the front of
    // `first` (it may end inside either). For a head and a body that lives elsewhere (a shared
    // listing), without joining them. Plain TCP gathers both into one sendmsg; by default (TLS:
    // SSL_write has no gather) it is write(first) while `first` has bytes, else write(second).
    // The repeat rule above holds for the pair: the next call starts with the same bytes.
    virtual IoResult writePair(std::string_view first, std::string_view second);
    // Ends our direction: a TLS close_notify (best effort), then a TCP half-close. The peer's
    // data may still be read, or dropped with discardInput().
    virtual void shutdownWrite() = 0;

    // Bytes already received and decoded (a TLS record) that the descriptor's readiness no
    // longer shows: a poll loop must read again before it waits for readability.
    virtual size_t buffered() const noexcept { return 0; }

    // Reads and drops what the peer sent, on the raw socket (nothing is decoded): for the
    // linger after our side is shut. WantRead once nothing is left now; Done when it stopped
    // after a bounded amount (call again when readable); Closed at EOF.
    IoResult discardInput();

    // The last handshake() or read() stopped because the socket must first take our bytes:
    // poll for writability even with nothing to write.
    bool wantsWrite() const noexcept { return readWantsWrite_; }
    // The last write() stopped until the peer's bytes arrive: poll for readability, not
    // writability, before writing again.
    bool writeWantsRead() const noexcept { return writeWantsRead_; }

    // handshake() failed because the peer's first bytes were no TLS handshake at all (e.g.
    // plain HTTP sent to an HTTPS port): the caller may answer in plain text after release().
    virtual bool plaintextPeer() const noexcept { return false; }
    // Why the last operation returned Error (or Closed).
    const std::string& error() const noexcept { return error_; }

    // Gives the descriptor up without closing it; the transport must not be used afterwards.
    int release() noexcept;

protected:
    explicit Transport(int fd) noexcept : fd_(fd) {}
    // After a failed ::recv/::send (not EINTR): EAGAIN is `wouldBlock`, anything else Error
    // with errno's text.
    IoResult errnoResult(IoStatus wouldBlock);

    int fd_;
    bool readWantsWrite_ = false;
    bool writeWantsRead_ = false;
    std::string error_;
};

// Plain TCP over a connected, non-blocking socket; takes ownership of `fd`.
std::unique_ptr<Transport> makePlainTransport(int fd);

}  // namespace paddock::server
