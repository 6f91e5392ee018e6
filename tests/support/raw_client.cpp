#include "raw_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <stdexcept>

namespace paddock::test {

namespace {

void setReceiveTimeout(int fd, std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

}  // namespace

RawClient::RawClient(uint16_t port, const std::string& caFile, std::chrono::milliseconds handshakeTimeout) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (!connected_ || caFile.empty()) return;
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx_, caFile.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_options(ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
    ssl_ = SSL_new(ctx_);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    SSL_set_fd(ssl_, fd_);
    // A blocking socket, so reads are bounded by a receive timeout (a server that stalls
    // mid-record must not hang the test).
    setReceiveTimeout(fd_, handshakeTimeout);
    connected_ = SSL_connect(ssl_) == 1;
    setReceiveTimeout(fd_, std::chrono::seconds(30));
}

RawClient::~RawClient() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    ::close(fd_);
}

bool RawClient::send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
        const size_t left = bytes.size() - sent;
        const long n = ssl_ != nullptr
                           ? SSL_write(ssl_, bytes.data() + sent, static_cast<int>(std::min<size_t>(left, INT_MAX)))
                           : ::send(fd_, bytes.data() + sent, left, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<size_t>(n);
    }
    return true;
}

long RawClient::receive(char* buffer, size_t size) {
    if (ssl_ == nullptr) return ::recv(fd_, buffer, size, 0);
    return SSL_read(ssl_, buffer, static_cast<int>(std::min<size_t>(size, INT_MAX)));
}

std::string RawClient::read(std::chrono::milliseconds timeout, const std::string& until) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_ && std::chrono::steady_clock::now() < deadline) {
        if (!until.empty() && buffer_.find(until) != std::string::npos) break;
        // A TLS record already decoded is not visible to poll().
        if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
        }
        char chunk[65536];
        const long n = receive(chunk, sizeof chunk);
        if (n <= 0) {
            closed_ = true;
            break;
        }
        buffer_.append(chunk, static_cast<size_t>(n));
    }
    return buffer_;
}

namespace {

// Where a chunked body starting at `at` ends (past its last chunk), or npos while incomplete or
// malformed. Trailers are not expected.
size_t chunkedEnd(const std::string& buffer, size_t at) {
    for (;;) {
        const size_t line = buffer.find("\r\n", at);
        if (line == std::string::npos) return std::string::npos;
        size_t size = 0;
        try {
            size = std::stoul(buffer.substr(at, line - at), nullptr, 16);
        } catch (const std::exception&) {
            return std::string::npos;
        }
        at = line + 2 + size + 2;
        if (at > buffer.size()) return std::string::npos;
        if (size == 0) return at;
    }
}

}  // namespace

std::string RawClient::response(std::chrono::milliseconds timeout, bool headOnly) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const size_t end = buffer_.find("\r\n\r\n");
        if (end != std::string::npos) {
            const std::string head = buffer_.substr(0, end + 4);
            size_t total = end + 4;
            const size_t length = head.find("Content-Length: ");
            if (!headOnly && head.find("Transfer-Encoding: chunked") != std::string::npos)
                total = chunkedEnd(buffer_, end + 4);
            else if (!headOnly && length != std::string::npos)
                total += std::stoul(head.substr(length + 16));
            if (total != std::string::npos && buffer_.size() >= total) {
                std::string one = buffer_.substr(0, total);
                buffer_.erase(0, total);
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
