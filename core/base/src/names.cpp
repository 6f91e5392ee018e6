#include "paddock/core/names.hpp"

#include "paddock/core/utf8.hpp"

#include <string>

namespace paddock {

namespace {
bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
}  // namespace

Status validateName(std::string_view name, std::string_view what) {
    const auto bad = [&](const std::string& why) {
        return makeError(ErrorCode::InvalidArgument, std::string(what) + " '" + std::string(name.substr(0, 80)) +
                                                         "' is invalid: " + why +
                                                         " (allowed: ^[a-z0-9][a-z0-9-]{0,62}$)");
    };
    if (name.empty()) return makeError(ErrorCode::InvalidArgument, std::string(what) + " must not be empty");
    if (name.size() > 63) return bad("longer than 63 characters");
    if (!isLowerAlnum(name.front())) return bad("must start with a lower-case letter or digit");
    for (char c : name) {
        if (!isLowerAlnum(c) && c != '-') return bad("contains a character other than a-z, 0-9 and '-'");
    }
    return {};
}

Status validateLabel(std::string_view text, std::string_view what, size_t maxBytes, bool required) {
    const std::string field(what);
    if (text.empty()) {
        if (required) return makeError(ErrorCode::InvalidArgument, field + " must not be empty");
        return {};
    }
    if (text.size() > maxBytes)
        return makeError(ErrorCode::InvalidArgument, field + " is longer than " + std::to_string(maxBytes) + " bytes");
    if (!isValidUtf8(text)) return makeError(ErrorCode::InvalidArgument, field + " is not valid UTF-8");
    for (size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const bool c1 = c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xA0;
        if (c < 0x20 || c == 0x7f || c1)
            return makeError(ErrorCode::InvalidArgument, field + " must not contain control characters");
    }
    return {};
}

}  // namespace paddock
