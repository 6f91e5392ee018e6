#include "paddock/core/backend_requirements.hpp"

#include <optional>

namespace paddock {

namespace {

struct Need {
    std::string key;        // relative to sites[i]
    const char* operation;  // vtable entry
    const char* why;
};

std::vector<Need> needsOf(const SiteConfig& site) {
    std::vector<Need> needs;
    for (size_t j = 0; j < site.templates.size(); ++j) {
        const TemplateConfig& t = site.templates[j];
        const std::string at = "templates[" + std::to_string(j) + "]";
        if (!t.base_image.empty())
            needs.push_back({at + ".base_image", "create_overlay", "each VM's disk is an overlay on the base image"});
        if (t.snapshot_on_stop) {
            needs.push_back({at + ".snapshot_on_stop", "snapshot_create", "a running VM is snapshotted before a stop"});
            needs.push_back({at + ".snapshot_on_stop", "snapshot_delete", "only the newest snapshots are kept"});
        }
        if (t.watch) {
            needs.push_back({at + ".watch", "snapshot_revert", "a failing watched VM is reverted to its snapshot"});
            if (t.watch->probe == WatchProbeKind::Agent)
                needs.push_back({at + ".watch.probe", "guest_ping", "the probe asks the guest agent"});
        }
    }
    for (size_t k = 0; k < site.pools.size(); ++k) {
        if (site.pools[k].mode == PoolMode::Saved)
            needs.push_back({"pools[" + std::to_string(k) + "].mode", "save_domain",
                             "idle VMs of a saved pool wait in a managed save"});
        if (site.pools[k].mode == PoolMode::Paused)
            needs.push_back({"pools[" + std::to_string(k) + "].mode", "suspend_domain",
                             "idle VMs of a paused pool wait paused; needs a backend of ABI 1.8"});
    }
    return needs;
}

}  // namespace

Status requireBackendCovers(const SiteConfig& site, size_t index, const BackendPlugin& backend) {
    for (const Need& need : needsOf(site)) {
        if (backend.supports(need.operation)) continue;
        return makeError(ErrorCode::InvalidArgument, "sites[" + std::to_string(index) + "]." + need.key + ": backend " +
                                                         backend.info().id + " has no " + need.operation + " (" +
                                                         need.why + ")");
    }
    return {};
}

}  // namespace paddock
