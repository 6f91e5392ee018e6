// The libssh2 client against a real OpenSSH server on loopback.
#include "paddock/core/ssh_client.hpp"

#include "result_checks.hpp"
#include "sshd_fixture.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace paddock;
using namespace std::chrono_literals;

namespace {
SshEndpoint endpointFor(const test::SshdFixture& sshd) {
    return {"127.0.0.1", sshd.port(), sshd.user(), sshd.clientKey(), sshd.clientPublicKey(), {}};
}
}  // namespace

TEST_CASE("probe authenticates and reports the host key like OpenSSH", "[ssh]") {
    test::SshdFixture sshd;
    auto key = probeSsh(endpointFor(sshd), 10s);
    REQUIRE(key.ok());
    CHECK(key->type == "ssh-ed25519");
    CHECK(key->fingerprint == sshd.hostKeyFingerprint());
}

TEST_CASE("a command's output and exit status come back", "[ssh]") {
    test::SshdFixture sshd;
    auto r = runSshCommand(endpointFor(sshd), "echo paddock-$((40+2)); exit 3", 10s);
    REQUIRE(r.ok());
    CHECK(r->output == "paddock-42\n");
    CHECK(r->exit_status == 3);
}

TEST_CASE("a closed port is Unavailable, a wrong key Unauthorized", "[ssh]") {
    test::SshdFixture sshd;
    auto ep = endpointFor(sshd);
    ep.port = test::freeLoopbackPort();
    auto closed = probeSsh(ep, 2s);
    REQUIRE_FALSE(closed.ok());
    CHECK(failure(closed).code == ErrorCode::Unavailable);

    test::TempDir other;
    REQUIRE(std::system(("ssh-keygen -q -t ed25519 -N '' -f " + other.file("k")).c_str()) == 0);
    auto wrong = endpointFor(sshd);
    wrong.private_key_path = other.file("k");
    wrong.public_key_path = other.file("k.pub");
    auto denied = probeSsh(wrong, 5s);
    REQUIRE_FALSE(denied.ok());
    CHECK(failure(denied).code == ErrorCode::Unauthorized);
}

TEST_CASE("every connection refuses a host whose key is not the pinned one", "[ssh][hostile]") {
    test::SshdFixture sshd;
    auto pinned = endpointFor(sshd);
    pinned.pinned_host_key = sshd.hostKeyFingerprint();
    CHECK(probeSsh(pinned, 10s).ok());
    CHECK(runSshCommand(pinned, "true", 10s).ok());

    // Another machine answering on the address (or the VM rebuilt): refused before Paddock's key
    // is offered, for readiness probes, commands and terminals alike.
    const auto accepted = [&] {
        const std::string log = sshd.log();
        size_t n = 0;
        for (size_t at = log.find("Accepted publickey"); at != std::string::npos;
             at = log.find("Accepted publickey", at + 1))
            ++n;
        return n;
    };
    const size_t before = accepted();
    auto impostor = endpointFor(sshd);
    impostor.pinned_host_key = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const Error probe = failure(probeSsh(impostor, 10s));
    CHECK(probe.code == ErrorCode::Conflict);
    CHECK_THAT(probe.message, Catch::Contains("does not match the pinned key"));
    CHECK(failure(runSshCommand(impostor, "true", 10s)).code == ErrorCode::Conflict);
    CHECK(failure(SshConnection::open(impostor, 10s)).code == ErrorCode::Conflict);
    CHECK(accepted() == before);
}

TEST_CASE("the SSH banner check tells a listening sshd from a silent port", "[ssh]") {
    test::SshdFixture sshd;
    CHECK(awaitSshBanner("127.0.0.1", sshd.port(), 5s).ok());

    // A port that accepts but never speaks, like QEMU's forward to a guest still booting.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    auto silent = awaitSshBanner("127.0.0.1", ntohs(addr.sin_port), 300ms);
    REQUIRE_FALSE(silent.ok());
    CHECK(failure(silent).code == ErrorCode::Unavailable);
    CHECK(failure(silent).message.find("no SSH banner") != std::string::npos);

    // The readiness probe's form: the banner wait and the login on one connection. Silence is a
    // Timeout (keep waiting), a connection closed before any banner Unavailable (something answered).
    SshEndpoint ep = endpointFor(sshd);
    auto key = probeSshOnBanner(ep, 5s, 10s);
    REQUIRE(key.ok());
    CHECK(key->fingerprint == sshd.hostKeyFingerprint());
    ep.port = ntohs(addr.sin_port);
    const Error quiet = failure(probeSshOnBanner(ep, 300ms, 10s));
    CHECK(quiet.code == ErrorCode::Timeout);
    CHECK_THAT(quiet.message, Catch::Contains("no SSH banner"));
    ::close(fd);
    // Accepted and closed at once, as QEMU's forward does when the guest resets the connection.
    const int closing = ::socket(AF_INET, SOCK_STREAM, 0);
    addr.sin_port = 0;
    REQUIRE(::bind(closing, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(closing, 4) == 0);
    len = sizeof addr;
    ::getsockname(closing, reinterpret_cast<sockaddr*>(&addr), &len);
    ep.port = ntohs(addr.sin_port);
    std::thread closer([closing] {
        const int c = ::accept(closing, nullptr, nullptr);
        if (c >= 0) ::close(c);
    });
    const Error closed = failure(probeSshOnBanner(ep, 5s, 10s));
    closer.join();
    ::close(closing);
    CHECK(closed.code == ErrorCode::Unavailable);
    CHECK_THAT(closed.message, Catch::Contains("closed before the SSH banner"));
}
