#include "paddock/server/body_limit.hpp"

#include <algorithm>
#include <array>

namespace paddock::server {

namespace {

Error tooLarge(uint64_t limit) {
    return makeError(ErrorCode::PayloadTooLarge,
                     "request body is larger than the limit of " + std::to_string(limit) + " bytes (server.max_body_bytes)");
}

}  // namespace

Status checkDeclaredLength(std::optional<uint64_t> declaredLength, uint64_t limit) {
    if (declaredLength && *declaredLength > limit) return tooLarge(limit);
    return {};
}

Result<std::string> readLimitedBody(std::istream& in, uint64_t limit) {
    std::string body;
    std::array<char, 8192> buffer{};
    while (in) {
        in.read(buffer.data(), buffer.size());
        const auto got = static_cast<uint64_t>(in.gcount());
        if (got == 0) break;
        if (body.size() + got > limit) return tooLarge(limit);
        body.append(buffer.data(), got);
    }
    return body;
}

bool discardBody(std::istream& in, uint64_t cap) {
    std::array<char, 8192> buffer{};
    uint64_t total = 0;
    while (in && total <= cap) {
        in.read(buffer.data(), static_cast<std::streamsize>(std::min<uint64_t>(buffer.size(), cap + 1 - total)));
        const auto got = static_cast<uint64_t>(in.gcount());
        if (got == 0) break;
        total += got;
    }
    return total <= cap && in.eof();
}

}  // namespace paddock::server
