#include "paddock/core/json_writer.hpp"

#include "paddock/core/utf8.hpp"

namespace paddock {

namespace {

// RapidJSON 1.1.0's SSE2 string scan (RAPIDJSON_SSE2, set in the root CMakeLists.txt) takes only
// bytes up to 0x19 for control characters, so 0x1A..0x1F inside a 16-byte run were written raw:
// invalid JSON (found by fuzzing). Strings holding one are quoted here instead; others keep the
// fast path.
bool hasHighControl(std::string_view text) {
    for (const char c : text)
        if (c >= 0x1a && c <= 0x1f) return true;
    return false;
}

// `text` (valid UTF-8) as a JSON string literal, quotes included.
std::string quoted(std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size() + 8);
    out += '"';
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20) {
            out += "\\u00";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

}  // namespace

// Strings may carry client-chosen bytes (a path, a name): what is written is always valid
// UTF-8, so a response or an audit line never becomes invalid JSON.
JsonWriter& JsonWriter::key(std::string_view name) { return string(name, true); }

JsonWriter& JsonWriter::value(std::string_view text) { return string(text, false); }

JsonWriter& JsonWriter::string(std::string_view text, bool isKey) {
    std::string valid;
    if (!isValidUtf8(text)) {
        valid = toValidUtf8(text);
        text = valid;
    }
    if (hasHighControl(text)) {
        // A raw string literal stands in for a key as well as for a value.
        const std::string literal = quoted(text);
        writer_.RawValue(literal.data(), literal.size(), rapidjson::kStringType);
    } else if (isKey) {
        writer_.Key(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    } else {
        writer_.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    }
    return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
    writer_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
    return *this;
}

}  // namespace paddock
