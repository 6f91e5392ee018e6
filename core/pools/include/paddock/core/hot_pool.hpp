// What the API sees of a hot pool, wherever its VMs live: a pool on one site (PoolManager) or a
// deployment-wide pool spanning several sites (PoolGroup, whose members are PoolManagers).
// Implementations are thread-safe; see theirs for what each call blocks on.
#pragma once

#include "paddock/core/config.hpp"
#include "paddock/core/lease.hpp"
#include "paddock/core/operations.hpp"
#include "paddock/core/pool_metrics.hpp"
#include "paddock/core/result.hpp"

#include <optional>
#include <string>
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

// One site's share of a pool.
struct PoolMemberStatus {
    std::string site;
    bool connected = false;  // the site's hypervisor answers
    PoolCounts counts;
    size_t filling = 0;  // of counts.booting: VMs being made to become idle (not for a lease)
    bool recovered = false;
    std::string last_error;
    uint32_t target_idle = 0;  // the idle VMs this site is asked to keep now
    // How many more VMs of the pool's template the host's last-known free memory holds (nullopt:
    // not known), and why the template cannot be used there (its files are missing), if so.
    std::optional<uint64_t> memory_room;
    std::string template_unusable;
};

struct PoolStatus {
    PoolConfig config;
    std::string site;  // a pool of one site; empty for a pool spanning sites
    // Counted over connected sites only: the idle VMs of a site that is down are written off
    // (they cannot be handed out) and the others refill for them.
    PoolCounts counts;
    bool recovered = false;  // the first pass over libvirt's state has completed (every connected site)
    std::string last_error;  // the last fill/reconcile failure, empty when none
    std::vector<PoolMemberStatus> members;  // one per site, in configuration order
};

class HotPool {
public:
    virtual ~HotPool() = default;

    // Starts the pool's threads (recovery and filling happen in the background); stops and joins
    // them. Both idempotent.
    virtual void start() = 0;
    virtual void stop() = 0;

    virtual const PoolConfig& config() const noexcept = 0;
    // The sites holding the pool's VMs, in configuration order.
    virtual std::vector<std::string> sites() const = 0;
    virtual PoolStatus status() const = 0;
    // Names of the pool's VMs (any state, any site), sorted.
    virtual std::vector<std::string> vmNames() const = 0;

    // InvalidArgument (bad owner/ttl/key), Conflict (max_per_owner reached, or the
    // Idempotency-Key belongs to another owner), Unavailable (empty pool, still recovering, its
    // sites down), or the VM operation's error.
    virtual Result<Allocation> allocate(const AllocateRequest& request) = 0;
    // Leases whose site is down are listed with available = false: not lost, back when it returns.
    virtual std::vector<Lease> leases(const std::optional<std::string>& owner = std::nullopt) const = 0;
    virtual std::optional<Lease> lease(const std::string& id) const = 0;
    // New expiry: now + ttl_s, but never beyond created_at + max_ttl_s. NotFound when unknown;
    // Conflict for a lease that never expires; Unavailable while its site is down.
    virtual Result<Lease> extend(const std::string& id, uint64_t ttlSeconds, const std::string& actor) = 0;
    // Ends the lease and destroys its VM and overlay (retried in the background when the
    // hypervisor refuses or is down). NotFound when unknown.
    virtual Status release(const std::string& id, const std::string& actor) = 0;
};

}  // namespace paddock
