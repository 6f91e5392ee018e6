// paddockd's readiness protocol with systemd (Type=notify), spoken to a real unix datagram socket
// standing in for systemd's: READY=1 once it listens, STOPPING=1 on SIGTERM, each sent by
// paddockd itself (the kernel's credentials name the sender).
#include "paddockd_fixture.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>

using namespace paddock::test;

namespace {

struct Notification {
    std::string text;
    pid_t sender = -1;
};

// What systemd does: a bound datagram socket that asks for the sender's credentials.
class NotifySocket {
public:
    explicit NotifySocket(const std::string& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        REQUIRE(path.size() < sizeof address.sun_path);
        std::memcpy(address.sun_path, path.c_str(), path.size());
        REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
        const int on = 1;
        REQUIRE(::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0);
    }
    ~NotifySocket() {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;

    // The next datagram, or nothing when none comes within `waitS` (a bound on waiting, not a
    // measured duration).
    std::optional<Notification> receive(int waitS = 60) const {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, waitS * 1000) != 1) return std::nullopt;
        char data[4096];
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
        iovec iov{data, sizeof data};
        msghdr message{};
        message.msg_iov = &iov;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(fd_, &message, 0);
        if (n < 0) return std::nullopt;
        Notification result;
        result.text.assign(data, static_cast<size_t>(n));
        for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                ucred credentials{};
                std::memcpy(&credentials, CMSG_DATA(c), sizeof credentials);
                result.sender = credentials.pid;
            }
        }
        return result;
    }

private:
    std::string path_;
    int fd_ = -1;
};

DaemonOptions notStarted() {
    DaemonOptions options;
    options.sites.front().backend = "org.paddock.libvirt-qemu";
    options.start = false;
    return options;
}

}  // namespace

TEST_CASE("paddockd tells the service manager it is ready once it listens, and that it stops", "[sd_notify]") {
    PaddockdFixture daemon(notStarted());
    NotifySocket socket(daemon.dir().file("notify.sock"));
    daemon.start({"NOTIFY_SOCKET=" + daemon.dir().file("notify.sock")});

    const auto ready = socket.receive();
    REQUIRE(ready);
    CHECK(ready->sender == daemon.pid());
    CHECK_THAT(ready->text, Catch::StartsWith("READY=1\n") &&
                                Catch::Contains("STATUS=listening on http://127.0.0.1:" +
                                                std::to_string(daemon.port())));
    // Ready means serving: the API answers.
    CHECK(daemon.request("GET", "/healthz").status == 200);

    const pid_t pid = daemon.pid();
    REQUIRE(daemon.stop() == 0);
    const auto stopping = socket.receive();
    REQUIRE(stopping);
    CHECK(stopping->text == "STOPPING=1");
    CHECK(stopping->sender == pid);
    // Nothing else was sent.
    CHECK_FALSE(socket.receive(1));
}

TEST_CASE("paddockd runs the same when NOTIFY_SOCKET names no socket or is not a path", "[sd_notify]") {
    for (const std::string& value : {std::string("/nonexistent/notify.sock"), std::string("not-a-socket-path"),
                                    std::string(300, 'x')}) {
        INFO("NOTIFY_SOCKET=" << value.substr(0, 40));
        PaddockdFixture daemon(notStarted());
        daemon.start({"NOTIFY_SOCKET=" + value});
        CHECK(daemon.request("GET", "/healthz").status == 200);
        CHECK(daemon.stop() == 0);
    }
}
