// VM lifecycle on one site: create (overlay disk + SSH port + define + start), start, graceful
// stop with forced fallback, restart, delete with storage, list and get straight from the
// backend; readiness (SSH login works) tracked per VM and lifecycle events published.
// Every operation is audited and counted. Thread-safe: operations on one VM are serialised,
// different VMs proceed in parallel.
#pragma once

#include "paddock/core/audit_log.hpp"
#include "paddock/core/backend.hpp"
#include "paddock/core/config.hpp"
#include "paddock/core/domain_cache.hpp"
#include "paddock/core/events.hpp"
#include "paddock/core/metrics.hpp"
#include "paddock/core/port_allocator.hpp"
#include "paddock/core/readiness.hpp"
#include "paddock/core/result.hpp"
#include "paddock/core/site_link.hpp"
#include "paddock/core/ssh_identity.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace paddock {

// Keys Paddock stores in a domain's metadata (Paddock's XML namespace in libvirt).
namespace meta {
inline constexpr const char* kOwner = "owner";
inline constexpr const char* kTemplate = "template";
inline constexpr const char* kImage = "image";        // base image the overlay stands on
inline constexpr const char* kDisk = "disk";          // the VM's own overlay
inline constexpr const char* kCreatedAt = "created_at";
inline constexpr const char* kCreatedBy = "created_by";
inline constexpr const char* kSshPort = "ssh_port";   // user-mode forward 127.0.0.1:PORT -> guest 22
inline constexpr const char* kHostKey = "host_key";   // "SHA256:..." pinned at the first terminal login
}  // namespace meta

struct CreateVmRequest {
    std::string name;
    std::optional<std::string> template_name;
    std::optional<uint32_t> vcpus;
    std::optional<uint64_t> memory_mb;
    std::optional<std::string> owner;
    bool start = true;
    Metadata metadata;         // extra metadata entries (e.g. a pool's); Paddock's own keys win
};

struct VmView {
    DomainInfo domain;
    std::string site;
    std::string owner;         // from metadata; empty when none
    std::string template_name;
    std::string image;         // base image; empty for diskless
    std::string disk;          // the overlay; empty for diskless
    ReadinessInfo readiness;
    std::string ssh_host;      // empty when unknown
    uint16_t ssh_port = 0;
    std::string ssh_user;
    uint64_t memory_mb() const noexcept { return domain.max_memory_kib / 1024; }
};

enum class StopOutcome { Graceful, Forced, AlreadyStopped };

class VmService {
public:
    VmService(SiteConfig site, std::shared_ptr<BackendPlugin> backend, AuditLog& audit, CoreMetrics& metrics,
              std::shared_ptr<EventHub> events, SshIdentity identity);
    ~VmService();

    // Connects (a failure is returned but not fatal: the link keeps retrying) and starts
    // readiness probes for running VMs found there.
    Status connect();

    const SiteConfig& site() const noexcept { return site_; }
    SiteLink& link() noexcept { return link_; }
    // The live connection, or Unavailable while the hypervisor is unreachable.
    Result<std::shared_ptr<BackendConnection>> connection() { return link_.connection(); }
    ReadinessTracker& readiness() noexcept { return readiness_; }

    Result<std::vector<VmView>> list();
    Result<VmView> get(const std::string& name);

    // AlreadyExists when the name is taken; InvalidArgument for a bad name, unknown template
    // or out-of-range sizes. On any failure nothing is left behind (no domain, no overlay).
    Result<VmView> create(const CreateVmRequest& request, const std::string& actor);

    // Conflict when already running; resumes a paused VM.
    Status start(const std::string& name, const std::string& actor);
    // ACPI shutdown, forced after the site's stop_timeout_s. A stopped VM is a no-op.
    Result<StopOutcome> stop(const std::string& name, const std::string& actor);
    // Force off (no state saved).
    Status forceStop(const std::string& name, const std::string& actor);
    Status restart(const std::string& name, const std::string& actor);
    // Stops (forced) when running, then removes the domain and its overlay.
    Status remove(const std::string& name, const std::string& actor);

    // Merges `changes` into the VM's metadata (an empty value erases the key), in the persistent
    // definition and, when running, the live one. Not audited: the caller audits its operation.
    Status updateMetadata(const std::string& name, const Metadata& changes);
    // The VM's metadata as the backend has it now (uncached).
    Result<Metadata> metadata(const std::string& name);
    // Where and as whom Paddock logs into `vm` (Paddock's key, the site's ssh_user). Unavailable
    // without a key or hypervisor; the backend's error when the VM has no SSH target.
    Result<SshEndpoint> sshEndpoint(const std::string& vm);
    // Managed save (memory state to disk, domain off); a later start() restores it.
    Status save(const std::string& name, const std::string& actor);
    // Whether started VMs get an SSH readiness probe (network_mode is not none).
    bool probesSsh() const noexcept { return site_.network_mode != "none"; }

    // Overrides the graceful-stop timeout (tests).
    void setStopTimeout(std::chrono::milliseconds timeout) { stopTimeout_ = timeout; }

private:
    Result<const TemplateConfig*> resolveTemplate(const std::optional<std::string>& name) const;
    Result<VmView> createLocked(const CreateVmRequest& request, const std::string& actor, BackendConnection& conn);
    VmView toView(DomainInfo info) const;
    void onLifecycle(const std::string& vm, pdk_lifecycle_event event);
    void onConnected();
    std::set<uint16_t> portsInUse(BackendConnection& conn);
    // Re-reads one domain into the cache after an operation changed it.
    void refreshCached(BackendConnection& conn, const std::string& name);
    std::shared_ptr<std::mutex> vmLock(const std::string& name);
    // What every single-VM operation starts with: a valid name, the live connection, the VM's
    // lock held; then `body(connection)`. Returns the first failure as an R.
    template <class R, class Body>
    R locked(const std::string& name, Body&& body);
    template <class T>
    T audited(const std::string& actor, const std::string& vm, const std::string& action, T result);
    Status waitForState(BackendConnection& conn, const std::string& name, DomainState wanted,
                        std::chrono::milliseconds timeout);
    // Paddock's metadata changes only through Paddock, so it is cached by UUID: a listing then
    // stays one bulk backend call instead of one call per domain.
    Metadata cachedMetadata(BackendConnection& conn, const DomainInfo& info);
    void forgetMetadata(const std::string& uuid);
    void publishStateGauge(const std::vector<DomainInfo>& domains);

    SiteConfig site_;
    AuditLog& audit_;
    CoreMetrics& metrics_;
    std::shared_ptr<EventHub> events_;
    SshIdentity identity_;
    PortAllocator ports_;
    std::chrono::milliseconds stopTimeout_;
    std::mutex locksMutex_;
    std::unordered_map<std::string, std::shared_ptr<std::mutex>> locks_;
    std::mutex metadataMutex_;
    std::unordered_map<std::string, Metadata> metadataByUuid_;
    // ~VmService stops the link's monitor and events and the cache's refresher first; then
    // the tracker (whose probes still use the link) goes before the link itself.
    SiteLink link_;
    DomainCache cache_;
    ReadinessTracker readiness_;
};

}  // namespace paddock
