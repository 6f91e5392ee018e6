// Terminal-session recording: the orchestration side. A SessionRecorder turns one terminal
// session into one recording through the loaded recorder plugin (org.paddock.asciinema writes
// asciinema v2 casts) and lists the recordings found in its directory.
#pragma once

#include "paddock/core/result.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace prometheus { class Registry; }

namespace paddock {

class RecorderPlugin;
namespace detail { struct RecorderState; }

struct RecordingInfo {
    std::string session_id;                 // [A-Za-z0-9_.-], 1..128 characters, not starting with '.'
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
    virtual void output(std::string_view bytes) = 0;   // what the guest printed ("o")
    virtual void input(std::string_view bytes) = 0;    // what the user typed ("i"); dropped unless record_input
    virtual void resize(uint16_t cols, uint16_t rows) = 0;
    virtual void flush() = 0;                          // call about once a second, e.g. from a timer
    virtual void close() = 0;
};

struct SessionRecord {
    std::string id, site, vm, owner, lease, path;
    int64_t started_unix = 0;
    double duration_s = 0;
    uint64_t bytes = 0;                     // size of the cast file
    bool active = false;                    // still being recorded by this process
};

// Thread-safe.
class SessionRecorder {
public:
    // `recorder` may be null: then recordings are disabled (begin returns a no-op Recording).
    // With `metrics`, registers paddock_recordings_active, paddock_recordings_total,
    // paddock_recording_bytes_total and paddock_recording_errors_total there.
    SessionRecorder(std::shared_ptr<RecorderPlugin> recorder, std::string directory, bool recordInput,
                    prometheus::Registry* metrics = nullptr);
    ~SessionRecorder();
    SessionRecorder(const SessionRecorder&) = delete;
    SessionRecorder& operator=(const SessionRecorder&) = delete;

    bool enabled() const noexcept { return recorder_ != nullptr; }
    const std::string& directory() const noexcept { return directory_; }
    bool recordInput() const noexcept { return recordInput_; }

    // Starts a recording of one session. InvalidArgument for a bad session id, AlreadyExists when
    // that id is being recorded, or the plugin's error (e.g. the directory cannot be created).
    Result<std::unique_ptr<Recording>> begin(const RecordingInfo& info);

    // From the cast files in the directory (header line + last event time) plus active sessions,
    // newest first. Empty filters match everything.
    std::vector<SessionRecord> list(const std::string& vm = {}, const std::string& owner = {}) const;

    // The cast file of a session. InvalidArgument for a malformed id (no path traversal),
    // NotFound for unknown ids.
    Result<std::string> castPath(const std::string& id) const;

    // Number of recordings currently open, and bytes handed to the plugin so far (for metrics).
    size_t activeCount() const;
    uint64_t bytesRecorded() const;

    // True when `id` is an acceptable session id (see RecordingInfo::session_id).
    static bool validSessionId(std::string_view id) noexcept;

private:

    std::shared_ptr<RecorderPlugin> recorder_;
    std::string directory_;
    bool recordInput_;
    std::shared_ptr<detail::RecorderState> state_;   // shared with open recordings: they may outlive this
};

}  // namespace paddock
