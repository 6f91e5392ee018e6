#include "paddock/core/plugin_host.hpp"

#include "paddock/core/backend.hpp"
#include "paddock/core/recorder.hpp"

#include <paddock/pdk_backend.h>
#include <paddock/pdk_recorder.h>

#include <boost/dll/shared_library.hpp>
#include <boost/filesystem.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>

namespace paddock {

namespace {

// Minimum sizes are those of ABI 1.0 and must never follow later growth of the structs:
// a plugin built against 1.0 is valid for every 1.x host.
constexpr size_t kDescriptorVersionEnd = offsetof(pdk_plugin_descriptor, abi_minor) + sizeof(uint16_t);
constexpr size_t kDescriptorMinSize = offsetof(pdk_plugin_descriptor, vtable) + sizeof(const void*);
constexpr size_t kBackendVtableMinSize = offsetof(pdk_backend_vtable, close) + sizeof(void (*)(void*));
constexpr size_t kRecorderVtableMinSize = offsetof(pdk_recorder_vtable, write_event) + sizeof(void (*)(void*));

std::string str(const char* s) { return s == nullptr ? std::string() : std::string(s); }

Error refuse(const std::string& path, const std::string& reason, ErrorCode code = ErrorCode::InvalidArgument) {
    return makeError(code, "cannot load plugin " + path + ": " + reason);
}

// dlerror() is the only place the loader says why (missing file, bad ELF, undefined symbol);
// Boost.DLL's error_code alone would only say "bad file descriptor".
std::string lastDlError(const std::string& path) {
    const char* text = ::dlerror();
    if (text == nullptr) return "not a loadable shared library";
    std::string s(text);
    if (s.rfind(path + ": ", 0) == 0) s.erase(0, path.size() + 2);  // the caller names the file already
    return s;
}

Result<PluginInfo> inspect(const std::string& path, const pdk_plugin_descriptor* d) {
    if (d == nullptr) return refuse(path, "pdk_plugin_entry returned NULL");
    if (d->struct_size < kDescriptorVersionEnd) {
        return refuse(path, "descriptor struct_size " + std::to_string(d->struct_size) +
                                " is too small to hold a version");
    }
    if (d->abi_major != PDK_ABI_VERSION_MAJOR) {
        return makeError(ErrorCode::InvalidArgument,
                         "plugin " + path + " was built for Paddock plugin ABI " + std::to_string(d->abi_major) +
                             "." + std::to_string(d->abi_minor) + "; this paddockd speaks " +
                             std::to_string(PDK_ABI_VERSION_MAJOR) + "." + std::to_string(PDK_ABI_VERSION_MINOR));
    }
    if (d->struct_size < kDescriptorMinSize) {
        return refuse(path, "descriptor struct_size " + std::to_string(d->struct_size) + " is smaller than the " +
                                std::to_string(kDescriptorMinSize) + " bytes of ABI 1.0");
    }
    // An out-of-range value in a C++ enum object is not a valid read, so look at the raw bits.
    std::underlying_type_t<pdk_plugin_kind> rawKind{};
    std::memcpy(&rawKind, &d->kind, sizeof rawKind);
    if (rawKind != PDK_PLUGIN_KIND_BACKEND && rawKind != PDK_PLUGIN_KIND_PROVISIONER &&
        rawKind != PDK_PLUGIN_KIND_RECORDER) {
        return refuse(path, "unknown plugin kind " + std::to_string(rawKind));
    }
    if (d->id == nullptr || *d->id == '\0') return refuse(path, "descriptor has no id");

    PluginInfo info;
    info.id = d->id;
    info.name = str(d->name);
    info.version = str(d->version);
    info.description = str(d->description);
    info.path = path;
    info.kind = static_cast<pdk_plugin_kind>(rawKind);
    info.abi_major = d->abi_major;
    info.abi_minor = d->abi_minor;
    if (d->capabilities != nullptr) {
        for (const char* const* c = d->capabilities; *c != nullptr; ++c) info.capabilities.emplace_back(*c);
    }

    if (info.kind == PDK_PLUGIN_KIND_BACKEND) {
        const auto* vt = static_cast<const pdk_backend_vtable*>(d->vtable);
        if (vt == nullptr) return refuse(path, "backend '" + info.id + "' has a NULL vtable");
        if (vt->struct_size < kBackendVtableMinSize) {
            return refuse(path, "backend '" + info.id + "' vtable struct_size " + std::to_string(vt->struct_size) +
                                    " does not cover the mandatory open and close");
        }
        if (vt->open == nullptr || vt->close == nullptr) {
            return refuse(path, "backend '" + info.id + "' vtable lacks the mandatory " +
                                    (vt->open == nullptr ? "open" : "close"));
        }
        info.operations = backendOperations(copyPluginStruct<pdk_backend_vtable>(vt));
    } else if (info.kind == PDK_PLUGIN_KIND_RECORDER) {
        const auto* vt = static_cast<const pdk_recorder_vtable*>(d->vtable);
        if (vt == nullptr) return refuse(path, "recorder '" + info.id + "' has a NULL vtable");
        if (vt->struct_size < kRecorderVtableMinSize) {
            return refuse(path, "recorder '" + info.id + "' vtable struct_size " + std::to_string(vt->struct_size) +
                                    " does not cover the mandatory open_session, close_session and write_event");
        }
        const char* missing = vt->open_session == nullptr    ? "open_session"
                              : vt->close_session == nullptr ? "close_session"
                              : vt->write_event == nullptr   ? "write_event"
                                                             : nullptr;
        if (missing != nullptr) {
            return refuse(path, "recorder '" + info.id + "' vtable lacks the mandatory " + missing);
        }
        info.operations = recorderOperations(copyPluginStruct<pdk_recorder_vtable>(vt));
    }
    return info;
}

}  // namespace

pdk_error emptyPdkError() noexcept {
    pdk_error err{};
    err.struct_size = sizeof(pdk_error);
    return err;
}

std::string_view pluginKindName(pdk_plugin_kind kind) noexcept {
    switch (kind) {
        case PDK_PLUGIN_KIND_BACKEND: return "backend";
        case PDK_PLUGIN_KIND_PROVISIONER: return "provisioner";
        case PDK_PLUGIN_KIND_RECORDER: return "recorder";
    }
    return "unknown";
}

LoadedPlugin::LoadedPlugin(std::shared_ptr<boost::dll::shared_library> library,
                           const pdk_plugin_descriptor* descriptor, PluginInfo info)
    : library_(std::move(library)), descriptor_(descriptor), info_(std::move(info)) {}

Result<PluginInfo> PluginHost::loadFile(const std::string& path) {
    auto fail = [&](Error e) -> Result<PluginInfo> {
        failures_.push_back(PluginLoadFailure{path, e.message});
        return e;
    };

    boost::system::error_code ec;
    if (!boost::filesystem::is_regular_file(path, ec)) {
        return fail(refuse(path, "no such file", ErrorCode::NotFound));
    }

    // now: an unresolved symbol fails here, not in the middle of a later call.
    // local: two plugins may define the same internal symbol names without clashing.
    auto library = std::make_shared<boost::dll::shared_library>();
    ::dlerror();
    library->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
    if (ec || !library->is_loaded()) return fail(refuse(path, lastDlError(path)));

    if (!library->has(PDK_PLUGIN_ENTRY_SYMBOL)) {
        return fail(refuse(path, "it does not export " PDK_PLUGIN_ENTRY_SYMBOL " (is it a Paddock plugin, built "
                                 "with PDK_EXPORT on the entry?)"));
    }
    auto& entry = library->get<const pdk_plugin_descriptor*()>(PDK_PLUGIN_ENTRY_SYMBOL);
    const pdk_plugin_descriptor* descriptor = entry();

    Result<PluginInfo> info = inspect(path, descriptor);
    if (!info) return fail(std::move(info).error());

    for (const auto& p : plugins_) {
        if (p->info().id == info->id) {
            return fail(refuse(path, "plugin id '" + info->id + "' is already loaded from " + p->info().path,
                               ErrorCode::AlreadyExists));
        }
    }

    plugins_.push_back(std::make_shared<LoadedPlugin>(std::move(library), descriptor, info.value()));
    return info;
}

Status PluginHost::loadDirectory(const std::string& dir) {
    namespace fs = boost::filesystem;
    boost::system::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return makeError(ErrorCode::NotFound, "plugin directory " + dir + " does not exist");
    }
    std::vector<std::string> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        boost::system::error_code statEc;
        if (it->path().extension() == ".so" && fs::is_regular_file(it->path(), statEc)) {
            files.push_back(it->path().string());
        }
    }
    if (ec) return makeError(ErrorCode::Unavailable, "cannot read plugin directory " + dir + ": " + ec.message());
    // Sorted so that, with duplicate ids, which copy wins does not depend on the file system.
    std::sort(files.begin(), files.end());
    for (const auto& f : files) (void)loadFile(f);
    return {};
}

Result<std::shared_ptr<LoadedPlugin>> PluginHost::find(const std::string& id, pdk_plugin_kind kind) const {
    const std::string kindName(pluginKindName(kind));
    for (const auto& p : plugins_) {
        if (p->info().id != id) continue;
        if (p->info().kind != kind) {
            return makeError(ErrorCode::InvalidArgument, "plugin '" + id + "' is a " +
                                                             std::string(pluginKindName(p->info().kind)) +
                                                             " plugin, not a " + kindName);
        }
        return p;
    }
    std::string message = "no " + kindName + " plugin with id '" + id + "' is loaded";
    if (plugins_.empty()) {
        message += " (no plugins are loaded)";
    } else {
        message += " (loaded:";
        for (const auto& p : plugins_) message += " " + p->info().id;
        message += ")";
    }
    if (!failures_.empty()) {
        message += "; plugins that failed to load:";
        for (const auto& f : failures_) message += "\n  " + f.message;
    }
    return makeError(ErrorCode::NotFound, message);
}

Result<std::shared_ptr<BackendPlugin>> PluginHost::backend(const std::string& id) const {
    auto p = find(id, PDK_PLUGIN_KIND_BACKEND);
    if (!p) return std::move(p).error();
    return std::make_shared<BackendPlugin>(p.value());
}

Result<std::shared_ptr<RecorderPlugin>> PluginHost::recorder(const std::string& id) const {
    auto p = find(id, PDK_PLUGIN_KIND_RECORDER);
    if (!p) return std::move(p).error();
    return std::make_shared<RecorderPlugin>(p.value());
}

}  // namespace paddock
