// Terminal-session recording: the orchestration side. A SessionRecorder turns one terminal
// session into one recording through the loaded recorder plugin (org.paddock.asciinema writes
// asciinema v2 casts), and lists and reads back the recordings of its directory through the
// same plugin: core knows no storage format.
#pragma once

#include "paddock/core/recorder.hpp"
#include "paddock/core/result.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace prometheus {
class Registry;
}

namespace paddock {

namespace detail {
struct RecorderState;
}

struct RecordingInfo {
    std::string session_id;  // [A-Za-z0-9_.-], 1..128 characters, not starting with '.'
    std::string site, vm, owner, lease;
    uint16_t cols = 80, rows = 24;
    std::string term = "xterm-256color";
    std::string shell = "/bin/bash";
};

// One session's recording. Not thread-safe: one owner thread calls it (the terminal's I/O thread).
// Calls never fail towards the caller: a write error is logged once and the recording stops.
// After close() every call is a no-op; the destructor closes.
class Recording {
public:
    virtual ~Recording() = default;
    virtual void output(std::string_view bytes) = 0;  // what the guest printed ("o")
    virtual void input(std::string_view bytes) = 0;   // what the user typed ("i"); dropped unless record_input
    virtual void resize(uint16_t cols, uint16_t rows) = 0;
    virtual void flush() = 0;  // call about once a second, e.g. from a timer
    virtual void close() = 0;
};

// A recording as the plugin stores it, plus whether this process is still recording it.
struct SessionRecord : StoredSession {
    bool active = false;  // still being recorded by this process
};

// Thread-safe.
class SessionRecorder {
public:
    enum class Mode {
        Record,   // begin() records through the plugin
        ReadOnly  // begin() hands out no-op Recordings; earlier recordings are still listed and read
    };

    // `recorder` may be null: then nothing is recorded, listed or read (begin returns a no-op
    // Recording). With `metrics`, registers paddock_recordings_active, paddock_recordings_total,
    // paddock_recording_bytes_total and paddock_recording_errors_total there.
    SessionRecorder(std::shared_ptr<RecorderPlugin> recorder, std::string directory, bool recordInput,
                    prometheus::Registry* metrics = nullptr, Mode mode = Mode::Record);
    ~SessionRecorder();
    SessionRecorder(const SessionRecorder&) = delete;
    SessionRecorder& operator=(const SessionRecorder&) = delete;

    bool enabled() const noexcept { return recorder_ != nullptr && mode_ == Mode::Record; }
    const std::string& directory() const noexcept { return directory_; }
    bool recordInput() const noexcept { return recordInput_; }

    // Starts a recording of one session. InvalidArgument for a bad session id, AlreadyExists when
    // that id is being recorded, or the plugin's error (e.g. the directory cannot be created).
    Result<std::unique_ptr<Recording>> begin(const RecordingInfo& info);

    // The recordings the plugin lists in the directory, merged with the sessions this process
    // is recording, newest first. Empty filters match everything. A plugin that cannot list
    // (or fails to) leaves only the active sessions (the failure goes to stderr).
    std::vector<SessionRecord> list(const std::string& vm = {}, const std::string& owner = {}) const;

    // Streams one recording's stored bytes to `sink` through the plugin, chunk by chunk, and
    // returns what the plugin knows of it (media type, file extension, ...). InvalidArgument for
    // a malformed id (checked before the plugin sees it, which checks again), NotFound for
    // unknown ids, Unsupported when the plugin cannot read back.
    Result<SessionRecord> read(const std::string& id, const ByteSink& sink) const;

    // What read() returns, without reading: for a caller that then reads in pieces.
    Result<SessionRecord> describe(const std::string& id) const;
    // One range of a recording's stored bytes: from `offset`, at most `maxBytes` (0: to the
    // end); an offset past the end delivers nothing (a recording being written may grow). The
    // errors of read().
    Status readRange(const std::string& id, uint64_t offset, uint64_t maxBytes, const ByteSink& sink) const;

    // Number of recordings currently open, and bytes handed to the plugin so far (for metrics).
    size_t activeCount() const;
    uint64_t bytesRecorded() const;

    // True when `id` is an acceptable session id (see RecordingInfo::session_id).
    static bool validSessionId(std::string_view id) noexcept;
    // The NotFound of an id with no recording, word for word: callers that hide a recording
    // (another owner's) answer with it too.
    static Error notFound(const std::string& id);

private:
    std::shared_ptr<RecorderPlugin> recorder_;
    std::string directory_;
    bool recordInput_;
    Mode mode_;
    std::shared_ptr<detail::RecorderState> state_;  // shared with open recordings: they may outlive this
};

}  // namespace paddock
