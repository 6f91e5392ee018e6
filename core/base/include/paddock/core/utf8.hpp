// UTF-8 as text that may be shown or serialised: bytes that can never be UTF-8 become U+FFFD.
// Used for terminal output sent as text frames and for every string the JSON writer emits, so
// client-chosen bytes (a path, a name) never make a response or a log line invalid.
#pragma once

#include <string>
#include <string_view>

namespace paddock {

// A byte stream as valid UTF-8 text: a character split across chunks is held back until its
// last byte arrives; bytes that can never be UTF-8 become U+FFFD. One stream per connection;
// not thread-safe.
class Utf8Stream {
public:
    std::string feed(std::string_view bytes);
    // What is still held back, as U+FFFD (the stream ended inside a character).
    std::string finish();

private:
    std::string pending_;
};

// True when `text` is valid UTF-8 (an all-ASCII string is checked without decoding).
bool isValidUtf8(std::string_view text) noexcept;

// `text` with every invalid byte sequence replaced by U+FFFD.
std::string toValidUtf8(std::string_view text);

}  // namespace paddock
