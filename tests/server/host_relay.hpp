// A libvirt host for tests on 127.0.0.1 (qemu+tcp://), in front of a real libvirtd's unix socket:
// it relays each connection there, and on demand freezes (reads and answers nothing: a wedged
// host), or cuts (drops every connection and refuses new ones: a host that is gone) and later
// restores (relays again: the host is back, its domains as they were). Header-only: the tests of
// sites that fail share it (site_isolation, pool_span).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace paddock::test {

// A "host" on 127.0.0.1 that accepts TCP connections. Made with `forwardTo` (a libvirtd's unix
// socket), it relays each connection there until freeze(); from then on, and always when made
// without one, it reads nothing and answers nothing. Every socket stays open until destruction.
class HostRelay {
public:
    explicit HostRelay(std::string forwardTo = {}) : forwardTo_(std::move(forwardTo)), frozen_(forwardTo_.empty()) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listener_ < 0) throw std::runtime_error("socket() failed");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener_, 16) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            ::close(listener_);
            throw std::runtime_error("cannot listen on 127.0.0.1");
        }
        port_ = ntohs(addr.sin_port);
        acceptor_ = std::thread([this] { acceptLoop(); });
    }
    ~HostRelay() {
        stop_ = true;
        acceptor_.join();  // first: it adds relays
        for (auto& t : relays_) t.join();
        ::close(listener_);
        for (int fd : held_) ::close(fd);
    }
    HostRelay(const HostRelay&) = delete;
    HostRelay& operator=(const HostRelay&) = delete;

    std::string uri() const { return "qemu+tcp://127.0.0.1:" + std::to_string(port_) + "/system"; }
    size_t accepted() const {
        std::lock_guard lock(mutex_);
        return accepted_;
    }
    void freeze() { frozen_ = true; }
    // Drops every connection (the peers see them close) and refuses new ones until restore().
    void cut() {
        std::lock_guard lock(mutex_);
        cut_ = true;
        for (int fd : held_) ::shutdown(fd, SHUT_RDWR);
    }
    // Relays again, new connections only.
    void restore() {
        std::lock_guard lock(mutex_);
        cut_ = false;
        frozen_ = forwardTo_.empty();
    }

private:
    void acceptLoop() {
        while (!stop_) {
            pollfd p{listener_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) continue;
            std::lock_guard lock(mutex_);
            ++accepted_;
            held_.push_back(fd);
            if (cut_) {
                ::shutdown(fd, SHUT_RDWR);
                continue;
            }
            if (frozen_) continue;
            const int upstream = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", forwardTo_.c_str());
            if (upstream < 0) continue;
            held_.push_back(upstream);
            if (::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) continue;
            relays_.emplace_back([this, fd, upstream] { relay(fd, upstream); });
        }
    }
    // Copies both ways until either side closes; once frozen, copies nothing.
    void relay(int a, int b) {
        char buffer[65536];
        while (!stop_) {
            if (frozen_) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                continue;
            }
            pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
            if (::poll(p, 2, 100) <= 0) continue;
            for (int i = 0; i < 2; ++i) {
                if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
                const ssize_t n = ::read(p[i].fd, buffer, sizeof buffer);
                if (n <= 0) return;
                for (ssize_t sent = 0; sent < n;) {
                    const ssize_t w = ::write(p[1 - i].fd, buffer + sent, static_cast<size_t>(n - sent));
                    if (w <= 0) return;
                    sent += w;
                }
            }
        }
    }

    std::string forwardTo_;
    std::atomic<bool> frozen_;
    bool cut_ = false;  // under mutex_
    int listener_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    size_t accepted_ = 0;
    std::vector<int> held_;
    std::thread acceptor_;
    std::vector<std::thread> relays_;
};

}  // namespace paddock::test
