#include "plugin_library.hpp"

#include <paddock/pdk_struct.h>

#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <set>

namespace paddock::conformance {

std::unique_ptr<PluginLibrary> PluginLibrary::load(const std::string& path, std::string& error) {
    ::dlerror();
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = ::dlerror();
        error = why != nullptr ? why : "dlopen failed";
        return nullptr;
    }
    return std::unique_ptr<PluginLibrary>(new PluginLibrary(handle));
}

pdk_plugin_entry_fn PluginLibrary::entry() const {
    void* symbol = ::dlsym(handle_, PDK_PLUGIN_ENTRY_SYMBOL);
    pdk_plugin_entry_fn fn = nullptr;
    static_assert(sizeof fn == sizeof symbol);
    std::memcpy(&fn, &symbol, sizeof fn);
    return fn;
}

std::vector<DescriptorView> walkChain(const pdk_plugin_descriptor* entry, std::string& problem) {
    std::vector<DescriptorView> chain;
    std::set<const pdk_plugin_descriptor*> seen;
    for (const pdk_plugin_descriptor* d = entry; d != nullptr;) {
        if (!seen.insert(d).second) {
            problem = "the chain has a cycle at descriptor " + std::to_string(chain.size() + 1);
            break;
        }
        if (chain.size() == PDK_MAX_PLUGINS_PER_LIBRARY) {
            problem = "the chain is longer than " + std::to_string(PDK_MAX_PLUGINS_PER_LIBRARY) + " descriptors";
            break;
        }
        DescriptorView view;
        view.raw = d;
        pdk_copy_in(&view.copy, sizeof view.copy, d, 0);
        chain.push_back(view);
        d = view.copy.next;
    }
    return chain;
}

const DescriptorView* selectBackend(const std::vector<DescriptorView>& chain, const std::string& id,
                                    std::string& error) {
    std::string ids;
    for (const auto& d : chain) {
        const char* did = d.copy.id != nullptr ? d.copy.id : "";
        ids += std::string(ids.empty() ? "" : ", ") + did;
        if (id.empty() ? d.copy.kind == PDK_PLUGIN_KIND_BACKEND : id == did) return &d;
    }
    error = id.empty() ? "the library holds no backend descriptor (ids: " + ids + ")"
                       : "the library holds no plugin '" + id + "' (ids: " + ids + ")";
    return nullptr;
}

pdk_backend_vtable copyVtable(const void* vtable) {
    pdk_backend_vtable v{};
    pdk_copy_in(&v, sizeof v, vtable, 0);
    return v;
}

HostLink::HostLink() {
    host_.struct_size = sizeof host_;
    host_.abi_major = PDK_ABI_VERSION_MAJOR;
    host_.abi_minor = PDK_ABI_VERSION_MINOR;
    host_.host_data = this;
    host_.log = &HostLink::log;
}

pdk_status HostLink::attach(pdk_status (*init)(const pdk_host*, uint32_t, pdk_error*), uint32_t flags, pdk_error* err) {
    inInit_ = true;
    const pdk_status st = init(&host_, flags, err);
    inInit_ = false;
    if (st == PDK_OK) attached_ = true;
    return st;
}

void HostLink::detach(void (*deinit)(const pdk_host*)) {
    if (deinit != nullptr) deinit(&host_);
    attached_ = false;
}

void HostLink::log(void* hostData, pdk_log_level level, const char* message) {
    auto* self = static_cast<HostLink*>(hostData);
    ++self->lines_;
    if (!self->attached_ && !self->inInit_) ++self->outside_;
    int raw = 0;
    std::memcpy(&raw, &level, sizeof raw);
    if (message == nullptr || raw < PDK_LOG_DEBUG || raw > PDK_LOG_ERROR) {
        ++self->bad_;
        return;
    }
    static const char* const kLevels[] = {"debug", "info", "warning", "error"};
    std::fprintf(stderr, "plugin log: %s: %s\n", kLevels[raw], message);
}

}  // namespace paddock::conformance
