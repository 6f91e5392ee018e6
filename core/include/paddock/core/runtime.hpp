// The assembled framework: configuration, plugins, one VmService per site, audit log and
// metrics. What the server (or any other front end) talks to. Built once at startup.
#pragma once

#include "paddock/core/audit_log.hpp"
#include "paddock/core/config.hpp"
#include "paddock/core/metrics.hpp"
#include "paddock/core/plugin_host.hpp"
#include "paddock/core/result.hpp"
#include "paddock/core/vm_service.hpp"

#include <memory>
#include <string>
#include <vector>

namespace paddock {

struct SiteStatus {
    std::string name;
    std::string backend;
    std::string uri;
    HostInfo host;
};

class Runtime {
public:
    // Loads plugins from config.paths.plugin_dirs, connects every site, opens the audit log at
    // <log_dir>/audit.log. Fails naming the site/plugin that could not be set up.
    static Result<std::unique_ptr<Runtime>> create(const Config& config);

    const Config& config() const noexcept { return config_; }
    PluginHost& plugins() noexcept { return plugins_; }
    AuditLog& audit() noexcept { return *audit_; }
    CoreMetrics& metrics() noexcept { return metrics_; }

    // The named site, or the first one when `name` is empty. NotFound otherwise.
    Result<VmService*> site(const std::string& name = {});
    std::vector<SiteStatus> sites();

private:
    explicit Runtime(Config config);

    Config config_;
    PluginHost plugins_;
    CoreMetrics metrics_;
    std::unique_ptr<AuditLog> audit_;
    std::vector<std::unique_ptr<VmService>> services_;
};

}  // namespace paddock
