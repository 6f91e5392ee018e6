#include "paddock/core/port_allocator.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace paddock {

namespace {

bool bindableOnLoopback(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    // As QEMU's user-mode forward binds it: connections of a VM deleted a moment ago, left in
    // TIME_WAIT, do not make the port unusable, only a listener does.
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

Result<uint16_t> PortAllocator::reserveUnless(const std::function<bool(uint16_t)>& inUse) {
    std::lock_guard lock(mutex_);
    const uint32_t count = uint32_t(last_) - first_ + 1;
    for (uint32_t i = 0; i < count; ++i) {
        const uint16_t port = static_cast<uint16_t>(first_ + (uint32_t(next_ - first_) + i) % count);
        if (reserved_.count(port) != 0 || inUse(port)) continue;
        // Something outside Paddock may hold it; qemu would then fail to start.
        if (!bindableOnLoopback(port)) continue;
        reserved_.insert(port);
        next_ = static_cast<uint16_t>(port == last_ ? first_ : port + 1);
        return port;
    }
    return makeError(ErrorCode::Unavailable, "no free SSH forward port left in " + std::to_string(first_) + "-" +
                                                 std::to_string(last_) + " (raise ssh_port_max or delete VMs)");
}

void PortAllocator::release(uint16_t port) {
    std::lock_guard lock(mutex_);
    reserved_.erase(port);
}

}  // namespace paddock
