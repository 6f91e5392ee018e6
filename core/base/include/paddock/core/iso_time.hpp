// UTC timestamps as Paddock writes them into metadata and JSON: "2024-05-01T12:00:00Z".
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace paddock {

using SystemTime = std::chrono::system_clock::time_point;

// "2024-05-01T12:00:00Z" (whole seconds) and back; nullopt for anything else.
std::string isoTime(SystemTime t);
// "2024-05-01T12:00:00.123Z": with milliseconds, for logs and audit records.
std::string isoTimeMillis(SystemTime t);
std::optional<SystemTime> parseIsoTime(const std::string& text);
// "20240501-120000" (UTC): for names that sort by time (automatic snapshots, backup ids).
std::string compactUtcStamp(SystemTime t);

// Seconds elapsed since `start` on the steady clock (durations for metrics and records).
inline double secondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace paddock
