#include "paddock/core/runtime.hpp"

#include "paddock/core/backend.hpp"

#include <boost/filesystem.hpp>

namespace paddock {

Runtime::Runtime(Config config) : config_(std::move(config)) {}

Runtime::~Runtime() {
    // Sites stop their threads before the audit log and metrics they write to go away.
    services_.clear();
}

Result<std::unique_ptr<Runtime>> Runtime::create(const Config& config) {
    std::unique_ptr<Runtime> rt(new Runtime(config));
    try {
        rt->audit_ = std::make_unique<AuditLog>((boost::filesystem::path(config.paths.log_dir) / "audit.log").string());
    } catch (const std::exception& e) {
        return makeError(ErrorCode::Unavailable, e.what());
    }
    auto identity = ensureSshIdentity(config.paths.state_dir);
    if (!identity) {
        Error e = std::move(identity).error();
        e.message = "paths.state_dir: " + e.message;
        return e;
    }
    rt->identity_ = identity.value();
    for (const auto& dir : config.paths.plugin_dirs) {
        if (auto loaded = rt->plugins_.loadDirectory(dir); !loaded) {
            Error e = std::move(loaded).error();
            e.message = "paths.plugin_dirs: " + e.message;
            return e;
        }
    }
    for (const auto& failure : rt->plugins_.failures()) rt->warnings_.push_back(failure.message);
    for (const auto& site : config.sites) {
        auto plugin = rt->plugins_.backend(site.backend);
        if (!plugin) {
            Error e = std::move(plugin).error();
            e.message = "site '" + site.name + "': " + e.message;
            return e;
        }
        auto service = std::make_unique<VmService>(site, plugin.value(), *rt->audit_, rt->metrics_, rt->events_,
                                                   rt->identity_);
        if (auto connected = service->connect(); !connected) {
            rt->warnings_.push_back("site '" + site.name + "': " + connected.error().message +
                                    " (retrying in the background)");
        }
        rt->services_.push_back(std::move(service));
    }
    return rt;
}

Result<VmService*> Runtime::site(const std::string& name) {
    if (services_.empty()) return makeError(ErrorCode::Unavailable, "no site is configured");
    if (name.empty()) return services_.front().get();
    std::string known;
    for (const auto& s : services_) {
        if (s->site().name == name) return s.get();
        known += (known.empty() ? "" : ", ") + s->site().name;
    }
    return makeError(ErrorCode::NotFound, "unknown site '" + name + "' (known: " + known + ")");
}

std::vector<VmService*> Runtime::services() {
    std::vector<VmService*> out;
    for (const auto& s : services_) out.push_back(s.get());
    return out;
}

std::vector<SiteStatus> Runtime::sites() {
    std::vector<SiteStatus> out;
    for (const auto& s : services_) {
        SiteStatus status{s->site().name, s->site().backend, s->site().uri, false, {}, {}};
        auto conn = s->connection();
        if (!conn) {
            status.error = conn.error().message;
        } else if (auto host = conn.value()->hostInfo(); host) {
            status.reachable = true;
            status.host = host.value();
        } else {
            status.reachable = host.error().code != ErrorCode::Unavailable;
            if (!status.reachable) status.error = host.error().message;
        }
        out.push_back(std::move(status));
    }
    return out;
}

}  // namespace paddock
