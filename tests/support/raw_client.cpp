#include "raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace paddock::test {

RawClient::RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

RawClient::~RawClient() { ::close(fd_); }

bool RawClient::send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<size_t>(n);
    }
    return true;
}

std::string RawClient::read(std::chrono::milliseconds timeout, const std::string& until) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!until.empty() && buffer_.find(until) != std::string::npos) break;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        char chunk[65536];
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) {
            closed_ = true;
            break;
        }
        buffer_.append(chunk, static_cast<size_t>(n));
    }
    return buffer_;
}

std::string RawClient::response(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const size_t end = buffer_.find("\r\n\r\n");
        if (end != std::string::npos) {
            size_t length = 0;
            const size_t at = buffer_.find("Content-Length: ");
            if (at != std::string::npos && at < end) length = std::stoul(buffer_.substr(at + 16));
            if (buffer_.size() >= end + 4 + length) {
                std::string one = buffer_.substr(0, end + 4 + length);
                buffer_.erase(0, end + 4 + length);
                return one;
            }
        }
        if (closed_ || std::chrono::steady_clock::now() >= deadline) return {};
        read(std::chrono::milliseconds(50));
    }
}

bool RawClient::closedByPeer(std::chrono::milliseconds timeout) {
    read(timeout);
    return closed_;
}

}  // namespace paddock::test
