#include "paddock/core/pool_group.hpp"

#include "paddock/core/names.hpp"

#include <algorithm>
#include <optional>

namespace paddock {

std::vector<uint32_t> balanceTargets(const std::vector<MemberLoad>& members, uint32_t minIdle, PlacementPolicy policy) {
    const size_t n = members.size();
    std::vector<uint32_t> targets(n, 0);
    size_t sum = 0;
    for (size_t i = 0; i < n; ++i) {
        if (!members[i].counted) continue;
        targets[i] = static_cast<uint32_t>(members[i].ready);
        sum += members[i].ready;
    }
    // A shortfall, one VM at a time, to a member with room for one more.
    for (; sum < minIdle; ++sum) {
        std::optional<size_t> pick;
        for (size_t i = 0; i < n; ++i) {
            const MemberLoad& m = members[i];
            const size_t added = targets[i] - m.ready;
            if (!m.counted || added >= m.room) continue;
            if (!pick || (policy == PlacementPolicy::Spread && targets[i] < targets[*pick])) pick = i;
            if (policy == PlacementPolicy::Pack) break;
        }
        if (!pick) break;  // no member has room: max_total is reached
        ++targets[*pick];
    }
    // A surplus, one idle VM at a time, from a member that has one to give back.
    for (; sum > minIdle; --sum) {
        std::optional<size_t> pick;
        for (size_t i = n; i-- > 0;) {
            const MemberLoad& m = members[i];
            const size_t taken = m.ready - targets[i];
            if (!m.counted || targets[i] == 0 || taken >= m.idle) continue;
            if (!pick || (policy == PlacementPolicy::Spread && targets[i] > targets[*pick])) pick = i;
            if (policy == PlacementPolicy::Pack) break;
        }
        if (!pick) break;  // the rest is still being made: judged again once it is idle
        --targets[*pick];
    }
    return targets;
}

std::vector<size_t> allocationOrder(const std::vector<PoolMemberStatus>& members, PlacementPolicy policy) {
    std::vector<size_t> order;
    for (size_t i = 0; i < members.size(); ++i)
        if (members[i].connected && members[i].recovered && members[i].counts.idle > 0) order.push_back(i);
    // On a tie in idle VMs, the member with fewer allocated: leases spread too, and the choice does
    // not hang on whether another member's refill finished a moment earlier.
    if (policy == PlacementPolicy::Spread)
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            const auto& x = members[a].counts;
            const auto& y = members[b].counts;
            return x.idle != y.idle ? x.idle > y.idle : x.allocated < y.allocated;
        });
    return order;
}

PoolGroup::PoolGroup(PoolConfig config, PlacementPolicy policy, std::vector<std::unique_ptr<PoolManager>> members,
                     std::chrono::milliseconds balanceInterval)
    : config_(std::move(config)), policy_(policy), members_(std::move(members)), balanceInterval_(balanceInterval) {
    // Nothing is filled before the first balance has seen what each site already holds.
    for (auto& m : members_) m->setTargets(0, 0, false);
}

PoolGroup::~PoolGroup() { stop(); }

void PoolGroup::start() {
    {
        std::lock_guard lock(mutex_);
        if (started_) return;
        started_ = true;
    }
    startedAt_ = std::chrono::steady_clock::now();
    for (auto& m : members_) m->start();
    balancer_ = std::thread([this] { balanceLoop(); });
}

void PoolGroup::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        wakeRequested_ = true;
    }
    wake_.notify_all();
    changed_.notify_all();
    if (balancer_.joinable()) balancer_.join();
    for (auto& m : members_) m->stop();
}

void PoolGroup::wakeBalancer() {
    {
        std::lock_guard lock(mutex_);
        wakeRequested_ = true;
    }
    wake_.notify_all();
}

void PoolGroup::balanceLoop() {
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            if (stopping_) return;
        }
        balance();
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, balanceInterval_, [this] { return wakeRequested_; });
        wakeRequested_ = false;
    }
}

void PoolGroup::balance() {
    std::lock_guard pass(balanceMutex_);
    std::vector<PoolMemberStatus> statuses;
    for (const auto& m : members_) statuses.push_back(m->memberStatus());
    // A site still reading its VMs back may hold idle ones already: until it has (or for
    // kRecoveryGrace at most), nothing is handed out, or the first site to answer gets it all.
    const bool recovering = std::any_of(statuses.begin(), statuses.end(),
                                        [](const PoolMemberStatus& s) { return s.connected && !s.recovered; });
    if (recovering && std::chrono::steady_clock::now() - startedAt_ < kRecoveryGrace) return;
    // The leased VMs of a site that is down still hold their place under max_total.
    size_t everyone = 0;
    for (const auto& s : statuses) everyone += s.connected && s.recovered ? s.counts.total : s.counts.allocated;
    std::vector<MemberLoad> loads;
    std::vector<uint32_t> caps;
    for (const auto& s : statuses) {
        MemberLoad load;
        load.counted = s.connected && s.recovered;
        const size_t mine = load.counted ? s.counts.total : s.counts.allocated;
        const size_t others = everyone - mine;
        const size_t cap = config_.max_total > others ? config_.max_total - others : 0;
        caps.push_back(static_cast<uint32_t>(cap));
        if (load.counted) {
            load.idle = s.counts.idle;
            load.ready = s.counts.idle + s.filling;
            load.total = s.counts.total;
            load.room = cap > load.total ? cap - load.total : 0;
            // A host whose files for the template are missing, or whose free memory holds no
            // more such VMs, gets no fill: the others make up for it.
            if (!s.template_unusable.empty()) load.room = 0;
            if (s.memory_room) load.room = std::min<size_t>(load.room, *s.memory_room);
        }
        loads.push_back(load);
    }
    const auto targets = balanceTargets(loads, config_.min_idle, policy_);
    for (size_t i = 0; i < members_.size(); ++i) {
        if (loads[i].counted)
            members_[i]->setTargets(targets[i], caps[i], true);
        else
            // Down (or still recovering): nothing is made or destroyed there meanwhile.
            members_[i]->setTargets(0, 0, false);
    }
}

std::vector<std::string> PoolGroup::sites() const {
    std::vector<std::string> out;
    for (const auto& m : members_) out.push_back(m->site());
    return out;
}

PoolStatus PoolGroup::status() const {
    PoolStatus s;
    s.config = config_;
    bool anyCounted = false;
    bool allRecovered = true;
    for (const auto& m : members_) {
        PoolMemberStatus member = m->memberStatus();
        if (member.connected) {
            s.counts.idle += member.counts.idle;
            s.counts.booting += member.counts.booting;
            s.counts.total += member.counts.total;
            anyCounted = true;
            allRecovered = allRecovered && member.recovered;
        } else {
            s.counts.total += member.counts.allocated;
        }
        s.counts.allocated += member.counts.allocated;
        if (s.last_error.empty() && !member.last_error.empty()) s.last_error = member.site + ": " + member.last_error;
        s.members.push_back(std::move(member));
    }
    s.recovered = anyCounted && allRecovered;
    return s;
}

std::vector<std::string> PoolGroup::vmNames() const {
    std::vector<std::string> names;
    for (const auto& m : members_) {
        auto mine = m->vmNames();
        names.insert(names.end(), mine.begin(), mine.end());
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<Lease> PoolGroup::leases(const std::optional<std::string>& owner) const {
    std::vector<Lease> out;
    for (const auto& m : members_) {
        auto mine = m->leases(owner);
        out.insert(out.end(), std::make_move_iterator(mine.begin()), std::make_move_iterator(mine.end()));
    }
    return out;
}

std::optional<Lease> PoolGroup::lease(const std::string& id) const {
    for (const auto& m : members_)
        if (auto l = m->lease(id)) return l;
    return std::nullopt;
}

PoolManager* PoolGroup::memberOfLease(const std::string& id) const {
    for (const auto& m : members_)
        if (m->lease(id)) return m.get();
    return nullptr;
}

Result<Lease> PoolGroup::extend(const std::string& id, uint64_t ttlSeconds, const std::string& actor) {
    PoolManager* member = memberOfLease(id);
    if (member == nullptr) return makeError(ErrorCode::NotFound, "unknown lease '" + id + "' in pool " + config_.name);
    return member->extend(id, ttlSeconds, actor);
}

Status PoolGroup::release(const std::string& id, const std::string& actor) {
    PoolManager* member = memberOfLease(id);
    if (member == nullptr) return makeError(ErrorCode::NotFound, "unknown lease '" + id + "' in pool " + config_.name);
    Status released = member->release(id, actor);
    wakeBalancer();
    return released;
}

Result<Allocation> PoolGroup::allocate(const AllocateRequest& request) {
    if (auto ok = validateOwner(request.owner, true); !ok) return std::move(ok).error();
    const std::string& key = request.idempotency_key;
    std::optional<size_t> servedBy;
    {
        std::unique_lock lock(mutex_);
        // A retry racing its first attempt waits for it, then goes where it went.
        if (!key.empty()) {
            changed_.wait(lock, [&] { return stopping_ || allocatingKeys_.count(key) == 0; });
            if (stopping_) return makeError(ErrorCode::Unavailable, "pool " + config_.name + " is stopping");
            if (const auto it = keyMember_.find(key); it != keyMember_.end()) servedBy = it->second;
        }
    }
    if (!key.empty() && !servedBy) {
        // After a restart the key is known from the leases in libvirt only.
        for (size_t i = 0; i < members_.size() && !servedBy; ++i)
            for (const auto& l : members_[i]->leases())
                if (l.idempotency_key == key) servedBy = i;
    }
    if (servedBy) return members_[*servedBy]->allocate(request);  // its replay (or its refusal)

    {
        std::lock_guard lock(mutex_);
        if (config_.max_per_owner != 0 && request.enforce_owner_cap) {
            const auto inFlight = allocatingOwners_.find(request.owner);
            size_t held = inFlight == allocatingOwners_.end() ? 0 : inFlight->second;
            for (const auto& m : members_) held += m->heldBy(request.owner);
            if (held >= config_.max_per_owner) return ownerCapReached(config_, request.owner, held);
        }
        ++allocatingOwners_[request.owner];
        if (!key.empty()) allocatingKeys_.insert(key);
    }
    std::vector<PoolMemberStatus> statuses;
    for (const auto& m : members_) statuses.push_back(m->memberStatus());
    auto result = allocateFrom(statuses, request);
    {
        std::lock_guard lock(mutex_);
        if (--allocatingOwners_[request.owner] == 0) allocatingOwners_.erase(request.owner);
        if (!key.empty()) {
            allocatingKeys_.erase(key);
            if (result) {
                const std::string& site = result->lease ? result->lease->site : result->operation->site;
                for (size_t i = 0; i < members_.size(); ++i)
                    if (members_[i]->site() == site) keyMember_[key] = i;
            }
        }
    }
    changed_.notify_all();
    wakeBalancer();
    return result;
}

Result<Allocation> PoolGroup::allocateFrom(const std::vector<PoolMemberStatus>& statuses,
                                           const AllocateRequest& request) {
    AllocateRequest each = request;
    each.enforce_owner_cap = false;  // held across the whole pool, above
    each.allow_cold = false;
    const std::vector<size_t> order = allocationOrder(statuses, policy_);
    std::optional<Error> last;
    for (const size_t i : order) {
        auto done = members_[i]->allocate(each);
        if (done) return done;
        // Another allocation took the last idle VM there meanwhile: the next member may have one.
        if (done.error().code != ErrorCode::Unavailable) return std::move(done).error();
        last = std::move(done).error();
    }
    if (request.allow_cold && config_.on_empty == EmptyPoolPolicy::Cold) {
        std::optional<size_t> pick;
        for (size_t i = 0; i < statuses.size(); ++i) {
            const auto& s = statuses[i];
            if (!s.connected || !s.recovered) continue;
            if (!pick || (policy_ == PlacementPolicy::Spread && s.counts.total < statuses[*pick].counts.total)) pick = i;
            if (policy_ == PlacementPolicy::Pack) break;
        }
        if (pick) {
            each.allow_cold = true;
            return members_[*pick]->allocate(each);
        }
    }
    std::string why;
    for (const auto& s : statuses) {
        why += (why.empty() ? "" : "; ") + s.site + ": ";
        if (!s.connected)
            why += "site unavailable";
        else if (!s.recovered)
            why += "still recovering";
        else if (!s.template_unusable.empty())
            why += s.template_unusable;
        else
            why += std::to_string(s.counts.idle) + " idle, " + std::to_string(s.counts.allocated) + " allocated, " +
                   std::to_string(s.counts.booting) + " booting";
    }
    if (last && order.size() == 1) return std::move(*last);
    return makeError(ErrorCode::Unavailable, "pool " + config_.name + " has no idle VM on a reachable site (" + why +
                                                 ", max_total " + std::to_string(config_.max_total) + "); retry later");
}

}  // namespace paddock
