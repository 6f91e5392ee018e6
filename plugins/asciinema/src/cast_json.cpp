#include "cast_json.hpp"

#include <cstdio>

namespace paddock::asciinema {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the character a lead byte starts (0: never valid as a lead) and the allowed range
// of its first continuation byte (which excludes overlongs, surrogates and > U+10FFFF).
struct Lead {
    int continuation;
    unsigned char lo, hi;
};

Lead lead(unsigned char c) noexcept {
    if (c >= 0xC2 && c <= 0xDF) return {1, 0x80, 0xBF};
    if (c == 0xE0) return {2, 0xA0, 0xBF};
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return {2, 0x80, 0xBF};
    if (c == 0xED) return {2, 0x80, 0x9F};
    if (c == 0xF0) return {3, 0x90, 0xBF};
    if (c >= 0xF1 && c <= 0xF3) return {3, 0x80, 0xBF};
    if (c == 0xF4) return {3, 0x80, 0x8F};
    return {0, 0, 0};
}

}  // namespace

void Utf8Repair::feed(std::string_view bytes, std::string& out) {
    std::string joined;
    std::string_view s = bytes;
    if (!tail_.empty()) {
        joined = std::move(tail_);
        joined.append(bytes);
        s = joined;
        tail_.clear();
    }
    size_t i = 0;
    const size_t n = s.size();
    while (i < n) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            size_t j = i + 1;
            while (j < n && static_cast<unsigned char>(s[j]) < 0x80) ++j;
            out.append(s.substr(i, j - i));
            i = j;
            continue;
        }
        const Lead l = lead(c);
        if (l.continuation == 0) {
            out.append(kReplacement);
            ++i;
            continue;
        }
        int k = 1;
        bool bad = false;
        for (; k <= l.continuation && i + k < n; ++k) {
            const auto d = static_cast<unsigned char>(s[i + k]);
            const unsigned char lo = k == 1 ? l.lo : 0x80, hi = k == 1 ? l.hi : 0xBF;
            if (d < lo || d > hi) {
                bad = true;
                break;
            }
        }
        if (bad) {  // the bytes before the offending one form one maximal invalid subpart
            out.append(kReplacement);
            i += static_cast<size_t>(k);
        } else if (k <= l.continuation) {  // ran out of input inside a valid prefix
            tail_.assign(s.substr(i));
            return;
        } else {
            out.append(s.substr(i, static_cast<size_t>(l.continuation) + 1));
            i += static_cast<size_t>(l.continuation) + 1;
        }
    }
}

void Utf8Repair::finish(std::string& out) {
    if (!tail_.empty()) out.append(kReplacement);
    tail_.clear();
}

std::string repairedUtf8(std::string_view bytes) {
    std::string utf8;
    Utf8Repair repair;
    repair.feed(bytes, utf8);
    repair.finish(utf8);
    return utf8;
}

void appendJsonString(std::string& out, std::string_view utf8) {
    static const char* hex = "0123456789abcdef";
    out.push_back('"');
    for (const char ch : utf8) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out.append("\\\""); break;
            case '\\': out.append("\\\\"); break;
            case '\b': out.append("\\b"); break;
            case '\f': out.append("\\f"); break;
            case '\n': out.append("\\n"); break;
            case '\r': out.append("\\r"); break;
            case '\t': out.append("\\t"); break;
            default:
                if (c < 0x20 || c == 0x7F) {
                    out.append("\\u00");
                    out.push_back(hex[c >> 4]);
                    out.push_back(hex[c & 0xF]);
                } else {
                    out.push_back(ch);
                }
        }
    }
    out.push_back('"');
}

void appendSeconds(std::string& out, double seconds) {
    // Written whole however long (a huge double has hundreds of digits): a shortened text would
    // store another time than the event's, and could put a later event before an earlier one.
    const int n = std::snprintf(nullptr, 0, "%.6f", seconds);
    if (n <= 0) return;
    const size_t at = out.size();
    out.resize(at + static_cast<size_t>(n) + 1);
    std::snprintf(out.data() + at, static_cast<size_t>(n) + 1, "%.6f", seconds);
    out.resize(at + static_cast<size_t>(n));
}

}  // namespace paddock::asciinema
