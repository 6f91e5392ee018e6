// Host-side C++ view of a recorder plugin (pdk_recorder.h). Only the bytes of the plugin's
// vtable covered by its struct_size are read; a NULL flush means "nothing to flush"; NULL
// list_sessions / read_session (every 1.0 recorder) answer Unsupported; a NULL
// read_session_range (recorders before 1.3) is read through read_session.
#pragma once

#include "paddock/core/plugin_host.hpp"
#include "paddock/core/result.hpp"

#include <paddock/pdk_recorder.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace paddock {

class RecorderSession;

// One stored recording, as the recorder plugin lists it (pdk_session_info). The strings that end
// up in HTTP headers are checked here: a media type that is not type/subtype of token characters
// becomes "application/octet-stream", an extension that is not 1-16 letters or digits "".
struct StoredSession {
    std::string id, site, vm, owner, lease;
    std::string path;  // where the plugin stores it, for operators; may be empty
    int64_t started_unix = 0;
    double duration_s = 0;  // time of the last stored event
    uint64_t bytes = 0;     // what readSession delivers
    std::string media_type = "application/octet-stream";
    std::string format;          // e.g. "asciicast-v2"
    std::string file_extension;  // e.g. "cast", without the dot
};

// Receives a recording's bytes in order; returning false stops the read (not an error).
using ByteSink = std::function<bool(std::string_view chunk)>;

// A loaded recorder plugin. Shared; keeps its library loaded.
class RecorderPlugin : public std::enable_shared_from_this<RecorderPlugin> {
public:
    explicit RecorderPlugin(std::shared_ptr<LoadedPlugin> plugin);
    const PluginInfo& info() const noexcept { return plugin_->info(); }
    const pdk_recorder_vtable& vtable() const noexcept { return vtable_; }

    // Starts one recording (open_session). Thread-safe. `info` is borrowed for the call.
    Result<std::unique_ptr<RecorderSession>> open(const pdk_recording_info& info, uint32_t flags = 0);

    // The recordings stored in `directory` (list_sessions), or with `id` only that one
    // (NotFound when it is not there). Thread-safe.
    Result<std::vector<StoredSession>> listSessions(const std::string& directory, const std::string& id = {}) const;

    // Hands one recording's bytes to `sink` chunk by chunk, never all at once: from byte `offset`
    // on, at most `maxBytes` of them (0: to the end). A range is read with read_session_range
    // (ABI 1.3), or through read_session skipping what comes before it; either way the sink sees
    // no byte outside the range. An offset past the end delivers nothing. NotFound when it is not
    // there. Thread-safe; the sink runs on the calling thread.
    Status readSession(const std::string& directory, const std::string& id, const ByteSink& sink, uint64_t offset = 0,
                       uint64_t maxBytes = 0) const;

private:
    std::shared_ptr<LoadedPlugin> plugin_;
    pdk_recorder_vtable vtable_{};  // zero beyond the plugin's struct_size
};

// The names of the non-NULL entries of a recorder vtable, e.g. "write_event", "list_sessions".
std::vector<std::string> recorderOperations(const pdk_recorder_vtable& vtable);

// One open recording. Not thread-safe: one thread at a time (pdk_recorder.h). Closes on destruction.
class RecorderSession {
public:
    RecorderSession(std::shared_ptr<RecorderPlugin> plugin, pdk_recording* handle);
    ~RecorderSession();
    RecorderSession(const RecorderSession&) = delete;
    RecorderSession& operator=(const RecorderSession&) = delete;

    Status write(double seconds, char kind, std::string_view data, uint32_t flags = 0);
    Status flush(uint32_t flags = 0);
    // Closes now (idempotent); later calls answer Conflict.
    void close() noexcept;

private:
    std::shared_ptr<RecorderPlugin> plugin_;
    pdk_recording* handle_;
};

}  // namespace paddock
