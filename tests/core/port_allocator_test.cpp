#include "paddock/core/port_allocator.hpp"

#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using paddock::ErrorCode;
using paddock::PortAllocator;

TEST_CASE("ports in use, reserved or bound elsewhere are skipped", "[ports]") {
    const uint16_t base = paddock::test::freeLoopbackPort();
    if (base > 65530) return;  // not enough room above; the kernel picks again next run
    PortAllocator ports(base, static_cast<uint16_t>(base + 3));

    // Something outside Paddock listens on base+1.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(base + 1));
    const bool held = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;

    auto a = ports.reserve({base});  // base is recorded by a live VM
    REQUIRE(a.ok());
    CHECK(a.value() == (held ? base + 2 : base + 1));
    auto b = ports.reserve({base});
    REQUIRE(b.ok());
    CHECK(b.value() != a.value());
    ::close(fd);
}

TEST_CASE("an exhausted range is Unavailable and a release makes room", "[ports]") {
    const uint16_t port = paddock::test::freeLoopbackPort();
    PortAllocator ports(port, port);
    auto a = ports.reserve({});
    REQUIRE(a.ok());
    auto b = ports.reserve({});
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().code == ErrorCode::Unavailable);
    ports.release(a.value());
    CHECK(ports.reserve({}).ok());
}
