// Host-side C++ view of a recorder plugin (pdk_recorder.h). Only the bytes of the plugin's
// vtable covered by its struct_size are read; a NULL flush means "nothing to flush".
#pragma once

#include "paddock/core/plugin_host.hpp"
#include "paddock/core/result.hpp"

#include <paddock/pdk_recorder.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace paddock {

class RecorderSession;

// A loaded recorder plugin. Shared; keeps its library loaded.
class RecorderPlugin : public std::enable_shared_from_this<RecorderPlugin> {
public:
    explicit RecorderPlugin(std::shared_ptr<LoadedPlugin> plugin);
    const PluginInfo& info() const noexcept { return plugin_->info(); }
    const pdk_recorder_vtable& vtable() const noexcept { return vtable_; }

    // Starts one recording (open_session). Thread-safe. `info` is borrowed for the call.
    Result<std::unique_ptr<RecorderSession>> open(const pdk_recording_info& info, uint32_t flags = 0);

private:
    std::shared_ptr<LoadedPlugin> plugin_;
    pdk_recorder_vtable vtable_{};   // zero beyond the plugin's struct_size
};

// The names of the non-NULL entries of a recorder vtable, e.g. "write_event", "flush".
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
