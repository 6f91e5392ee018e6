// One hot pool on one site: keeps `min_idle` VMs of a template ready (running, saved with
// libvirt managed save, paused after they answered SSH, or shut off), hands them out as leases,
// destroys them on release or expiry, and refills. A paused idle VM keeps its memory on the host
// and uses no CPU; its readiness reads `stopped` (it cannot answer while paused) and allocation
// resumes it (start_domain), after which the first probe finds sshd already listening.
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
#include "paddock/core/hot_pool.hpp"
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

// The refusal when `owner` already holds `held` leases, max_per_owner or more, in `pool` (a pool's
// own, or one spanning sites counting every site's).
Error ownerCapReached(const PoolConfig& pool, const std::string& owner, size_t held);

class PoolManager final : public HotPool {
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
    void start() override;
    // Stops and joins every thread. A fill in progress is abandoned (the next start destroys
    // the half-made VM). Idempotent.
    void stop() override;

    // HotPool. A lease is available while the site is reachable (Site::reachable).
    const PoolConfig& config() const noexcept override { return config_; }
    std::vector<std::string> sites() const override { return {site_.name()}; }
    PoolStatus status() const override;
    std::vector<std::string> vmNames() const override;
    Result<Allocation> allocate(const AllocateRequest& request) override;
    std::vector<Lease> leases(const std::optional<std::string>& owner = std::nullopt) const override;
    std::optional<Lease> lease(const std::string& id) const override;
    Result<Lease> extend(const std::string& id, uint64_t ttlSeconds, const std::string& actor) override;
    Status release(const std::string& id, const std::string& actor) override;

    const std::string& site() const noexcept { return site_.name(); }
    // This site's share alone (status().members holds the same, for one site).
    PoolMemberStatus memberStatus() const;
    // Leases `owner` holds or is being given here (allocated, claimed, cold allocations).
    size_t heldBy(const std::string& owner) const;

    // For a pool spanning sites (PoolGroup), which moves the targets as sites come and go:
    // keep `minIdle` idle VMs (made ready) and at most `maxTotal` VMs in all on this site, in
    // place of config().min_idle/max_total. With `trimSurplus`, idle VMs beyond minIdle are
    // destroyed (the newest first); without, surplus idle VMs stay. Takes effect at the next
    // pass, which it wakes. Thread-safe; never blocks on a VM operation.
    void setTargets(uint32_t minIdle, uint32_t maxTotal, bool trimSurplus);

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
    // setTargets(.., trimSurplus): idle VMs beyond the target are doomed.
    void trimSurplus();
    void fill(const std::string& name);
    void coldAllocate(const std::string& name, const std::string& operationId);
    Status bootUntilReady(const std::string& name, bool start);
    Status waitReady(const std::string& name);
    // Pauses a made VM (paused mode; ABI 1.8 suspend_domain). Unsupported on an older backend.
    Status pauseVm(const std::string& name);
    // Before a ready VM is paused or saved: waits (kSettleLimit at most) until its guest is
    // quiet, so that it does not finish its boot on the CPU its user's first login needs.
    void waitGuestSettled(const std::string& name);
    // Restores (saved) or resumes (paused) an idle VM and starts its readiness probe; the probe
    // takes sshd's banner as ready when the VM's host key was pinned before it was put away.
    Status wakeVm(const std::string& name, const std::string& actor);
    Status recordLease(const std::string& name, Lease& lease);
    void removeVm(const std::string& name, const std::string& action, const std::string& actor);
    bool idleStateOk(const DomainInfo& domain) const;
    PoolCounts countsLocked() const;
    size_t heldByLocked(const std::string& owner) const;
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
    uint32_t targetMinIdle_;   // config_.min_idle unless setTargets() moved it
    uint32_t targetMaxTotal_;  // config_.max_total likewise
    bool trimSurplus_ = false;
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
