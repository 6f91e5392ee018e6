#include "paddock/server/transport.hpp"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace paddock::server {

namespace {

constexpr size_t kMaxDiscardPerCall = 256 * 1024;

class PlainTransport final : public Transport {
public:
    explicit PlainTransport(int fd) noexcept : Transport(fd) {}

    bool secure() const noexcept override { return false; }

    IoResult handshake() override { return {IoStatus::Done, 0}; }

    IoResult read(char* buffer, size_t size) override {
        for (;;) {
            const ssize_t n = ::recv(fd_, buffer, size, 0);
            if (n > 0) return {IoStatus::Done, static_cast<size_t>(n)};
            if (n == 0) return {IoStatus::Closed, 0};
            if (errno != EINTR) return errnoResult(IoStatus::WantRead);
        }
    }

    IoResult write(std::string_view bytes) override {
        for (;;) {
            const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n >= 0) return {IoStatus::Done, static_cast<size_t>(n)};
            if (errno != EINTR) return errnoResult(IoStatus::WantWrite);
        }
    }

    IoResult writePair(std::string_view first, std::string_view second) override {
        iovec pieces[2];
        size_t count = 0;
        for (const std::string_view piece : {first, second})
            if (!piece.empty()) pieces[count++] = iovec{const_cast<char*>(piece.data()), piece.size()};
        if (count == 0) return {IoStatus::Done, 0};
        msghdr message{};
        message.msg_iov = pieces;
        message.msg_iovlen = count;
        for (;;) {
            const ssize_t n = ::sendmsg(fd_, &message, MSG_NOSIGNAL);
            if (n >= 0) return {IoStatus::Done, static_cast<size_t>(n)};
            if (errno != EINTR) return errnoResult(IoStatus::WantWrite);
        }
    }

    void shutdownWrite() override { ::shutdown(fd_, SHUT_WR); }
};

}  // namespace

Transport::~Transport() {
    if (fd_ >= 0) ::close(fd_);
}

IoResult Transport::writePair(std::string_view first, std::string_view second) {
    return write(first.empty() ? second : first);
}

int Transport::release() noexcept { return std::exchange(fd_, -1); }

IoResult Transport::errnoResult(IoStatus wouldBlock) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {wouldBlock, 0};
    error_ = std::strerror(errno);
    return {IoStatus::Error, 0};
}

IoResult Transport::discardInput() {
    char buffer[16 * 1024];
    size_t total = 0;
    while (total < kMaxDiscardPerCall) {
        const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n > 0) {
            total += static_cast<size_t>(n);
        } else if (n == 0) {
            return {IoStatus::Closed, total};
        } else if (errno != EINTR) {
            return errnoResult(IoStatus::WantRead);
        }
    }
    return {IoStatus::Done, total};
}

std::unique_ptr<Transport> makePlainTransport(int fd) { return std::make_unique<PlainTransport>(fd); }

}  // namespace paddock::server
