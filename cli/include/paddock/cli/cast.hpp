// Reading and playing asciicast v2 recordings (a JSON header line, then one [time, code, data]
// line per event) as paddockd's recorder writes them. Input is untrusted (a downloaded or local
// file): every malformed line is an InvalidArgument naming its line number, lines longer than
// kMaxCastLine are refused, and nothing but "o" (output) events reaches the terminal.
#pragma once

#include "paddock/core/result.hpp"

#include <functional>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace paddock::cli {

inline constexpr size_t kMaxCastLine = 16u << 20;

struct CastHeader {
    unsigned width = 0;
    unsigned height = 0;
};

struct CastEvent {
    double time = 0;   // seconds since the start, >= 0
    std::string code;  // "o", "i", "r", "m", ...
    std::string data;
};

// The header: an object with "version": 2 and positive integer width and height.
Result<CastHeader> parseCastHeader(std::string_view line);
// One event: an array [number >= 0, string, string].
Result<CastEvent> parseCastEvent(std::string_view line);

// Seconds to wait before an event at `current` after one at `previous`: the gap (never
// negative) capped at `idleLimit` when given, divided by `speed` (> 0).
double playbackDelay(double previous, double current, double speed, std::optional<double> idleLimit);

class CastReader {
public:
    explicit CastReader(std::istream& in) : in_(in) {}
    // The first line; call once, before next().
    Result<CastHeader> header();
    // The next event, nullopt at the end. Blank lines are skipped.
    Result<std::optional<CastEvent>> next();

private:
    Result<std::optional<std::string>> readLine();

    std::istream& in_;
    size_t line_ = 0;
};

struct PlayOptions {
    double speed = 1.0;
    std::optional<double> idleLimit{};
    // Waits that many seconds; the terminal player sleeps, tests record.
    std::function<void(double)> wait{};
};

// Writes the output events of the cast in `in` to `out`, waiting between them as `options`
// says, flushing after each. Stops at the first malformed line (its error; what came before
// was played).
Status playCast(std::istream& in, std::ostream& out, const PlayOptions& options);

}  // namespace paddock::cli
