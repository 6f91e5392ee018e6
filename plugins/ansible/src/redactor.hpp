// Takes the become secret out of ansible's output before anyone sees it: every occurrence, as
// is or JSON-escaped the way ansible prints strings (Python's json.dumps, with and without
// ensure_ascii), becomes "********". Pure; no I/O.
#pragma once

#include "secret_bytes.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace paddock::ansible {

constexpr std::string_view kRedacted = "********";

// The byte strings a secret may show up as. Holds copies of the secret (wiped when freed).
class SecretForms {
public:
    // `secret` must be valid UTF-8 (inventory.hpp, checkBecomeSecret); empty: nothing to hide.
    explicit SecretForms(std::string_view secret);

    bool empty() const noexcept { return forms_.empty(); }
    size_t longest() const noexcept { return longest_; }
    // The leftmost occurrence at or after `from` (the longest form when several start there):
    // {position, length}, or {npos, 0}.
    std::pair<size_t, size_t> find(std::string_view text, size_t from) const;
    // `text` with every occurrence replaced by kRedacted.
    std::string redact(std::string_view text) const;

private:
    std::vector<SecretBytes> forms_;
    size_t longest_ = 0;
};

// Redacts one output stream. Takes lines and pieces of lines as the process runner delivers them
// and hands on redacted pieces of at most kMaxLinePiece bytes (the last one of a line with
// endOfLine set). Bytes that could begin a secret continued by the next piece are held back
// until it arrives, so a secret split across pieces is caught too. Not thread-safe.
class LineRedactor {
public:
    using Emit = std::function<void(std::string_view piece, bool endOfLine)>;

    explicit LineRedactor(const SecretForms& forms) : forms_(forms) {}
    void feed(std::string_view piece, bool endOfLine, const Emit& emit);

private:
    const SecretForms& forms_;
    SecretBytes held_;
};

}  // namespace paddock::ansible
