// Loads plugins (shared libraries exporting pdk_plugin_entry) with Boost.DLL and keeps them
// loaded for as long as anything made from them lives: every wrapper holds a shared_ptr to its
// library. Not thread-safe while loading; afterwards the lookups are read-only and may be used
// from any thread.
#pragma once

#include "paddock/core/result.hpp"

#include <paddock/pdk_plugin.h>
#include <paddock/pdk_struct.h>

#include <memory>
#include <string>
#include <vector>

namespace boost::dll { class shared_library; }

namespace paddock {

class BackendPlugin;
class RecorderPlugin;

std::string_view pluginKindName(pdk_plugin_kind kind) noexcept;

// An error record for a plugin call to fill (struct_size set, no message).
pdk_error emptyPdkError() noexcept;

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
    std::vector<std::string> capabilities;   // as declared by the plugin
    std::vector<std::string> operations;     // backends, recorders: the vtable entries that are not NULL
};

// One loaded library and its descriptor. Owned through shared_ptr.
class LoadedPlugin {
public:
    LoadedPlugin(std::shared_ptr<boost::dll::shared_library> library, const pdk_plugin_descriptor* descriptor,
                 PluginInfo info);
    const PluginInfo& info() const noexcept { return info_; }
    const pdk_plugin_descriptor& descriptor() const noexcept { return *descriptor_; }
    const std::shared_ptr<boost::dll::shared_library>& library() const noexcept { return library_; }

private:
    std::shared_ptr<boost::dll::shared_library> library_;
    const pdk_plugin_descriptor* descriptor_;
    PluginInfo info_;
};

struct PluginLoadFailure {
    std::string path;
    std::string message;
};

class PluginHost {
public:
    // Loads one library. Refuses (with a message naming the file and the reason): a file that
    // is not a loadable library, a missing pdk_plugin_entry, a NULL or short descriptor, an ABI
    // major version other than ours, an unknown kind, a missing vtable or mandatory entry, and
    // a duplicate id.
    Result<PluginInfo> loadFile(const std::string& path);

    // Loads every *.so in `dir` (not recursive). Failures are collected, not fatal.
    Status loadDirectory(const std::string& dir);

    const std::vector<std::shared_ptr<LoadedPlugin>>& plugins() const noexcept { return plugins_; }
    const std::vector<PluginLoadFailure>& failures() const noexcept { return failures_; }

    // The backend plugin with this id; NotFound (listing load failures) or InvalidArgument
    // when the id names a plugin of another kind.
    Result<std::shared_ptr<BackendPlugin>> backend(const std::string& id) const;
    // The recorder plugin with this id; same errors as backend().
    Result<std::shared_ptr<RecorderPlugin>> recorder(const std::string& id) const;

private:
    Result<std::shared_ptr<LoadedPlugin>> find(const std::string& id, pdk_plugin_kind kind) const;

    std::vector<std::shared_ptr<LoadedPlugin>> plugins_;
    std::vector<PluginLoadFailure> failures_;
};

}  // namespace paddock
