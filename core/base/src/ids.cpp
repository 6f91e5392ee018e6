#include "paddock/core/ids.hpp"

#include <cstdint>
#include <random>

namespace paddock {

std::string randomId(std::string_view prefix, size_t hexDigits) {
    thread_local std::random_device device;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(prefix);
    while (hexDigits > 0) {
        uint32_t bits = device();
        for (int i = 0; i < 8 && hexDigits > 0; ++i, --hexDigits, bits >>= 4) out += kHex[bits & 0xf];
    }
    return out;
}

}  // namespace paddock
