// IP networks written as an address ("10.1.2.3", "::1") or address/prefix ("10.0.0.0/8",
// "fd00::/8"), for lists of trusted addresses in the configuration. Plain values; thread-safe.
#pragma once

#include "paddock/core/result.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace paddock {

class IpNetwork {
public:
    // InvalidArgument naming `text` when it is neither an address nor address/prefix, or when
    // the prefix is longer than the address (32 bits for IPv4, 128 for IPv6).
    static Result<IpNetwork> parse(std::string_view text);

    // Whether `address` (a literal, e.g. a peer address) lies in the network. An IPv4-mapped
    // IPv6 address (::ffff:10.1.2.3) counts as its IPv4 address; anything unparsable is outside.
    bool contains(std::string_view address) const noexcept;

    const std::string& text() const noexcept { return text_; }

private:
    IpNetwork() = default;

    bool v4_ = true;
    std::array<uint8_t, 16> bytes_{};  // IPv4 in the first 4
    unsigned prefix_ = 0;
    std::string text_;
};

}  // namespace paddock
