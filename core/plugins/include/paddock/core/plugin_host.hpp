// Loads plugins (shared libraries exporting pdk_plugin_entry) with Boost.DLL and keeps them
// loaded for as long as anything made from them lives: every wrapper holds a shared_ptr to its
// library. A library may hold several plugins (a descriptor chain, ABI 1.1); they share one
// PluginLibrary. The library's init runs once all its descriptors are valid; its deinit runs
// exactly once, when the last object made from the library goes away, before it is unloaded.
// Not thread-safe while loading; afterwards the lookups are read-only and may be used from any
// thread.
#pragma once

#include "paddock/core/result.hpp"

#include <paddock/pdk_plugin.h>
#include <paddock/pdk_struct.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace paddock {

class BackendPlugin;
class ProvisionerPlugin;
class RecorderPlugin;

std::string_view pluginKindName(pdk_plugin_kind kind) noexcept;

// "debug", "info", "warning", "error".
std::string_view logLevelName(pdk_log_level level) noexcept;

// Where plugins' log lines go: the level, the id of the library's entry plugin and the line.
// Called on whatever thread the plugin logs from, possibly concurrently: it must be thread-safe,
// return quickly and never call back into the plugin. Levels outside the ABI's arrive clamped
// (above error: error; below debug: debug).
using PluginLogSink = std::function<void(pdk_log_level level, const std::string& pluginId, const std::string& message)>;

// An error record for a plugin call to fill (struct_size set, no message).
pdk_error emptyPdkError() noexcept;

// Maps a pdk_status and message to a core Error.
Error errorFromStatus(pdk_status status, const std::string& message);

// What a NULL vtable entry answers: Unsupported "<operation>: unsupported by <kind> <id>" (501).
inline Error unsupportedOperation(std::string_view operation, std::string_view kind, const std::string& pluginId) {
    return makeError(ErrorCode::Unsupported,
                     std::string(operation) + ": unsupported by " + std::string(kind) + " " + pluginId);
}

// Calls one vtable entry that reports through a trailing pdk_error (`fn(args..., &err)`), or
// answers unsupportedOperation() when it is NULL: the one place both rules live, for every
// plugin kind.
template <class Fn, class... Args>
Status callPlugin(Fn fn, std::string_view operation, std::string_view kind, const std::string& pluginId, Args... args) {
    if (fn == nullptr) return unsupportedOperation(operation, kind, pluginId);
    pdk_error err = emptyPdkError();
    const pdk_status st = fn(args..., &err);
    if (st != PDK_OK) return errorFromStatus(st, err.message);
    return {};
}

// A host-side copy of a struct a plugin made (vtable, domain info, ...): only the bytes its
// struct_size covers are read, so fields an older plugin does not know stay zero (a NULL vtable
// entry = unsupported). struct_size of the copy is sizeof(T).
template <class T>
T copyPluginStruct(const void* theirs) noexcept {
    T v;
    pdk_copy_in(&v, sizeof v, theirs, 0);
    return v;
}

struct PluginInfo {
    std::string id;
    std::string name;
    std::string version;
    std::string description;
    std::string path;
    pdk_plugin_kind kind = PDK_PLUGIN_KIND_BACKEND;
    unsigned abi_major = 0;
    unsigned abi_minor = 0;
    std::vector<std::string> capabilities;  // as declared by the plugin
    std::vector<std::string> operations;    // the vtable entries that are not NULL
};

// One loaded shared library: its Boost.DLL handle and the pdk_host its init received. Its
// destructor calls the library's deinit (when init succeeded) and then unloads it.
class PluginLibrary;

// One plugin (one descriptor of a library). Owned through shared_ptr; keeps its library loaded.
class LoadedPlugin {
public:
    LoadedPlugin(std::shared_ptr<PluginLibrary> library, const pdk_plugin_descriptor* descriptor, PluginInfo info);
    const PluginInfo& info() const noexcept { return info_; }
    const pdk_plugin_descriptor& descriptor() const noexcept { return *descriptor_; }
    const std::shared_ptr<PluginLibrary>& library() const noexcept { return library_; }

private:
    std::shared_ptr<PluginLibrary> library_;
    const pdk_plugin_descriptor* descriptor_;
    PluginInfo info_;
};

namespace detail {
struct PluginLogRouter;
}

struct PluginLoadFailure {
    std::string path;
    std::string message;
};

class PluginHost {
public:
    PluginHost();
    ~PluginHost();
    PluginHost(const PluginHost&) = delete;
    PluginHost& operator=(const PluginHost&) = delete;

    // Where plugin log lines go from now on, for libraries loaded before and after (they may
    // outlive the host: the sink is shared with them). An empty sink restores the default:
    // "paddock: plugin <id>: <level>: <message>" on stderr, debug lines left out. Thread-safe.
    void setLogSink(PluginLogSink sink);

    // Loads one library and registers every plugin of its descriptor chain; the result describes
    // the entry (first) plugin, plugins() lists them all. Refuses the whole library (with a
    // message naming the file and the reason): a file that is not a loadable library, a missing
    // pdk_plugin_entry, a NULL or short descriptor (a descriptor claiming ABI 1.1 must cover the
    // 1.1 fields), an ABI major version other than ours, an unknown kind, a missing vtable or
    // mandatory entry, a chain with a cycle or longer than PDK_MAX_PLUGINS_PER_LIBRARY, an id
    // twice in the chain or already loaded, and a failing init (with the plugin's message).
    Result<PluginInfo> loadFile(const std::string& path);

    // Loads every *.so in `dir` (not recursive). Failures are collected, not fatal.
    Status loadDirectory(const std::string& dir);

    const std::vector<std::shared_ptr<LoadedPlugin>>& plugins() const noexcept { return plugins_; }
    const std::vector<PluginLoadFailure>& failures() const noexcept { return failures_; }

    // The backend plugin with this id; NotFound (listing load failures) or InvalidArgument
    // when the id names a plugin of another kind.
    Result<std::shared_ptr<BackendPlugin>> backend(const std::string& id) const;
    // The provisioner plugin with this id; same errors as backend().
    Result<std::shared_ptr<ProvisionerPlugin>> provisioner(const std::string& id) const;
    // The recorder plugin with this id; same errors as backend().
    Result<std::shared_ptr<RecorderPlugin>> recorder(const std::string& id) const;

private:
    Result<std::shared_ptr<LoadedPlugin>> find(const std::string& id, pdk_plugin_kind kind) const;

    std::shared_ptr<detail::PluginLogRouter> log_;
    std::vector<std::shared_ptr<LoadedPlugin>> plugins_;
    std::vector<PluginLoadFailure> failures_;
};

}  // namespace paddock
