#include "paddock/core/runtime.hpp"

#include "paddock/core/backend.hpp"

#include <boost/filesystem.hpp>

namespace paddock {

Runtime::Runtime(Config config) : config_(std::move(config)) {}

Result<std::unique_ptr<Runtime>> Runtime::create(const Config& config) {
    std::unique_ptr<Runtime> rt(new Runtime(config));
    try {
        rt->audit_ = std::make_unique<AuditLog>((boost::filesystem::path(config.paths.log_dir) / "audit.log").string());
    } catch (const std::exception& e) {
        return makeError(ErrorCode::Unavailable, e.what());
    }
    for (const auto& dir : config.paths.plugin_dirs) {
        if (auto loaded = rt->plugins_.loadDirectory(dir); !loaded) {
            Error e = std::move(loaded).error();
            e.message = "paths.plugin_dirs: " + e.message;
            return e;
        }
    }
    for (const auto& site : config.sites) {
        auto plugin = rt->plugins_.backend(site.backend);
        if (!plugin) {
            Error e = std::move(plugin).error();
            e.message = "site '" + site.name + "': " + e.message;
            return e;
        }
        auto connection = plugin.value()->connect(site.uri);
        if (!connection) {
            Error e = std::move(connection).error();
            e.message = "site '" + site.name + "': " + e.message;
            return e;
        }
        rt->services_.push_back(std::make_unique<VmService>(site, connection.value(), *rt->audit_, rt->metrics_));
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

std::vector<SiteStatus> Runtime::sites() {
    std::vector<SiteStatus> out;
    for (const auto& s : services_) {
        SiteStatus status{s->site().name, s->site().backend, s->site().uri, {}};
        if (auto host = s->connection()->hostInfo(); host) status.host = host.value();
        out.push_back(std::move(status));
    }
    return out;
}

}  // namespace paddock
