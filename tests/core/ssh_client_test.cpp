// The libssh2 client against a real OpenSSH server on loopback.
#include "paddock/core/ssh_client.hpp"

#include "sshd_fixture.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

using namespace paddock;
using namespace std::chrono_literals;

namespace {
SshEndpoint endpointFor(const test::SshdFixture& sshd) {
    return {"127.0.0.1", sshd.port(), sshd.user(), sshd.clientKey(), sshd.clientPublicKey()};
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
    CHECK(closed.error().code == ErrorCode::Unavailable);

    test::TempDir other;
    REQUIRE(std::system(("ssh-keygen -q -t ed25519 -N '' -f " + other.file("k")).c_str()) == 0);
    auto wrong = endpointFor(sshd);
    wrong.private_key_path = other.file("k");
    wrong.public_key_path = other.file("k.pub");
    auto denied = probeSsh(wrong, 5s);
    REQUIRE_FALSE(denied.ok());
    CHECK(denied.error().code == ErrorCode::Unauthorized);
}
