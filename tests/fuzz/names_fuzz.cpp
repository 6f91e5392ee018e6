// core/base names: validateName (VM, pool, template, snapshot names), validateLegacyName (the
// compat create), validateExistingName (lookups) and validateLabel / validateOwner (owners,
// idempotency keys), each against an independent statement of its rule: a std::regex for new
// names; for existing names and labels, size, UTF-8 validity and a code-point scan for controls.
// The three name rules nest: new within legacy within existing.
#include "fuzz_support.hpp"

#include "paddock/core/names.hpp"
#include "paddock/core/utf8.hpp"

#include <regex>

namespace {

using namespace paddock;

// Code points of valid UTF-8 text.
std::vector<uint32_t> codePoints(std::string_view text) {
    std::vector<uint32_t> out;
    for (size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
        uint32_t cp = length == 1 ? lead : lead & (0x7F >> length);
        for (size_t k = 1; k < length; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
        out.push_back(cp);
        i += length;
    }
    return out;
}

bool hasControl(std::string_view utf8) {
    for (const uint32_t cp : codePoints(utf8))
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return true;
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string input(fuzz::asText(data, size));

    static const std::regex kName("[a-z0-9][a-z0-9-]{0,62}");
    const bool nameOk = validateName(input, "VM name").ok();
    FUZZ_CHECK(nameOk == std::regex_match(input, kName));
    static const std::regex kLegacy("[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}");
    const bool legacyOk = validateLegacyName(input).ok();
    FUZZ_CHECK(legacyOk == std::regex_match(input, kLegacy));
    const bool existingOk = validateExistingName(input).ok();
    FUZZ_CHECK(existingOk == (!input.empty() && input.size() <= 255 && isValidUtf8(input) && !hasControl(input) &&
                              input.find('/') == std::string::npos && input != "." && input != ".."));
    FUZZ_CHECK(!nameOk || legacyOk);
    FUZZ_CHECK(!legacyOk || existingOk);

    // The last byte picks the limit, so that both sides of it are reached with short inputs.
    const size_t maxBytes = size == 0 ? 0 : data[size - 1] % 16;
    for (const bool required : {false, true}) {
        const bool expected =
            input.empty() ? !required : input.size() <= maxBytes && isValidUtf8(input) && !hasControl(input);
        FUZZ_CHECK(validateLabel(input, "idempotency key", maxBytes, required).ok() == expected);
        const bool owner =
            input.empty() ? !required : input.size() <= kMaxOwnerBytes && isValidUtf8(input) && !hasControl(input);
        FUZZ_CHECK(validateOwner(input, required).ok() == owner);
    }
    return 0;
}
