#include "paddock/core/ip_network.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <optional>

namespace paddock {

namespace {

struct Address {
    bool v4 = true;
    std::array<uint8_t, 16> bytes{};
};

std::optional<Address> parseAddress(std::string_view text) {
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    char copy[INET6_ADDRSTRLEN] = {0};
    std::memcpy(copy, text.data(), text.size());
    Address a;
    if (::inet_pton(AF_INET, copy, a.bytes.data()) == 1) return a;
    if (::inet_pton(AF_INET6, copy, a.bytes.data()) != 1) return std::nullopt;
    // ::ffff:a.b.c.d is how an IPv6 socket shows an IPv4 client.
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a.bytes.data(), kMapped, sizeof kMapped) == 0) {
        std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
        std::memset(a.bytes.data() + 4, 0, 12);
        return a;
    }
    a.v4 = false;
    return a;
}

}  // namespace

Result<IpNetwork> IpNetwork::parse(std::string_view text) {
    // (Built with append: GCC 12 warns falsely about "'" + std::string.)
    const std::string quoted = std::string("'").append(text).append("'");
    const auto slash = text.find('/');
    const auto address = parseAddress(text.substr(0, slash));
    if (!address)
        return makeError(ErrorCode::InvalidArgument, quoted + " is not an IP address or network (address/prefix)");
    const unsigned bits = address->v4 ? 32 : 128;
    unsigned prefix = bits;
    if (slash != std::string_view::npos) {
        const std::string_view digits = text.substr(slash + 1);
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || prefix > bits)
            return makeError(ErrorCode::InvalidArgument,
                             quoted + ": the prefix length must be 0.." + std::to_string(bits));
    }
    IpNetwork network;
    network.v4_ = address->v4;
    network.bytes_ = address->bytes;
    network.prefix_ = prefix;
    network.text_ = std::string(text);
    return network;
}

bool IpNetwork::contains(std::string_view text) const noexcept {
    const auto address = parseAddress(text);
    if (!address || address->v4 != v4_) return false;
    const unsigned whole = prefix_ / 8;
    if (std::memcmp(address->bytes.data(), bytes_.data(), whole) != 0) return false;
    const unsigned rest = prefix_ % 8;
    if (rest == 0) return true;
    const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (address->bytes[whole] & mask) == (bytes_[whole] & mask);
}

}  // namespace paddock
