// The assembled framework: configuration, plugins, the sites (each a Site with its VmService),
// hot pools, audit log, recordings and metrics. What the server (or any other front end) talks
// to. Built once at startup.
#pragma once

#include "paddock/core/audit_log.hpp"
#include "paddock/core/backup_service.hpp"
#include "paddock/core/create_queue.hpp"
#include "paddock/core/config.hpp"
#include "paddock/core/events.hpp"
#include "paddock/core/lease.hpp"
#include "paddock/core/metrics.hpp"
#include "paddock/core/operations.hpp"
#include "paddock/core/placement.hpp"
#include "paddock/core/plugin_host.hpp"
#include "paddock/core/pool_group.hpp"
#include "paddock/core/pool_manager.hpp"
#include "paddock/core/pool_metrics.hpp"
#include "paddock/core/provision_service.hpp"
#include "paddock/core/recording.hpp"
#include "paddock/core/result.hpp"
#include "paddock/core/secret_store.hpp"
#include "paddock/core/site.hpp"
#include "paddock/core/ssh_identity.hpp"
#include "paddock/core/vm_recovery.hpp"
#include "paddock/core/vm_service.hpp"
#include "paddock/core/watch_service.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace paddock {

class Runtime;

// A create's place, held until the create has returned: meanwhile its name counts as taken on
// every site and its VM (and memory) as on the chosen site for every other placement, so that
// concurrent creates neither share a name nor overfill a site. Releases on destruction.
class PlacementTicket {
public:
    PlacementTicket(Runtime* runtime, uint64_t id) : runtime_(runtime), id_(id) {}
    PlacementTicket(PlacementTicket&& other) noexcept : runtime_(std::exchange(other.runtime_, nullptr)), id_(other.id_) {}
    PlacementTicket& operator=(PlacementTicket&&) = delete;
    ~PlacementTicket();

private:
    Runtime* runtime_;
    uint64_t id_;
};

struct PlacedCreate {
    VmService* vms = nullptr;
    PlacementDecision decision;
    PlacementTicket ticket;
};

class Runtime {
public:
    // Loads plugins from config.paths.plugin_dirs, opens the audit log at <log_dir>/audit.log,
    // makes sure Paddock's SSH key exists in <state_dir>/ssh, and connects every site. Fails
    // naming the site/plugin that could not be set up; a hypervisor that does not answer yet
    // is only a warning (its site reconnects in the background and answers 503 meanwhile).
    // Crash recovery starts here too: this instance's name (<state_dir>/instance_id, made once)
    // marks its intent records, a VmRecovery per site finishes interrupted creates and deletes,
    // and operations persist in <state_dir>/operations.json (see operations.hpp).
    static Result<std::unique_ptr<Runtime>> create(const Config& config);
    ~Runtime();

    const Config& config() const noexcept { return config_; }
    PluginHost& plugins() noexcept { return plugins_; }
    AuditLog& audit() noexcept { return *audit_; }
    CoreMetrics& metrics() noexcept { return metrics_; }
    const std::shared_ptr<EventHub>& events() const noexcept { return events_; }
    const SshIdentity& sshIdentity() const noexcept { return identity_; }
    // This paddockd's name in intent records (stable across restarts with the same state_dir).
    const std::string& instance() const noexcept { return instance_; }
    // Problems met during create() that did not stop it, for the caller to log.
    const std::vector<std::string>& warnings() const noexcept { return warnings_; }

    // The named site, or the first one when `name` is empty. NotFound (naming the known
    // sites) otherwise; Unavailable when no site is configured.
    Result<Site*> site(const std::string& name = {});
    // The VM service of that site; same lookup and errors as site().
    Result<VmService*> vms(const std::string& site = {});
    // Every site, in configuration order.
    std::vector<Site*> sites();

    // Where a new VM goes (placement.hpp). `site` named: that site (NotFound if unknown), policy
    // "requested", only its capacity checked (max_vms, max_memory_mb: Conflict "site 'a' is full:
    // ..."); down or without the template, the create itself answers (503, 400). Empty with one
    // site: the same, under the configured policy's name. Empty with several: chosen by
    // config.placement.policy (choosePlacement: Conflict naming every site's reason, 400 when no
    // site has the template, 503 when every site that has it is down). Either way AlreadyExists
    // when a VM of that name exists on any reachable site (from the in-memory views) or is being
    // created. Cheap: no hypervisor round trip once the views are filled.
    Result<PlacedCreate> placeCreate(const CreateVmRequest& request, const std::string& site);

    // Hot pools: each site's (sites[].pools, a PoolManager) and the deployment-wide ones
    // (pools, a PoolGroup over their sites), each started in the background by create(), in that
    // order. Pool names are global. NotFound for an unknown pool or a lease no pool holds.
    Result<HotPool*> pool(const std::string& name);
    std::vector<HotPool*> pools();
    Result<HotPool*> poolOfLease(const std::string& leaseId);
    OperationRegistry& operations() noexcept { return operations_; }
    // Creates whose start runs after the answer (Prefer: respond-async; create_queue.hpp).
    CreateQueue& creates() noexcept { return *creates_; }
    // Provisioning (provision_service.hpp) with config.provisioning's plugin; always present
    // (with no plugin every request answers why). Its become password lives in secret().
    ProvisionService& provisioning() noexcept { return *provisioning_; }
    SecretStore& secret() noexcept { return secret_; }
    // Backups of VM disks and restores (backup_service.hpp); files under <state_dir>/backups or
    // a template's backups.directory.
    BackupService& backups() noexcept { return *backups_; }

    // Watched VMs (templates with watch:, the exhibit VM, POST .../watch): heartbeats, automatic
    // reverts. Started by create(): revert_on_start reverts the watched VMs then.
    WatchService& watch() noexcept { return *watch_; }

    // Terminal-session recordings (config.recording). Always present; when recording is
    // disabled, begin() hands out recordings that store nothing.
    SessionRecorder& recorder() noexcept { return *recorder_; }

private:
    friend class PlacementTicket;
    struct SiteEntry;
    struct PendingCreate {
        std::string site;
        std::string name;
        uint64_t memory_mb = 0;
    };
    explicit Runtime(Config config);
    void releasePlacement(uint64_t id);
    Result<const SiteEntry*> entry(const std::string& name) const;

    Config config_;
    PluginHost plugins_;
    CoreMetrics metrics_;
    std::shared_ptr<EventHub> events_ = EventHub::create();
    SshIdentity identity_;
    std::string instance_;
    std::vector<std::string> warnings_;
    std::unique_ptr<AuditLog> audit_;
    std::unique_ptr<SessionRecorder> recorder_;
    struct SiteEntry {
        std::unique_ptr<Site> site;
        std::unique_ptr<VmService> vms;  // declared after the site it uses: destroyed first
        std::unique_ptr<VmRecovery> recovery;
    };
    std::vector<SiteEntry> sites_;
    std::unique_ptr<PoolMetrics> poolMetrics_;
    OperationRegistry operations_;
    SecretStore secret_;
    std::unique_ptr<ProvisionService> provisioning_;   // stopped first, destroyed after the pools that call it
    std::vector<std::unique_ptr<HotPool>> pools_;  // stopped before the sites they use
    std::unique_ptr<BackupStore> backupStore_;
    std::unique_ptr<BackupService> backups_;  // stopped before the sites whose VMs it backs up
    std::unique_ptr<CreateQueue> creates_;    // stopped before the sites whose VMs it starts
    std::unique_ptr<WatchService> watch_;     // stopped first: it drives every site's VMs
    std::mutex placementMutex_;  // one placement decision at a time, over pendingCreates_
    std::map<uint64_t, PendingCreate> pendingCreates_;
    uint64_t nextPlacement_ = 1;
    uint64_t finishedCreates_ = 0;  // tickets released: a listing taken before a change is stale
};

}  // namespace paddock
