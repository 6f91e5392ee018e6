#include "paddock/core/iso_time.hpp"

#include <cstdio>
#include <ctime>

namespace paddock {

namespace {

// `t` in UTC, whole seconds, as strftime's `format` writes it (at most 31 characters).
std::string formatUtc(SystemTime t, const char* format) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

}  // namespace

std::string isoTime(SystemTime t) { return formatUtc(t, "%Y-%m-%dT%H:%M:%SZ"); }

std::string compactUtcStamp(SystemTime t) { return formatUtc(t, "%Y%m%d-%H%M%S"); }

std::string isoTimeMillis(SystemTime t) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
    std::string text = isoTime(t);
    char fraction[8];
    std::snprintf(fraction, sizeof fraction, ".%03d", static_cast<int>(ms));
    text.insert(text.size() - 1, fraction);  // before the 'Z'
    return text;
}

std::optional<SystemTime> parseIsoTime(const std::string& text) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end == nullptr || *end != '\0') return std::nullopt;
    const std::time_t seconds = timegm(&tm);
    // system_clock counts nanoseconds in 64 bits: about 1677..2262. A time outside that (a file
    // edited by hand, another program's) is no time, not an overflow.
    constexpr auto kLimit = std::chrono::duration_cast<std::chrono::seconds>(SystemTime::duration::max()).count();
    if (seconds >= kLimit || seconds <= -kLimit) return std::nullopt;
    return std::chrono::system_clock::from_time_t(seconds);
}

}  // namespace paddock
