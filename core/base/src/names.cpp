#include "paddock/core/names.hpp"

#include "paddock/core/utf8.hpp"

#include <string>

namespace paddock {

namespace {

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool isLegacyStart(char c) { return isLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '_'; }

// Control characters: C0, DEL, and C1 (U+0080-U+009F, "\xC2\x80"-"\xC2\x9F" in UTF-8).
bool hasControl(std::string_view text) {
    for (size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const bool c1 = c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xA0;
        if (c < 0x20 || c == 0x7f || c1) return true;
    }
    return false;
}

// The start of a name for an error message: at most 80 bytes, cut on a character boundary.
std::string shown(std::string_view name) { return toValidUtf8(name.substr(0, 80)); }

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
    if (hasControl(text)) return makeError(ErrorCode::InvalidArgument, field + " must not contain control characters");
    return {};
}

Status validateLegacyName(std::string_view name, std::string_view what) {
    const auto bad = [&](const std::string& why) {
        return makeError(ErrorCode::InvalidArgument, std::string(what) + " '" + shown(name) + "' is invalid: " + why +
                                                         " (allowed: ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$)");
    };
    if (name.empty()) return makeError(ErrorCode::InvalidArgument, std::string(what) + " must not be empty");
    if (name.size() > 63) return bad("longer than 63 characters");
    if (!isLegacyStart(name.front())) return bad("must start with a letter, a digit or '_'");
    for (char c : name) {
        if (!isLegacyStart(c) && c != '.' && c != '-')
            return bad("contains a character other than letters, digits, '_', '.' and '-'");
    }
    return {};
}

Status validateExistingName(std::string_view name, std::string_view what) {
    const std::string field(what);
    if (name.empty()) return makeError(ErrorCode::InvalidArgument, field + " must not be empty");
    if (name.size() > 255) return makeError(ErrorCode::InvalidArgument, field + " is longer than 255 bytes");
    if (!isValidUtf8(name)) return makeError(ErrorCode::InvalidArgument, field + " is not valid UTF-8");
    if (hasControl(name)) return makeError(ErrorCode::InvalidArgument, field + " must not contain control characters");
    if (name.find('/') != std::string_view::npos)
        return makeError(ErrorCode::InvalidArgument, field + " '" + shown(name) + "' must not contain '/'");
    if (name == "." || name == "..")
        return makeError(ErrorCode::InvalidArgument, field + " must not be '" + std::string(name) + "'");
    return {};
}

}  // namespace paddock
