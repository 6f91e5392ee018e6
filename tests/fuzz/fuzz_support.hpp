// Helpers shared by the fuzz targets: checks that stay on in any build type, and deterministic
// ways to cut an input into pieces, so a target can compare feeding data whole with feeding it
// split (libFuzzer replays any finding exactly, since the splits depend on the input alone).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

// A broken invariant: libFuzzer records the input as a crash.
#define FUZZ_CHECK(condition)                                                                      \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                          \
        }                                                                                          \
    } while (false)

namespace paddock::fuzz {

inline std::string_view asText(const uint8_t* data, size_t size) { return {reinterpret_cast<const char*>(data), size}; }

// Piece lengths covering `text`: from a small generator seeded with a hash of the text itself,
// mixing 1-byte pieces (the worst case for any incremental parser) with longer ones.
inline std::vector<size_t> pieceLengths(std::string_view text) {
    uint64_t state = 1469598103934665603ull;  // FNV-1a
    for (const char c : text) state = (state ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    std::vector<size_t> lengths;
    for (size_t done = 0; done < text.size();) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        const size_t left = text.size() - done;
        const size_t length = (state & 3) == 0 ? 1 : 1 + static_cast<size_t>((state >> 8) % left);
        lengths.push_back(length < left ? length : left);
        done += lengths.back();
    }
    return lengths;
}

// `text` in the pieces pieceLengths() gives.
inline std::vector<std::string_view> pieces(std::string_view text) {
    std::vector<std::string_view> out;
    size_t at = 0;
    for (const size_t length : pieceLengths(text)) {
        out.push_back(text.substr(at, length));
        at += length;
    }
    return out;
}

// `text` one byte at a time.
inline std::vector<std::string_view> bytewise(std::string_view text) {
    std::vector<std::string_view> out;
    for (size_t i = 0; i < text.size(); ++i) out.push_back(text.substr(i, 1));
    return out;
}

}  // namespace paddock::fuzz
