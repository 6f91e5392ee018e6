#include "paddock/core/utf8.hpp"

namespace paddock {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

bool isContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Bytes the sequence starting with `lead` needs, and the allowed range of its second byte
// (RFC 3629 table: excludes overlongs, surrogates and code points above U+10FFFF); 0 if invalid.
size_t sequenceLength(unsigned char lead, unsigned char& low, unsigned char& high) {
    low = 0x80;
    high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) return 2;
    if (lead >= 0xE0 && lead <= 0xEF) {
        if (lead == 0xE0) low = 0xA0;
        if (lead == 0xED) high = 0x9F;
        return 3;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        if (lead == 0xF0) low = 0x90;
        if (lead == 0xF4) high = 0x8F;
        return 4;
    }
    return 0;
}

}  // namespace

std::string Utf8Stream::feed(std::string_view bytes) {
    std::string data = std::move(pending_);
    pending_.clear();
    data.append(bytes);
    std::string out;
    out.reserve(data.size());
    size_t i = 0;
    while (i < data.size()) {
        const auto c = static_cast<unsigned char>(data[i]);
        if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        unsigned char low = 0, high = 0;
        const size_t length = sequenceLength(c, low, high);
        if (length == 0) {
            out += kReplacement;
            ++i;
            continue;
        }
        size_t valid = 1;  // bytes of the sequence that are fine so far
        while (valid < length && i + valid < data.size()) {
            const auto next = static_cast<unsigned char>(data[i + valid]);
            const bool ok = valid == 1 ? (next >= low && next <= high) : isContinuation(next);
            if (!ok) break;
            ++valid;
        }
        if (valid == length) {
            out.append(data, i, length);
            i += length;
        } else if (i + valid == data.size()) {
            pending_ = data.substr(i);  // the rest of this character is still on its way
            break;
        } else {
            out += kReplacement;
            i += valid;
        }
    }
    return out;
}

std::string Utf8Stream::finish() {
    if (pending_.empty()) return {};
    pending_.clear();
    return std::string(kReplacement);
}

bool isValidUtf8(std::string_view text) noexcept {
    size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        unsigned char low = 0, high = 0;
        const size_t length = sequenceLength(c, low, high);
        if (length == 0 || i + length > text.size()) return false;
        const auto second = static_cast<unsigned char>(text[i + 1]);
        if (second < low || second > high) return false;
        for (size_t k = 2; k < length; ++k)
            if (!isContinuation(static_cast<unsigned char>(text[i + k]))) return false;
        i += length;
    }
    return true;
}

std::string toValidUtf8(std::string_view text) {
    if (isValidUtf8(text)) return std::string(text);
    Utf8Stream stream;
    std::string out = stream.feed(text);
    out += stream.finish();
    return out;
}

}  // namespace paddock
