#include "paddock/core/port_allocator.hpp"

#include "result_checks.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

using paddock::ErrorCode;
using paddock::PortAllocator;

namespace {

// Ports below Linux's ephemeral range (32768+), so the free ports other tests pick in parallel
// never land here. Each test uses its own band.
constexpr uint16_t kBandA = 29100;
constexpr uint16_t kBandB = 29200;

// Holds a port bound on 127.0.0.1 like a process outside Paddock would.
class Holder {
public:
    explicit Holder(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(port);
        held_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~Holder() { ::close(fd_); }
    bool held() const { return held_; }

private:
    int fd_;
    bool held_ = false;
};

}  // namespace

TEST_CASE("ports in use, reserved or bound elsewhere are skipped", "[ports]") {
    const uint16_t first = kBandA, last = kBandA + 15;
    PortAllocator ports(first, last);
    Holder outside(first + 1);
    REQUIRE(outside.held());

    auto a = ports.reserve({first});  // `first` is recorded by a live VM
    auto b = ports.reserve({first});
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    for (uint16_t p : {a.value(), b.value()}) {
        CHECK(p >= first);
        CHECK(p <= last);
        CHECK(p != first);      // in use by a VM
        CHECK(p != first + 1);  // bound by someone else
    }
    CHECK(a.value() != b.value());  // reserved ports are not handed out twice
}

TEST_CASE("an exhausted range is Unavailable and a release makes room", "[ports]") {
    PortAllocator ports(kBandB, kBandB + 1);
    auto a = ports.reserve({});
    auto b = ports.reserve({});
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    auto c = ports.reserve({});
    REQUIRE_FALSE(c.ok());
    CHECK(failure(c).code == ErrorCode::Unavailable);
    CHECK(failure(c).message.find("no free SSH forward port") != std::string::npos);
    ports.release(a.value());
    auto d = ports.reserve({});
    REQUIRE(d.ok());
    CHECK(d.value() == a.value());
}

TEST_CASE("the caller is asked about candidate ports only, never the whole range", "[ports]") {
    constexpr uint16_t kBandC = 29300;
    PortAllocator ports(kBandC, kBandC + 99);
    std::vector<uint16_t> asked;
    const auto inUse = [&](uint16_t port) {
        asked.push_back(port);
        return port == kBandC;  // recorded by a VM
    };
    auto a = ports.reserveUnless(inUse);
    REQUIRE(a.ok());
    CHECK(a.value() == kBandC + 1);
    CHECK(asked == std::vector<uint16_t>{kBandC, kBandC + 1});
    asked.clear();
    auto b = ports.reserveUnless(inUse);  // round-robin: on from the port after the last one
    REQUIRE(b.ok());
    CHECK(b.value() == kBandC + 2);
    CHECK(asked == std::vector<uint16_t>{kBandC + 2});
}
