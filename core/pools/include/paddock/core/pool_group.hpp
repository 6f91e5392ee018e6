// A hot pool spanning several sites (Config::pools with `sites:`/`site_selector:`): one
// PoolManager per site (its members) under one name, balanced by a thread of the group's own.
//
// Balancing (every second, and at once after an allocation): only members whose site is
// connected and whose first recovery pass has finished count; while a connected site is still
// recovering (at most kRecoveryGrace after start) nothing is handed out at all. Their ready VMs (idle, or being
// made idle) are summed; a shortfall below min_idle is handed out one VM at a time, by
// placement.policy: spread gives it to the member with the fewest ready VMs, pack to the first
// member (in configuration order) with room. A surplus (a site came back with its idle VMs) is
// taken back the other way round: spread from the member with the most, pack from the last;
// those members destroy their surplus idle VMs (PoolManager::setTargets). max_total holds for the
// pool as a whole: a member may grow to max_total less every other connected member's VMs and the
// leased VMs of members that are down.
//
// A site that goes down: its idle VMs are written off (not counted, not handed out) and the
// other sites refill for them; its leases stay, listed with available = false, and come back
// with the site. Nothing on that site is destroyed while it is down.
//
// Allocation takes an idle VM from a connected member (spread: the one with the most idle VMs,
// on a tie the one with fewer VMs allocated; pack: the first with one); with none idle and on_empty: cold, a cold allocation on the member
// with the fewest VMs (spread) or the first with room (pack). max_per_owner and Idempotency-Keys
// hold across the whole pool.
//
// Thread-safe. Owns its members; the sites, services and registries they use must outlive it.
// The destructor stops every thread.
#pragma once

#include "paddock/core/config.hpp"
#include "paddock/core/hot_pool.hpp"
#include "paddock/core/pool_manager.hpp"

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace paddock {

// The balancing rule alone (pure, for tests): the idle targets of a pool's members.
struct MemberLoad {
    bool counted = false;  // connected and recovered
    size_t ready = 0;      // idle, or being made idle
    size_t idle = 0;       // idle now (what surplus can take back)
    size_t total = 0;      // every VM of the member
    size_t room = 0;       // how many more VMs the member may have (its cap less total)
};
std::vector<uint32_t> balanceTargets(const std::vector<MemberLoad>& members, uint32_t minIdle, PlacementPolicy policy);

// The allocation rule alone (pure, for tests): the members (indexes into `members`) to try for an
// idle VM, best first — connected, recovered and with an idle VM; spread: most idle first, then
// fewest allocated, then configuration order; pack: configuration order.
std::vector<size_t> allocationOrder(const std::vector<PoolMemberStatus>& members, PlacementPolicy policy);

class PoolGroup final : public HotPool {
public:
    // `members`: one per site, in configuration order, each made with the group's PoolConfig
    // (their targets start at zero until the first balance).
    PoolGroup(PoolConfig config, PlacementPolicy policy, std::vector<std::unique_ptr<PoolManager>> members,
              std::chrono::milliseconds balanceInterval = std::chrono::seconds(1));
    ~PoolGroup() override;
    PoolGroup(const PoolGroup&) = delete;
    PoolGroup& operator=(const PoolGroup&) = delete;

    // Starts the members and the balancing thread. Idempotent.
    void start();
    // Stops the balancing thread and the members. Idempotent.
    void stop();

    const PoolConfig& config() const noexcept override { return config_; }
    std::vector<std::string> sites() const override;
    PoolStatus status() const override;
    std::vector<std::string> vmNames() const override;
    Result<Allocation> allocate(const AllocateRequest& request) override;
    std::vector<Lease> leases(const std::optional<std::string>& owner = std::nullopt) const override;
    std::optional<Lease> lease(const std::string& id) const override;
    Result<Lease> extend(const std::string& id, uint64_t ttlSeconds, const std::string& actor) override;
    Status release(const std::string& id, const std::string& actor) override;

    // One balancing pass now (the thread runs them too); for tests and after an allocation.
    void balance();
    static constexpr std::chrono::seconds kRecoveryGrace{30};

private:
    void balanceLoop();
    void wakeBalancer();
    PoolManager* memberOfLease(const std::string& id) const;
    Result<Allocation> allocateFrom(const std::vector<PoolMemberStatus>& statuses, const AllocateRequest& request);

    PoolConfig config_;
    PlacementPolicy policy_;
    std::vector<std::unique_ptr<PoolManager>> members_;
    std::chrono::milliseconds balanceInterval_;

    std::mutex balanceMutex_;  // one balancing pass at a time
    std::chrono::steady_clock::time_point startedAt_{};

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::map<std::string, size_t> allocatingOwners_;  // owner -> allocations in flight
    std::set<std::string> allocatingKeys_;            // Idempotency-Keys in flight
    std::map<std::string, size_t> keyMember_;         // Idempotency-Key -> the member that served it
    bool stopping_ = false;
    bool started_ = false;
    bool wakeRequested_ = false;
    std::condition_variable wake_;
    std::thread balancer_;
};

}  // namespace paddock
