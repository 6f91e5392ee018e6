#include "paddock/core/plugin_host.hpp"

#include "paddock/core/backend.hpp"
#include "paddock/core/provisioner.hpp"
#include "paddock/core/recorder.hpp"

#include <paddock/pdk_backend.h>
#include <paddock/pdk_provisioner.h>
#include <paddock/pdk_recorder.h>

#include <boost/dll/shared_library.hpp>
#include <boost/filesystem.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <type_traits>

namespace paddock {

namespace detail {

// Shared by a host and every library it loaded (which may outlive it), so setLogSink reaches
// them all and a late log line never meets a destroyed host.
struct PluginLogRouter {
    std::mutex mutex;
    std::shared_ptr<const PluginLogSink> sink;  // null: stderr

    void emit(pdk_log_level level, const std::string& pluginId, const std::string& message) {
        std::shared_ptr<const PluginLogSink> current;
        {
            std::lock_guard lock(mutex);
            current = sink;
        }
        if (current) {
            (*current)(level, pluginId, message);
            return;
        }
        if (level == PDK_LOG_DEBUG) return;  // stderr is for operators: no debug chatter
        std::ostringstream line;             // one write, so concurrent lines do not interleave
        line << "paddock: plugin " << pluginId << ": " << logLevelName(level) << ": " << message << "\n";
        std::cerr << line.str() << std::flush;
    }
};

}  // namespace detail

class PluginLibrary {
public:
    PluginLibrary(std::shared_ptr<boost::dll::shared_library> handle, std::shared_ptr<detail::PluginLogRouter> log)
        : handle_(std::move(handle)), log_(std::move(log)) {}
    PluginLibrary(const PluginLibrary&) = delete;
    PluginLibrary& operator=(const PluginLibrary&) = delete;

    ~PluginLibrary() {
        // Before handle_ (declared first, destroyed last) unloads the library.
        if (deinit_ != nullptr) deinit_(&host_);
    }

    // Calls the library's init with a host struct naming this library; on success its deinit
    // becomes due. `pluginId` names the library in log lines (its entry plugin's id).
    Status init(pdk_status (*init)(const pdk_host*, uint32_t, pdk_error*), void (*deinit)(const pdk_host*),
                const std::string& pluginId) {
        pluginId_ = pluginId;
        host_.struct_size = sizeof host_;
        host_.abi_major = PDK_ABI_VERSION_MAJOR;
        host_.abi_minor = PDK_ABI_VERSION_MINOR;
        host_.host_data = this;
        host_.log = &PluginLibrary::logLine;
        if (init == nullptr) return {};
        pdk_error err = emptyPdkError();
        const pdk_status st = init(&host_, 0, &err);
        if (st != PDK_OK) {
            const std::string why = err.message[0] != '\0' ? std::string(err.message) : "status " + std::to_string(st);
            return makeError(ErrorCode::InvalidArgument, "its init failed: " + why);
        }
        deinit_ = deinit;
        return {};
    }

private:
    // The pdk_host log callback: any plugin thread, until deinit returns.
    static void logLine(void* hostData, pdk_log_level level, const char* message) noexcept {
        try {
            // A raw value outside the enum is not a valid enum read: look at the bits.
            std::underlying_type_t<pdk_log_level> raw{};
            std::memcpy(&raw, &level, sizeof raw);
            const auto clamped =
                static_cast<pdk_log_level>(std::clamp<decltype(raw)>(raw, PDK_LOG_DEBUG, PDK_LOG_ERROR));
            auto* self = static_cast<PluginLibrary*>(hostData);
            self->log_->emit(clamped, self->pluginId_, message != nullptr ? message : "");
        } catch (...) {
            // An exception must not unwind into the plugin.
        }
    }

    std::shared_ptr<boost::dll::shared_library> handle_;
    std::shared_ptr<detail::PluginLogRouter> log_;
    std::string pluginId_;
    pdk_host host_{};
    void (*deinit_)(const pdk_host*) = nullptr;
};

namespace {

// Minimum sizes are those of ABI 1.0 and must never follow later growth of the structs:
// a plugin built against 1.0 is valid for every 1.x host.
constexpr size_t kDescriptorVersionEnd = PDK_FIELD_END(pdk_plugin_descriptor, abi_minor);
constexpr size_t kBackendVtableMinSize = PDK_FIELD_END(pdk_backend_vtable, close);
constexpr size_t kRecorderVtableMinSize = PDK_FIELD_END(pdk_recorder_vtable, write_event);
constexpr size_t kProvisionerVtableMinSize = PDK_FIELD_END(pdk_provisioner_vtable, run);

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

// The size a descriptor must have for the minor version it claims: a plugin saying 1.1 with a
// 1.0-sized descriptor contradicts itself, and its init would silently never run. Minors newer
// than ours need what we know.
size_t descriptorSizeFor(unsigned abiMinor) {
    return abiMinor == 0 ? PDK_PLUGIN_DESCRIPTOR_SIZE_1_0 : PDK_PLUGIN_DESCRIPTOR_SIZE_1_1;
}

// Checks one descriptor. `where` is empty for the entry descriptor and names the position of a
// chained one ("descriptor 2 of the chain: ").
Result<PluginInfo> inspect(const std::string& path, const pdk_plugin_descriptor* d, const std::string& where) {
    if (d == nullptr) return refuse(path, "pdk_plugin_entry returned NULL");
    if (d->struct_size < kDescriptorVersionEnd) {
        return refuse(path, where + "descriptor struct_size " + std::to_string(d->struct_size) +
                                " is too small to hold a version");
    }
    if (d->abi_major != PDK_ABI_VERSION_MAJOR) {
        return makeError(ErrorCode::InvalidArgument,
                         "plugin " + path + " was built for Paddock plugin ABI " + std::to_string(d->abi_major) + "." +
                             std::to_string(d->abi_minor) + "; this paddockd speaks " +
                             std::to_string(PDK_ABI_VERSION_MAJOR) + "." + std::to_string(PDK_ABI_VERSION_MINOR));
    }
    if (d->struct_size < PDK_PLUGIN_DESCRIPTOR_SIZE_1_0) {
        return refuse(path, where + "descriptor struct_size " + std::to_string(d->struct_size) +
                                " is smaller than the " + std::to_string(PDK_PLUGIN_DESCRIPTOR_SIZE_1_0) +
                                " bytes of ABI 1.0");
    }
    if (d->struct_size < descriptorSizeFor(d->abi_minor)) {
        return refuse(path, where + "descriptor claims ABI 1." + std::to_string(d->abi_minor) +
                                " but its struct_size " + std::to_string(d->struct_size) + " ends before the " +
                                std::to_string(descriptorSizeFor(d->abi_minor)) +
                                " bytes of ABI 1.1 (init, deinit, next)");
    }
    // An out-of-range value in a C++ enum object is not a valid read, so look at the raw bits.
    std::underlying_type_t<pdk_plugin_kind> rawKind{};
    std::memcpy(&rawKind, &d->kind, sizeof rawKind);
    if (rawKind != PDK_PLUGIN_KIND_BACKEND && rawKind != PDK_PLUGIN_KIND_PROVISIONER &&
        rawKind != PDK_PLUGIN_KIND_RECORDER) {
        return refuse(path, where + "unknown plugin kind " + std::to_string(rawKind));
    }
    if (d->id == nullptr || *d->id == '\0') return refuse(path, where + "descriptor has no id");

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
        if (vt == nullptr) return refuse(path, where + "backend '" + info.id + "' has a NULL vtable");
        if (vt->struct_size < kBackendVtableMinSize) {
            return refuse(path, where + "backend '" + info.id + "' vtable struct_size " +
                                    std::to_string(vt->struct_size) + " does not cover the mandatory open and close");
        }
        if (vt->open == nullptr || vt->close == nullptr) {
            return refuse(path, where + "backend '" + info.id + "' vtable lacks the mandatory " +
                                    (vt->open == nullptr ? "open" : "close"));
        }
        info.operations = backendOperations(copyPluginStruct<pdk_backend_vtable>(vt));
    } else if (info.kind == PDK_PLUGIN_KIND_RECORDER) {
        const auto* vt = static_cast<const pdk_recorder_vtable*>(d->vtable);
        if (vt == nullptr) return refuse(path, where + "recorder '" + info.id + "' has a NULL vtable");
        if (vt->struct_size < kRecorderVtableMinSize) {
            return refuse(path, where + "recorder '" + info.id + "' vtable struct_size " +
                                    std::to_string(vt->struct_size) +
                                    " does not cover the mandatory open_session, close_session and write_event");
        }
        const char* missing = vt->open_session == nullptr    ? "open_session"
                              : vt->close_session == nullptr ? "close_session"
                              : vt->write_event == nullptr   ? "write_event"
                                                             : nullptr;
        if (missing != nullptr) {
            return refuse(path, where + "recorder '" + info.id + "' vtable lacks the mandatory " + missing);
        }
        info.operations = recorderOperations(copyPluginStruct<pdk_recorder_vtable>(vt));
    } else if (info.kind == PDK_PLUGIN_KIND_PROVISIONER) {
        const auto* vt = static_cast<const pdk_provisioner_vtable*>(d->vtable);
        if (vt == nullptr) return refuse(path, where + "provisioner '" + info.id + "' has a NULL vtable");
        if (vt->struct_size < kProvisionerVtableMinSize) {
            return refuse(path, where + "provisioner '" + info.id + "' vtable struct_size " +
                                    std::to_string(vt->struct_size) + " does not cover the mandatory run");
        }
        if (vt->run == nullptr) return refuse(path, where + "provisioner '" + info.id + "' vtable lacks the mandatory run");
        info.operations = provisionerOperations(copyPluginStruct<pdk_provisioner_vtable>(vt));
    }
    return info;
}

struct ChainEntry {
    const pdk_plugin_descriptor* descriptor;
    PluginInfo info;
};

// Walks the descriptor chain from the entry: every descriptor valid, no cycle, bounded length,
// no id twice. A descriptor's `next` is read only when its struct_size covers it.
Result<std::vector<ChainEntry>> inspectChain(const std::string& path, const pdk_plugin_descriptor* entry) {
    std::vector<ChainEntry> chain;
    std::set<const pdk_plugin_descriptor*> seen;
    for (const pdk_plugin_descriptor* d = entry; d != nullptr || chain.empty();
         d = copyPluginStruct<pdk_plugin_descriptor>(d).next) {
        const size_t position = chain.size() + 1;
        if (!seen.insert(d).second) {
            return refuse(path, "its descriptor chain has a cycle: descriptor " + std::to_string(position) +
                                    " is an earlier one again");
        }
        if (position > PDK_MAX_PLUGINS_PER_LIBRARY) {
            return refuse(path, "its descriptor chain is longer than " + std::to_string(PDK_MAX_PLUGINS_PER_LIBRARY) +
                                    " plugins");
        }
        const std::string where = position == 1 ? "" : "descriptor " + std::to_string(position) + " of the chain: ";
        auto info = inspect(path, d, where);
        if (!info) return std::move(info).error();
        for (const auto& earlier : chain) {
            if (earlier.info.id == info->id) {
                return refuse(path, "plugin id '" + info->id + "' appears twice in its descriptor chain");
            }
        }
        chain.push_back(ChainEntry{d, std::move(info).value()});
    }
    return chain;
}

}  // namespace

pdk_error emptyPdkError() noexcept {
    pdk_error err{};
    err.struct_size = sizeof(pdk_error);
    return err;
}

Error errorFromStatus(pdk_status status, const std::string& message) {
    switch (status) {
        case PDK_OK: return makeError(ErrorCode::Internal, "plugin reported success as an error");
        case PDK_ERR_INVALID_ARGUMENT: return makeError(ErrorCode::InvalidArgument, message);
        case PDK_ERR_NOT_FOUND: return makeError(ErrorCode::NotFound, message);
        case PDK_ERR_ALREADY_EXISTS: return makeError(ErrorCode::AlreadyExists, message);
        case PDK_ERR_CONFLICT: return makeError(ErrorCode::Conflict, message);
        case PDK_ERR_UNSUPPORTED: return makeError(ErrorCode::Unsupported, message);
        case PDK_ERR_UNAVAILABLE: return makeError(ErrorCode::Unavailable, message);
        case PDK_ERR_TIMEOUT: return makeError(ErrorCode::Timeout, message);
        case PDK_ERR_FORBIDDEN: return makeError(ErrorCode::Forbidden, message);
        // A cancelled call is the caller's own doing: the wrong state for going on.
        case PDK_ERR_CANCELLED: return makeError(ErrorCode::Conflict, message.empty() ? "cancelled" : message);
        case PDK_ERR_BAD_FLAGS:
        case PDK_ERR_BUFFER_TOO_SMALL:
        case PDK_ERR_INTERNAL: break;
    }
    return makeError(ErrorCode::Internal, message.empty() ? "plugin error" : message);
}

std::string_view pluginKindName(pdk_plugin_kind kind) noexcept {
    switch (kind) {
        case PDK_PLUGIN_KIND_BACKEND: return "backend";
        case PDK_PLUGIN_KIND_PROVISIONER: return "provisioner";
        case PDK_PLUGIN_KIND_RECORDER: return "recorder";
    }
    return "unknown";
}

std::string_view logLevelName(pdk_log_level level) noexcept {
    switch (level) {
        case PDK_LOG_DEBUG: return "debug";
        case PDK_LOG_INFO: return "info";
        case PDK_LOG_WARNING: return "warning";
        case PDK_LOG_ERROR: return "error";
    }
    return "error";
}

LoadedPlugin::LoadedPlugin(std::shared_ptr<PluginLibrary> library, const pdk_plugin_descriptor* descriptor,
                           PluginInfo info)
    : library_(std::move(library)), descriptor_(descriptor), info_(std::move(info)) {}

PluginHost::PluginHost() : log_(std::make_shared<detail::PluginLogRouter>()) {}

PluginHost::~PluginHost() = default;

void PluginHost::setLogSink(PluginLogSink sink) {
    auto next = sink ? std::make_shared<const PluginLogSink>(std::move(sink)) : nullptr;
    std::lock_guard lock(log_->mutex);
    log_->sink = std::move(next);
}

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
    auto handle = std::make_shared<boost::dll::shared_library>();
    ::dlerror();
    handle->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
    if (ec || !handle->is_loaded()) return fail(refuse(path, lastDlError(path)));

    if (!handle->has(PDK_PLUGIN_ENTRY_SYMBOL)) {
        return fail(refuse(path, "it does not export " PDK_PLUGIN_ENTRY_SYMBOL " (is it a Paddock plugin, built "
                                 "with PDK_EXPORT on the entry?)"));
    }
    auto& entry = handle->get<const pdk_plugin_descriptor*()>(PDK_PLUGIN_ENTRY_SYMBOL);
    const pdk_plugin_descriptor* descriptor = entry();

    auto chain = inspectChain(path, descriptor);
    if (!chain) return fail(std::move(chain).error());

    for (const auto& c : chain.value()) {
        for (const auto& p : plugins_) {
            if (p->info().id == c.info.id) {
                return fail(refuse(path, "plugin id '" + c.info.id + "' is already loaded from " + p->info().path,
                                   ErrorCode::AlreadyExists));
            }
        }
    }

    // init and deinit are library-wide: read from the entry descriptor only.
    const auto full = copyPluginStruct<pdk_plugin_descriptor>(descriptor);
    auto library = std::make_shared<PluginLibrary>(std::move(handle), log_);
    if (auto st = library->init(full.init, full.deinit, chain->front().info.id); !st) {
        return fail(refuse(path, st.error().message));
    }

    for (auto& c : chain.value()) {
        plugins_.push_back(std::make_shared<LoadedPlugin>(library, c.descriptor, std::move(c.info)));
    }
    return plugins_[plugins_.size() - chain->size()]->info();
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

Result<std::shared_ptr<ProvisionerPlugin>> PluginHost::provisioner(const std::string& id) const {
    auto p = find(id, PDK_PLUGIN_KIND_PROVISIONER);
    if (!p) return std::move(p).error();
    return std::make_shared<ProvisionerPlugin>(p.value());
}

Result<std::shared_ptr<RecorderPlugin>> PluginHost::recorder(const std::string& id) const {
    auto p = find(id, PDK_PLUGIN_KIND_RECORDER);
    if (!p) return std::move(p).error();
    return std::make_shared<RecorderPlugin>(p.value());
}

}  // namespace paddock
