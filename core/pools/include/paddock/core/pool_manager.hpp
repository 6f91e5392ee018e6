// One hot pool on one site: keeps `min_idle` VMs of a template ready (running, saved with
// libvirt managed save, or shut off), hands them out as leases, destroys them on release or
// expiry, and refills.
//
// State: libvirt is the source of truth. Every pool VM carries the meta:: keys below in its
// Paddock metadata; the in-memory table is rebuilt from them at start, so a restarted paddockd
// recovers every lease and idle VM (keys: vm_metadata.hpp). Half-made VMs (pool_state filling
// or releasing, an intent record of VmService's, or an idle VM not in the state its mode
// requires) are destroyed and replaced. Cold-allocation operations an earlier process left
// pending are settled by the first pass: done when their lease is in libvirt, else failed
// (operations.hpp).
//
// Atomicity: a VM is claimed in memory under the manager's mutex before anything slow happens,
// so no two allocations get the same VM; the lease is written to libvirt before allocate()
// returns. Allocations are refused (Unavailable) until the first recovery pass has finished.
//
// Threads: one reconciler (every `reconcile_interval`, and at once on a libvirt event about a
// pool VM or a reconnect: recover/sync, expire leases, destroy doomed VMs, schedule refills)
// and `workers` fill threads (making idle VMs, and cold allocations first). Public methods are
// thread-safe and block only for the VM operations they perform themselves. Never calls
// VmService or the Site while holding its own mutex. The Site, VmService, AuditLog, PoolMetrics
// and OperationRegistry must outlive the manager; the destructor stops and joins every thread.
#pragma once

#include "paddock/core/audit_log.hpp"
#include "paddock/core/config.hpp"
#include "paddock/core/events.hpp"
#include "paddock/core/lease.hpp"
#include "paddock/core/operations.hpp"
#include "paddock/core/pool_metrics.hpp"
#include "paddock/core/site.hpp"
#include "paddock/core/vm_metadata.hpp"
#include "paddock/core/vm_service.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace paddock {

struct AllocateRequest {
    std::string owner;
    std::optional<uint64_t> ttl_s;  // default_ttl_s when absent; capped at max_ttl_s
    bool expires = true;            // false: the lease never expires (Lease::expires); ttl_s is then unused
    std::string idempotency_key;    // empty: none
    std::string actor;              // for the audit log
    bool allow_cold = true;         // false: an empty pool is Unavailable even with on_empty: cold
    bool enforce_owner_cap = true;  // false: max_per_owner does not apply (the compat route's anonymous owner)
};

// Exactly one of lease (allocated, or replayed for a repeated Idempotency-Key) and operation
// (a cold allocation to poll) is set.
struct Allocation {
    std::optional<Lease> lease;
    std::optional<Operation> operation;
    bool replayed = false;
};

struct PoolStatus {
    PoolConfig config;
    std::string site;
    PoolCounts counts;
    bool recovered = false;  // the first pass over libvirt's state has completed
    std::string last_error;  // the last fill/reconcile failure, empty when none
};

class PoolManager {
public:
    struct Options {
        std::chrono::milliseconds reconcile_interval{2000};
        std::chrono::milliseconds ready_timeout{0};  // 0: the site's ready_timeout_s
        unsigned workers = 2;                        // parallel fills
        // Set: runs on the fill's thread once a new VM answers SSH, before it is marked idle
        // (and before the managed save of a saved pool; a shutoff pool's VM is booted for it and
        // shut down after), and before a cold allocation's lease: a failure writes the VM off.
        // The runtime sets it to provisioning for templates with provision.on_create.
        std::function<Status(const std::string& vm)> prepare;
    };

    PoolManager(PoolConfig config, Site& site, VmService& vms, AuditLog& audit, PoolMetrics& metrics,
                OperationRegistry& operations, Options options);
    PoolManager(PoolConfig config, Site& site, VmService& vms, AuditLog& audit, PoolMetrics& metrics,
                OperationRegistry& operations)
        : PoolManager(std::move(config), site, vms, audit, metrics, operations, Options{}) {}
    ~PoolManager();
    PoolManager(const PoolManager&) = delete;
    PoolManager& operator=(const PoolManager&) = delete;

    // Starts the threads; recovery and filling happen in the background.
    void start();
    // Stops and joins every thread. A fill in progress is abandoned (the next start destroys
    // the half-made VM). Idempotent.
    void stop();

    const PoolConfig& config() const noexcept { return config_; }
    const std::string& site() const noexcept { return site_.name(); }
    PoolStatus status() const;
    // Names of the pool's VMs (any state), sorted.
    std::vector<std::string> vmNames() const;

    // InvalidArgument (bad owner/ttl/key), Conflict (max_per_owner reached, or the
    // Idempotency-Key belongs to another owner), Unavailable (empty pool, still recovering),
    // or the VM operation's error.
    Result<Allocation> allocate(const AllocateRequest& request);
    std::vector<Lease> leases(const std::optional<std::string>& owner = std::nullopt) const;
    std::optional<Lease> lease(const std::string& id) const;
    // New expiry: now + ttl_s, but never beyond created_at + max_ttl_s. NotFound when unknown;
    // Conflict for a lease that never expires.
    Result<Lease> extend(const std::string& id, uint64_t ttlSeconds, const std::string& actor);
    // Ends the lease and destroys its VM and overlay (retried in the background when libvirt
    // refuses). NotFound when unknown.
    Status release(const std::string& id, const std::string& actor);

    // Runs a reconcile pass soon (from any thread; never blocks).
    void wake();

private:
    enum class VmState { Filling, Idle, Claimed, Allocated, Doomed, Removing };
    using Clock = std::chrono::steady_clock;
    struct Entry {
        VmState state = VmState::Filling;
        Lease lease;                 // Claimed/Allocated, and cold fills (owner, key)
        std::string cold_operation;  // a Filling entry made for one cold allocation
        Clock::time_point changed = Clock::now();
    };

    void reconcileLoop();
    void workerLoop();
    void reconcile();
    void recoverOrAdopt(const DomainInfo& domain, bool atStart);
    void sync(const std::vector<DomainInfo>& domains, Clock::time_point listedAt);
    void expireLeases();
    void removeDoomed();
    void scheduleRefills();
    void fill(const std::string& name);
    void coldAllocate(const std::string& name, const std::string& operationId);
    Status bootUntilReady(const std::string& name, bool start);
    Status waitReady(const std::string& name);
    Status recordLease(const std::string& name, Lease& lease);
    void removeVm(const std::string& name, const std::string& action, const std::string& actor);
    bool idleStateOk(const DomainInfo& domain) const;
    PoolCounts countsLocked() const;
    void publishCounts();
    void audit(const std::string& actor, const std::string& vm, const std::string& action, Status result);
    std::string newVmName() const;
    Lease leaseFromMetadata(const std::string& vm, const Metadata& m) const;
    void fillSsh(Lease& lease);

    PoolConfig config_;
    Site& site_;
    VmService& vmService_;
    AuditLog& audit_;
    PoolMetrics& metrics_;
    OperationRegistry& operations_;
    Options options_;
    std::string prefix_;  // "<pool>-": the pool's VM names

    mutable std::mutex mutex_;
    std::condition_variable changed_;  // a claim finished, recovery done, stopping
    std::map<std::string, Entry> vms_;
    std::map<std::string, Clock::time_point> graveyard_;  // recently removed; not re-adopted
    std::deque<std::function<void()>> tasks_;
    std::condition_variable tasksReady_;
    bool recovered_ = false;
    bool stopping_ = false;
    bool started_ = false;
    std::string lastError_;
    unsigned fillFailures_ = 0;  // consecutive; drives the refill backoff
    Clock::time_point fillBackoffUntil_{};

    std::mutex wakeMutex_;
    std::condition_variable wakeCv_;
    bool wakeRequested_ = false;

    EventHub::Subscription subscription_;
    std::thread reconciler_;
    std::vector<std::thread> workers_;
};

}  // namespace paddock
