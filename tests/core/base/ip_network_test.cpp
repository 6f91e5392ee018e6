#include "paddock/core/ip_network.hpp"

#include <catch2/catch.hpp>

using paddock::IpNetwork;

namespace {

IpNetwork net(const std::string& text) {
    auto parsed = IpNetwork::parse(text);
    INFO(text);
    REQUIRE(parsed.ok());
    return parsed.value();
}

}  // namespace

TEST_CASE("ip network: addresses and prefixes", "[ip_network]") {
    CHECK(net("10.0.0.0/8").contains("10.255.1.2"));
    CHECK_FALSE(net("10.0.0.0/8").contains("11.0.0.1"));
    CHECK(net("192.168.4.0/22").contains("192.168.7.255"));
    CHECK_FALSE(net("192.168.4.0/22").contains("192.168.8.0"));
    CHECK(net("127.0.0.1").contains("127.0.0.1"));
    CHECK_FALSE(net("127.0.0.1").contains("127.0.0.2"));
    CHECK(net("0.0.0.0/0").contains("203.0.113.9"));
    CHECK(net("fd00::/8").contains("fd12:3456::1"));
    CHECK_FALSE(net("fd00::/8").contains("fe80::1"));
    CHECK(net("::1").contains("::1"));
    CHECK(net("10.0.0.0/8").text() == "10.0.0.0/8");
}

TEST_CASE("ip network: IPv4-mapped IPv6 peers count as IPv4; garbage is outside", "[ip_network]") {
    CHECK(net("10.0.0.0/8").contains("::ffff:10.1.2.3"));
    CHECK_FALSE(net("::/0").contains("::ffff:10.1.2.3"));
    CHECK_FALSE(net("10.0.0.0/8").contains("fd00::1"));
    CHECK_FALSE(net("0.0.0.0/0").contains("unknown"));
    CHECK_FALSE(net("0.0.0.0/0").contains(""));
}

TEST_CASE("ip network: malformed networks are refused", "[ip_network]") {
    for (const char* bad :
         {"", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0/8", "host.example.org", "10.0.0.0/8x", "/8"}) {
        INFO(bad);
        CHECK_FALSE(IpNetwork::parse(bad).ok());
    }
}
