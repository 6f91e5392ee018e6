#include "redactor.hpp"

#include "process_runner.hpp"

#include <algorithm>
#include <cstdio>

#include <string.h>

namespace paddock::ansible {

namespace {

// Decodes one UTF-8 character at `i` (the input is valid UTF-8) and advances `i`.
uint32_t decode(std::string_view s, size_t& i) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b = byte(i);
    if (b < 0x80) {
        ++i;
        return b;
    }
    const int extra = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : 1;
    uint32_t cp = b & (0x3F >> extra);
    ++i;
    for (int k = 0; k < extra && i < s.size(); ++k) cp = (cp << 6) | (byte(i++) & 0x3F);
    return cp;
}

void appendU(SecretBytes& out, uint32_t unit) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(unit));  // Python writes lowercase hex
    append(out, std::string_view(buf, 6));
    ::explicit_bzero(buf, sizeof buf);  // a piece of the secret, escaped
}

// `secret` as Python's json.dumps writes it inside a string literal (without the quotes).
SecretBytes pythonJson(std::string_view secret, bool ensureAscii) {
    SecretBytes out;
    out.reserve(secret.size() * 2);
    for (size_t i = 0; i < secret.size();) {
        const size_t start = i;
        const uint32_t cp = decode(secret, i);
        switch (cp) {
            case '"': append(out, "\\\""); continue;
            case '\\': append(out, "\\\\"); continue;
            case '\n': append(out, "\\n"); continue;
            case '\r': append(out, "\\r"); continue;
            case '\t': append(out, "\\t"); continue;
            case '\b': append(out, "\\b"); continue;
            case '\f': append(out, "\\f"); continue;
            default: break;
        }
        if (cp < 0x20 || (ensureAscii && cp > 0x7E)) {
            if (cp >= 0x10000) {
                const uint32_t v = cp - 0x10000;
                appendU(out, 0xD800 + (v >> 10));
                appendU(out, 0xDC00 + (v & 0x3FF));
            } else {
                appendU(out, cp);
            }
        } else {
            append(out, secret.substr(start, i - start));
        }
    }
    return out;
}

void emitPieces(std::string_view text, bool endOfLine, const LineRedactor::Emit& emit) {
    if (text.empty()) {
        if (endOfLine) emit({}, true);
        return;
    }
    while (!text.empty()) {
        const std::string_view piece = text.substr(0, kMaxLinePiece);
        text.remove_prefix(piece.size());
        emit(piece, endOfLine && text.empty());
    }
}

}  // namespace

SecretForms::SecretForms(std::string_view secret) {
    if (secret.empty()) return;
    SecretBytes raw;
    append(raw, secret);
    for (SecretBytes form : {std::move(raw), pythonJson(secret, false), pythonJson(secret, true)}) {
        if (std::find(forms_.begin(), forms_.end(), form) != forms_.end()) continue;
        longest_ = std::max(longest_, form.size());
        forms_.push_back(std::move(form));
    }
}

std::pair<size_t, size_t> SecretForms::find(std::string_view text, size_t from) const {
    std::pair<size_t, size_t> best{std::string_view::npos, 0};
    for (const SecretBytes& form : forms_) {
        const size_t at = text.find(view(form), from);
        if (at == std::string_view::npos) continue;
        if (at < best.first || (at == best.first && form.size() > best.second)) best = {at, form.size()};
    }
    return best;
}

std::string SecretForms::redact(std::string_view text) const {
    std::string out;
    size_t i = 0;
    for (auto [at, len] = find(text, 0); at != std::string_view::npos; std::tie(at, len) = find(text, i)) {
        out.append(text.substr(i, at - i));
        out.append(kRedacted);
        i = at + len;
    }
    out.append(text.substr(i));
    return out;
}

void LineRedactor::feed(std::string_view piece, bool endOfLine, const Emit& emit) {
    if (forms_.empty()) {
        emitPieces(piece, endOfLine, emit);
        return;
    }
    append(held_, piece);
    const std::string_view text = view(held_);
    if (endOfLine) {
        emitPieces(forms_.redact(text), true, emit);
        held_.clear();
        return;
    }
    // Bytes from `limit` on may be the start of a secret the next piece completes: kept. An
    // occurrence starting before `limit` lies wholly inside `text` (no form is longer than
    // longest()), so find() sees it now.
    const size_t limit = text.size() - std::min(text.size(), forms_.longest() - 1);
    std::string out;
    size_t i = 0;
    for (;;) {
        const auto [at, len] = forms_.find(text, i);
        if (at == std::string_view::npos || at >= limit) break;
        out.append(text.substr(i, at - i));
        out.append(kRedacted);
        i = at + len;
    }
    if (i < limit) {
        out.append(text.substr(i, limit - i));
        i = limit;
    }
    held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(i));
    emitPieces(out, false, emit);
}

}  // namespace paddock::ansible
