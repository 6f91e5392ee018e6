// One recording written as an asciinema v2 cast (<directory>/<session_id>.cast, mode 0640):
// a JSON header line, then one [time, kind, data] line per event. Buffered; flushed when an
// event is a second or more past the last flush, on flush() and on close.
#pragma once

#include "cast_json.hpp"

#include <paddock/pdk_recorder.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace paddock::asciinema {

class CastRecording {
public:
    // Throws pdk::Error (see open_session in pdk_recorder.h).
    static std::unique_ptr<CastRecording> open(const pdk_recording_info& info, uint32_t flags);
    ~CastRecording();
    CastRecording(const CastRecording&) = delete;
    CastRecording& operator=(const CastRecording&) = delete;

    void write(double seconds, char kind, std::string_view data, uint32_t flags);
    void flush(uint32_t flags);

    // Reading back what the recordings of a directory stored (cast_store.hpp).
    static void listSessions(const char* directory, const char* sessionId, uint32_t flags, pdk_session_sink sink,
                             void* user);
    static void readSession(const char* directory, const char* sessionId, uint32_t flags, pdk_bytes_sink sink,
                            void* user);
    static void readSessionRange(const char* directory, const char* sessionId, uint64_t offset, uint64_t maxBytes,
                                 uint32_t flags, pdk_bytes_sink sink, void* user);

private:
    CastRecording(std::FILE* file, std::string path, bool recordInput);
    void writeLine(double seconds, char kind, std::string_view utf8);
    void flushFile(bool sync);

    std::FILE* file_;
    std::string path_;
    bool recordInput_;
    double lastTime_ = 0;   // events never go back in time
    double lastFlush_ = 0;  // `seconds` of the last flush
    bool dirty_ = false;    // lines written since the last flush
    Utf8Repair output_, input_;
    std::string line_;  // reused for every event
    std::unique_ptr<char[]> buffer_;
};

}  // namespace paddock::asciinema
