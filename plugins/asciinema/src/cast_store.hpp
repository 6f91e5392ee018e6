// The casts of one recording directory, read back: listing (<directory>/<session_id>.cast files
// whose first line is an asciicast v2 header) and reading one cast's bytes. Only regular files
// count; a symbolic link is never followed. Threading: any thread, concurrently with writers
// (a cast being written is read as far as it has been flushed).
#pragma once

#include <paddock/pdk_recorder.h>

#include <string_view>

namespace paddock::asciinema {

inline constexpr const char* kCastMediaType = "application/x-asciicast";
inline constexpr const char* kCastFormat = "asciicast-v2";
inline constexpr const char* kCastExtension = "cast";

// [A-Za-z0-9_.-]{1,128}, not starting with '.' (pdk_recording_info.session_id).
bool validSessionId(std::string_view id) noexcept;

// list_sessions and read_session of pdk_recorder.h. Throw pdk::Error.
void listCasts(const char* directory, const char* sessionId, uint32_t flags, pdk_session_sink sink, void* user);
// From byte `offset` on, at most `maxBytes` (0: to the end); read_session is the range (0, 0).
void readCast(const char* directory, const char* sessionId, uint64_t offset, uint64_t maxBytes, uint32_t flags,
              pdk_bytes_sink sink, void* user);

}  // namespace paddock::asciinema
