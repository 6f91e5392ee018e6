// The text side of an asciicast: UTF-8 repair of arbitrary byte streams and JSON string
// escaping. No I/O.
#pragma once

#include <string>
#include <string_view>

namespace paddock::asciinema {

// Turns a byte stream that arrives in pieces into valid UTF-8. Invalid bytes become U+FFFD
// (one per maximal invalid subpart, as Python's and WHATWG's decoders do); an incomplete
// character at the end of a piece is held back until the next piece completes it.
class Utf8Repair {
public:
    // Appends the valid UTF-8 of pending + `bytes` to `out`, keeping an incomplete tail.
    void feed(std::string_view bytes, std::string& out);
    // Appends U+FFFD when a tail is held back (the stream ended inside a character).
    void finish(std::string& out);
    bool pending() const noexcept { return !tail_.empty(); }

private:
    std::string tail_;
};

// `bytes` as valid UTF-8, repaired as Utf8Repair does for a whole stream.
std::string repairedUtf8(std::string_view bytes);

// Appends `utf8` as a JSON string literal, quotes included. Control characters are escaped.
void appendJsonString(std::string& out, std::string_view utf8);

// Appends `seconds` with microsecond precision ("1.250000").
void appendSeconds(std::string& out, double seconds);

}  // namespace paddock::asciinema
