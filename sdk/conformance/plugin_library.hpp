// Loading a plugin library the way paddockd does (dlopen now + local), walking its descriptor
// chain, and the pdk_host the kit lends to init: it records every log line and whether one
// arrived outside init..deinit.
#pragma once

#include <paddock/pdk_backend.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace paddock::conformance {

// The library stays mapped until the process exits: a late call from a plugin thread must not
// land in unmapped code while the kit is still reporting.
class PluginLibrary {
public:
    // Empty with `error` set when dlopen fails.
    static std::unique_ptr<PluginLibrary> load(const std::string& path, std::string& error);
    // NULL when the library does not export pdk_plugin_entry.
    pdk_plugin_entry_fn entry() const;

private:
    explicit PluginLibrary(void* handle) : handle_(handle) {}
    void* handle_;
};

// A descriptor copied by the struct rules (fields beyond its struct_size read as zero), with
// the pointer the plugin returned.
struct DescriptorView {
    const pdk_plugin_descriptor* raw = nullptr;
    pdk_plugin_descriptor copy{};
};

// The chain from the entry descriptor. `problem` names a cycle or an over-long chain (the walk
// stops there); descriptors smaller than a version are still listed.
std::vector<DescriptorView> walkChain(const pdk_plugin_descriptor* entry, std::string& problem);

// The backend the kit tests: the one with `id`, else the only or first backend.
const DescriptorView* selectBackend(const std::vector<DescriptorView>& chain, const std::string& id,
                                    std::string& error);

// A full-size copy of a backend vtable by its struct_size (entries beyond it are NULL).
pdk_backend_vtable copyVtable(const void* vtable);

// The host side of init/deinit. One object per pdk_host the kit hands out.
class HostLink {
public:
    HostLink();
    HostLink(const HostLink&) = delete;
    HostLink& operator=(const HostLink&) = delete;

    const pdk_host* host() const { return &host_; }
    // Calls init with this host; on PDK_OK the link is attached until detach().
    pdk_status attach(pdk_status (*init)(const pdk_host*, uint32_t, pdk_error*), uint32_t flags, pdk_error* err);
    void detach(void (*deinit)(const pdk_host*));
    bool attached() const { return attached_; }

    int lines() const { return lines_; }
    int linesOutsideInit() const { return outside_; }
    int badLines() const { return bad_; }  // NULL message or a level outside the enum

private:
    static void log(void* hostData, pdk_log_level level, const char* message);

    pdk_host host_{};
    std::atomic<bool> attached_{false};
    std::atomic<bool> inInit_{false};
    std::atomic<int> lines_{0};
    std::atomic<int> outside_{0};
    std::atomic<int> bad_{0};
};

}  // namespace paddock::conformance
