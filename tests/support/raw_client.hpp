// A plain blocking TCP client on loopback, for talking raw bytes to a server (hostile or
// half-finished requests, responses read as text); optionally over TLS (OpenSSL), trusting
// only a given CA file and checking that the certificate names 127.0.0.1. Single-threaded use.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

struct ssl_st;
struct ssl_ctx_st;

namespace paddock::test {

class RawClient {
public:
    // Plain TCP when `caFile` is empty; else TLS, with the handshake done here (bounded by
    // `handshakeTimeout`); connected() is false when it failed.
    explicit RawClient(uint16_t port, const std::string& caFile = {},
                       std::chrono::milliseconds handshakeTimeout = std::chrono::seconds(30));
    ~RawClient();
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    bool connected() const noexcept { return connected_; }
    bool secure() const noexcept { return ssl_ != nullptr; }
    int fd() const noexcept { return fd_; }
    // Sends all of `bytes` (false when the peer is gone).
    bool send(const std::string& bytes);
    // Reads until `until` appears in what was read, the peer closes, or the timeout passes;
    // returns everything read and not yet taken by response().
    std::string read(std::chrono::milliseconds timeout, const std::string& until = {});
    // One complete response (head + a Content-Length or chunked body, as it came), removed
    // from the buffer; with `headOnly` (the answer to a HEAD) the head alone. "" on timeout or
    // close.
    std::string response(std::chrono::milliseconds timeout = std::chrono::seconds(10), bool headOnly = false);
    // Whether the peer closes the connection within `timeout`.
    bool closedByPeer(std::chrono::milliseconds timeout);

private:
    long receive(char* buffer, size_t size);  // > 0 bytes; <= 0 closed or failed

    int fd_ = -1;
    ssl_ctx_st* ctx_ = nullptr;
    ssl_st* ssl_ = nullptr;
    bool connected_ = false;
    bool closed_ = false;
    std::string buffer_;
};

}  // namespace paddock::test
