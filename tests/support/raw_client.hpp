// A plain blocking TCP client on loopback, for talking raw bytes to a server (hostile or
// half-finished requests, responses read as text). Single-threaded use.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace paddock::test {

class RawClient {
public:
    explicit RawClient(uint16_t port);
    ~RawClient();
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    bool connected() const noexcept { return connected_; }
    int fd() const noexcept { return fd_; }
    // Sends all of `bytes` (false when the peer is gone).
    bool send(const std::string& bytes);
    // Reads until `until` appears in what was read, the peer closes, or the timeout passes;
    // returns everything read and not yet taken by response().
    std::string read(std::chrono::milliseconds timeout, const std::string& until = {});
    // One complete response (head + Content-Length body), removed from the buffer; "" on
    // timeout or close.
    std::string response(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Whether the peer closes the connection within `timeout`.
    bool closedByPeer(std::chrono::milliseconds timeout);

private:
    int fd_ = -1;
    bool connected_ = false;
    bool closed_ = false;
    std::string buffer_;
};

}  // namespace paddock::test
