#include "paddock/core/names.hpp"

#include <string>

namespace paddock {

namespace {
bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
}  // namespace

Status validateName(std::string_view name, std::string_view what) {
    const auto bad = [&](const std::string& why) {
        return makeError(ErrorCode::InvalidArgument,
                         std::string(what) + " '" + std::string(name.substr(0, 80)) + "' is invalid: " + why +
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

}  // namespace paddock
