#include "paddock/core/pool_manager.hpp"

#include "paddock/core/crash_point.hpp"
#include "paddock/core/ids.hpp"
#include "paddock/core/names.hpp"

#include <algorithm>
#include <optional>

namespace paddock {

namespace {

constexpr const char* kFilling = "filling";
constexpr const char* kIdle = "idle";
constexpr const char* kAllocated = "allocated";
constexpr const char* kReleasing = "releasing";
constexpr const char* kNever = "never";  // meta::kLeaseExpiresAt of a lease that never expires
constexpr size_t kMaxKeyLength = 200;
constexpr int kAllocateAttempts = 3;
constexpr auto kReadySlice = std::chrono::milliseconds(250);
// A guest using less than this share of a core over kSettleWindow has settled; one that never
// does is put away after kSettleLimit anyway.
constexpr double kSettledCpuShare = 0.25;
constexpr auto kSettleWindow = std::chrono::milliseconds(500);
constexpr auto kSettleLimit = std::chrono::seconds(10);
// Refills wait for allocations in progress (scheduleRefills), but never longer than this.
constexpr auto kRefillDeferLimit = std::chrono::seconds(5);
constexpr auto kGraveyardTtl = std::chrono::minutes(5);
constexpr auto kMaxFillBackoff = std::chrono::seconds(60);

}  // namespace

PoolManager::PoolManager(PoolConfig config, Site& site, VmService& vms, AuditLog& audit, PoolMetrics& metrics,
                         OperationRegistry& operations, Options options)
    : config_(std::move(config)),
      site_(site),
      vmService_(vms),
      audit_(audit),
      metrics_(metrics),
      operations_(operations),
      options_(options),
      prefix_(config_.name + "-"),
      targetMinIdle_(config_.min_idle),
      targetMaxTotal_(config_.max_total) {
    if (options_.ready_timeout.count() == 0)
        options_.ready_timeout = std::chrono::seconds(site.config().ready_timeout_s);
    if (options_.workers == 0) options_.workers = 1;
}

PoolManager::~PoolManager() { stop(); }

void PoolManager::start() {
    {
        std::lock_guard lock(mutex_);
        if (started_) return;
        started_ = true;
    }
    subscription_ = site_.events()->subscribe([this](const VmEvent& e) {
        if (e.site != site_.name()) return;
        if (e.kind == "connection" || e.vm.rfind(prefix_, 0) == 0) wake();
    });
    reconciler_ = std::thread([this] { reconcileLoop(); });
    for (unsigned i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { workerLoop(); });
}

void PoolManager::stop() {
    subscription_.reset();
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    tasksReady_.notify_all();
    {
        std::lock_guard lock(wakeMutex_);
        wakeRequested_ = true;
    }
    wakeCv_.notify_all();
    if (reconciler_.joinable()) reconciler_.join();
    for (auto& w : workers_)
        if (w.joinable()) w.join();
    workers_.clear();
}

void PoolManager::wake() {
    {
        std::lock_guard lock(wakeMutex_);
        wakeRequested_ = true;
    }
    wakeCv_.notify_one();
}

// ---- background threads ------------------------------------------------------------------

void PoolManager::reconcileLoop() {
    for (;;) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
        }
        reconcile();
        std::unique_lock lock(wakeMutex_);
        wakeCv_.wait_for(lock, options_.reconcile_interval, [this] { return wakeRequested_; });
        wakeRequested_ = false;
    }
}

void PoolManager::workerLoop() {
    for (;;) {
        std::function<void()> task;
        {
            std::unique_lock lock(mutex_);
            tasksReady_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
            if (stopping_) return;
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        task();
    }
}

void PoolManager::reconcile() {
    auto conn = site_.connection();
    if (!conn) {
        std::lock_guard lock(mutex_);
        lastError_ = conn.error().message;
        return;
    }
    bool first = false;
    {
        std::lock_guard lock(mutex_);
        first = !recovered_;
    }
    const auto listedAt = Clock::now();
    // Recovery reads the hypervisor's own record (one metadata call per domain, once). Later
    // passes read the site's view and metadata cache: a live listing with metadata there was one
    // backend call per domain of the site, per pool and per pass (every event about a pool VM),
    // so filling a pool on a site of 10,000 domains cost 10,000 calls per VM. Paddock's own
    // changes are in the view at once, others' by its next refresh.
    auto domains = first ? conn.value()->listDomains(true) : site_.domains();
    if (!domains) {
        std::lock_guard lock(mutex_);
        lastError_ = domains.error().message;
        return;
    }
    if (first) {
        for (const auto& d : domains.value())
            if (metaValue(d.metadata, meta::kPool) == config_.name) recoverOrAdopt(d, true);
        // A cold allocation of an earlier process got its lease only if the lease reached libvirt.
        operations_.settleInterrupted(config_.name, site_.name(), [this](const std::string& vm) -> std::optional<Lease> {
            std::lock_guard lock(mutex_);
            const auto it = vms_.find(vm);
            if (it == vms_.end() || it->second.state != VmState::Allocated) return std::nullopt;
            return it->second.lease;
        });
        {
            std::lock_guard lock(mutex_);
            recovered_ = true;
        }
        changed_.notify_all();
    } else {
        sync(domains.value(), listedAt);
    }
    expireLeases();
    trimSurplus();
    removeDoomed();
    scheduleRefills();
    publishCounts();
}

// A pool VM found in libvirt that the table does not know: after a restart (atStart), or one
// made by another process. Leases are taken over as they are; anything half-made is doomed.
void PoolManager::recoverOrAdopt(const DomainInfo& domain, bool atStart) {
    const std::string state = metaValue(domain.metadata, meta::kPoolState);
    Entry entry;
    std::string why;
    const std::string intent = metaValue(domain.metadata, meta::kIntent);
    if (!intent.empty()) {
        entry.state = VmState::Doomed;
        why = "left " + intent + " (by " + metaValue(domain.metadata, meta::kIntentBy) + "): destroyed and replaced";
    } else if (state == kAllocated && !metaValue(domain.metadata, meta::kLeaseId).empty()) {
        entry.state = VmState::Allocated;
        entry.lease = leaseFromMetadata(domain.name, domain.metadata);
        fillSsh(entry.lease);
    } else if (state == kIdle && idleStateOk(domain)) {
        entry.state = VmState::Idle;
    } else {
        entry.state = VmState::Doomed;
        why = "pool_state '" + state + "' in libvirt state '" + std::string(domainStateName(domain.state)) +
              (domain.has_managed_save ? "' with a managed save" : "'") + ": destroyed and replaced";
    }
    {
        std::lock_guard lock(mutex_);
        if (vms_.count(domain.name)) return;
        vms_[domain.name] = entry;
    }
    audit("system", domain.name, atStart ? "pool_recover" : "pool_adopt",
          why.empty() ? Status{} : Status(makeError(ErrorCode::Conflict, why)));
}

void PoolManager::sync(const std::vector<DomainInfo>& domains, Clock::time_point listedAt) {
    std::map<std::string, const DomainInfo*> ours;
    for (const auto& d : domains)
        if (metaValue(d.metadata, meta::kPool) == config_.name) ours[d.name] = &d;

    std::vector<std::pair<std::string, std::string>> lost;  // vm, why
    std::vector<const DomainInfo*> strangers;
    {
        std::lock_guard lock(mutex_);
        for (auto it = vms_.begin(); it != vms_.end();) {
            Entry& e = it->second;
            // Entries in flight are judged by the thread working on them.
            const bool busy =
                e.state == VmState::Filling || e.state == VmState::Claimed || e.state == VmState::Removing;
            const auto found = ours.find(it->first);
            if (busy || e.changed >= listedAt) {
                ++it;
                continue;
            }
            if (found == ours.end()) {
                if (e.state == VmState::Idle)
                    lost.emplace_back(it->first, "idle VM deleted behind Paddock's back: replaced");
                if (e.state == VmState::Allocated)
                    lost.emplace_back(it->first,
                                      "VM of lease " + e.lease.id + " deleted behind Paddock's back: lease ended");
                graveyard_[it->first] = Clock::now();
                it = vms_.erase(it);
                continue;
            }
            if (e.state == VmState::Idle && !idleStateOk(*found->second)) {
                e.state = VmState::Doomed;
                e.changed = Clock::now();
                lost.emplace_back(it->first, "idle VM found in state '" +
                                                 std::string(domainStateName(found->second->state)) + "': replaced");
            }
            ++it;
        }
        for (const auto& [name, d] : ours)
            if (!vms_.count(name) && !graveyard_.count(name)) strangers.push_back(d);
        const auto now = Clock::now();
        for (auto it = graveyard_.begin(); it != graveyard_.end();)
            it = now - it->second > kGraveyardTtl ? graveyard_.erase(it) : std::next(it);
    }
    for (const auto& [vm, why] : lost) audit("system", vm, "pool_replace", makeError(ErrorCode::Conflict, why));
    for (const DomainInfo* d : strangers) recoverOrAdopt(*d, false);
}

void PoolManager::expireLeases() {
    std::vector<std::string> expired;
    {
        std::lock_guard lock(mutex_);
        const auto now = std::chrono::system_clock::now();
        for (auto& [name, e] : vms_) {
            if (e.state != VmState::Allocated || !e.lease.expires || e.lease.expires_at > now) continue;
            e.state = VmState::Removing;
            e.changed = Clock::now();
            expired.push_back(name);
        }
    }
    for (const auto& name : expired) {
        (void)site_.updateMetadata(name, {{meta::kPoolState, kReleasing}});
        crashPoint("pool.expire.after_mark");
        metrics_.countExpiry(site_.name(), config_.name);
        removeVm(name, "pool_expire", "system");
    }
}

void PoolManager::removeDoomed() {
    std::vector<std::string> doomed;
    {
        std::lock_guard lock(mutex_);
        for (auto& [name, e] : vms_) {
            if (e.state != VmState::Doomed) continue;
            e.state = VmState::Removing;
            e.changed = Clock::now();
            doomed.push_back(name);
        }
    }
    for (const auto& name : doomed) removeVm(name, "pool_destroy", "system");
}

void PoolManager::scheduleRefills() {
    std::lock_guard lock(mutex_);
    if (stopping_ || Clock::now() < fillBackoffUntil_) return;
    size_t ready = 0;
    for (const auto& [name, e] : vms_) {
        if (e.state == VmState::Idle || (e.state == VmState::Filling && e.cold_operation.empty())) ++ready;
        // An allocation waking its VM goes first: a refill started beside it (QEMU starting,
        // libvirt writing the new domain's files) took the host's CPU and disk from the resume
        // and the lease's metadata write, and a paused VM's allocation took ~1 s instead of
        // ~0.1 s. The allocation wakes the worker when it is done.
        if (e.state == VmState::Claimed && Clock::now() - e.changed < kRefillDeferLimit) return;
    }
    size_t total = vms_.size();
    while (ready < targetMinIdle_ && total < targetMaxTotal_) {
        const std::string name = newVmName();
        if (vms_.count(name)) continue;
        vms_[name] = Entry{};
        tasks_.push_back([this, name] { fill(name); });
        ++ready;
        ++total;
    }
    tasksReady_.notify_all();
}

void PoolManager::trimSurplus() {
    {
        std::lock_guard lock(mutex_);
        if (!trimSurplus_ || stopping_) return;
        std::vector<std::map<std::string, Entry>::iterator> idle;
        for (auto it = vms_.begin(); it != vms_.end(); ++it)
            if (it->second.state == VmState::Idle) idle.push_back(it);
        if (idle.size() <= targetMinIdle_) return;
        // The newest go first: the oldest have proven themselves longest.
        std::sort(idle.begin(), idle.end(), [](const auto& a, const auto& b) { return a->second.changed > b->second.changed; });
        for (size_t i = 0; i < idle.size() - targetMinIdle_; ++i) {
            idle[i]->second.state = VmState::Doomed;
            idle[i]->second.changed = Clock::now();
        }
    }
    // removeDoomed (next in the pass) destroys them; the audit says why.
}

void PoolManager::setTargets(uint32_t minIdle, uint32_t maxTotal, bool trimSurplus) {
    bool changed = false;
    {
        std::lock_guard lock(mutex_);
        changed = targetMinIdle_ != minIdle || targetMaxTotal_ != maxTotal || trimSurplus_ != trimSurplus;
        targetMinIdle_ = minIdle;
        targetMaxTotal_ = maxTotal;
        trimSurplus_ = trimSurplus;
    }
    if (changed) wake();
}

// ---- making VMs --------------------------------------------------------------------------

std::string PoolManager::newVmName() const { return randomId(prefix_, 8); }

Status PoolManager::waitReady(const std::string& name) {
    if (!site_.probesSsh()) return {};
    const auto deadline = Clock::now() + options_.ready_timeout;
    // In slices, so that stop() does not wait for a guest that never answers.
    for (;;) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return makeError(ErrorCode::Unavailable, "pool " + config_.name + " is stopping");
        }
        const ReadinessInfo info = site_.readiness().waitSettled(name, kReadySlice);
        if (info.state == Readiness::Ready) return {};
        if (info.state == Readiness::Unreachable)
            return makeError(ErrorCode::Unavailable, "VM '" + name + "' did not answer SSH: " + info.error);
        if (Clock::now() >= deadline)
            return makeError(ErrorCode::Timeout, "VM '" + name + "' was not ready within " +
                                                     std::to_string(options_.ready_timeout.count() / 1000) + " s");
    }
}

Status PoolManager::pauseVm(const std::string& name) {
    return site_.withVm<Status>(name, [&](BackendConnection& c) -> Status {
        if (auto managed = site_.managedDomain(c, name); !managed) return std::move(managed).error();
        Status paused = c.suspendDomain(name);
        // A paused guest cannot answer: its readiness says so until allocation resumes it
        // (the suspend event would say the same, later).
        if (paused) site_.readiness().cancel(name, Readiness::Stopped);
        site_.refresh(c, name);
        return paused;
    });
}

void PoolManager::waitGuestSettled(const std::string& name) {
    // Only a guest a probe reached over SSH: it is real and running. (libvirt's test driver
    // reports the wall clock as CPU time, which would never look quiet.)
    if (!site_.probesSsh() || site_.readiness().get(name).state != Readiness::Ready) return;
    const auto cpuTime = [&]() -> std::optional<uint64_t> {
        auto info = site_.withVm<Result<DomainInfo>>(name, [&](BackendConnection& c) { return c.getDomain(name); });
        if (!info || info->state != DomainState::Running) return std::nullopt;
        return info->cpu_time_ns;
    };
    const auto deadline = Clock::now() + kSettleLimit;
    auto before = cpuTime();
    auto sampledAt = Clock::now();
    while (before && Clock::now() < deadline) {
        {
            std::unique_lock lock(mutex_);
            if (changed_.wait_for(lock, kSettleWindow, [&] { return stopping_; })) return;
        }
        const auto now = cpuTime();
        if (!now) return;
        const double wall = std::chrono::duration<double>(Clock::now() - sampledAt).count();
        const double used = static_cast<double>(*now - std::min(*now, *before)) / 1e9;
        if (wall > 0 && used / wall < kSettledCpuShare) return;
        before = now;
        sampledAt = Clock::now();
    }
}

Status PoolManager::wakeVm(const std::string& name, const std::string& actor) {
    Status woken = site_.withVm<Status>(name, [&](BackendConnection& c) -> Status {
        if (auto managed = site_.managedDomain(c, name); !managed) return std::move(managed).error();
        // A paused guest's probe starts before the resume: its connection is answered the moment
        // the guest runs, and the resumed event finds a probe under way (no second one beside
        // it). A saved VM's starts once the restore is done: before, no QEMU answers, and a
        // connection made while it loads the image may wait for a SYN retry of its forward.
        const bool probes = site_.probesSsh();
        const bool paused = config_.mode == PoolMode::Paused;
        if (probes && paused) site_.readiness().begin(name, ProbeKind::Resumed);
        Status started = c.startDomain(name);
        if (!started && started.error().code == ErrorCode::Conflict) started = {};  // running already
        if (!started)
            site_.readiness().cancel(name, Readiness::Stopped);
        else if (probes && !paused)
            site_.readiness().begin(name, ProbeKind::Resumed);
        site_.refresh(c, name);
        return started;
    });
    audit(actor, name, config_.mode == PoolMode::Paused ? "resume" : "start", woken);
    return woken;
}

Status PoolManager::bootUntilReady(const std::string& name, bool start) {
    CreateVmRequest request;
    request.name = name;
    if (!config_.template_name.empty()) request.template_name = config_.template_name;
    request.start = start;
    request.metadata = {{meta::kPool, config_.name}, {meta::kPoolState, kFilling}};
    auto created = vmService_.create(request, "system");
    if (!created) return std::move(created).error();
    if (!start) return {};
    if (Status ready = waitReady(name); !ready) return ready;
    if (options_.prepare) return options_.prepare(name);
    return {};
}

void PoolManager::fill(const std::string& name) {
    const auto started = Clock::now();
    const bool shutoff = config_.mode == PoolMode::Shutoff;
    // A VM to prepare must run for it, even in a shutoff pool.
    Status made = bootUntilReady(name, !shutoff || static_cast<bool>(options_.prepare));
    if (made && shutoff && options_.prepare) {
        auto stopped = vmService_.stop(name, "system");
        if (!stopped) made = std::move(stopped).error();
    }
    if (made) crashPoint("pool.fill.after_create");
    // The metadata says idle before the save, so the saved image carries it too. The host key
    // the probe saw is pinned with it: a saved or paused VM is then known ready again as soon
    // as its sshd answers (wakeVm), and later logins check that key.
    if (made) {
        Metadata idle = {{meta::kPoolState, kIdle}};
        const std::string key = site_.readiness().get(name).host_key.fingerprint;
        if (!key.empty()) idle[meta::kHostKey] = key;
        made = site_.updateMetadata(name, idle);
    }
    if (made) crashPoint("pool.fill.after_idle_mark");
    const bool putAway = config_.mode == PoolMode::Saved || config_.mode == PoolMode::Paused;
    if (made && putAway) waitGuestSettled(name);
    if (made && config_.mode == PoolMode::Saved) {
        made = vmService_.save(name, "system");
        if (made) crashPoint("pool.fill.after_save");
    }
    if (made && config_.mode == PoolMode::Paused) made = pauseVm(name);
    audit("system", name, "pool_refill", made);
    if (made) {
        metrics_.observeRefill(config_.name, std::chrono::duration<double>(Clock::now() - started).count());
        {
            std::lock_guard lock(mutex_);
            fillFailures_ = 0;
            auto it = vms_.find(name);
            if (it != vms_.end()) {
                it->second.state = VmState::Idle;
                it->second.changed = Clock::now();
            }
        }
        changed_.notify_all();
        publishCounts();
        return;
    }
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;  // left half-made on purpose: the next start replaces it
        lastError_ = "refill: " + made.error().message;
        ++fillFailures_;
        // A broken template must not turn into a tight create/destroy loop.
        const auto backoff =
            std::min<std::chrono::seconds>(kMaxFillBackoff, std::chrono::seconds(1u << std::min(fillFailures_, 6u)));
        fillBackoffUntil_ = Clock::now() + backoff;
        auto it = vms_.find(name);
        if (it != vms_.end()) {
            it->second.state = VmState::Removing;
            it->second.changed = Clock::now();
        }
    }
    removeVm(name, "pool_destroy", "system");
}

void PoolManager::coldAllocate(const std::string& name, const std::string& operationId) {
    const auto started = Clock::now();
    Lease lease;
    {
        std::lock_guard lock(mutex_);
        lease = vms_.at(name).lease;
    }
    operations_.start(operationId);
    Status made = bootUntilReady(name, true);
    if (made) {
        crashPoint("pool.cold.after_create");
        made = recordLease(name, lease);
    }
    if (made) crashPoint("pool.cold.after_lease");
    audit(lease.owner, name, "pool_allocate", made);
    if (made) {
        {
            std::lock_guard lock(mutex_);
            auto& e = vms_.at(name);
            e.state = VmState::Allocated;
            e.lease = lease;
            e.cold_operation.clear();
            e.changed = Clock::now();
        }
        changed_.notify_all();
        operations_.finish(operationId, lease);
        crashPoint("pool.cold.after_finish");
        metrics_.countAllocation(site_.name(), config_.name);
        metrics_.observeAllocate(config_.name, std::chrono::duration<double>(Clock::now() - started).count());
        publishCounts();
        return;
    }
    operations_.fail(operationId, made.error());
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        auto& e = vms_.at(name);
        e.state = VmState::Removing;
        e.cold_operation.clear();
        e.changed = Clock::now();
    }
    changed_.notify_all();
    removeVm(name, "pool_destroy", "system");
}

Status PoolManager::recordLease(const std::string& name, Lease& lease) {
    Metadata m = {{meta::kPoolState, kAllocated},
                  {meta::kLeaseId, lease.id},
                  {meta::kLeaseOwner, lease.owner},
                  {meta::kOwner, lease.owner},
                  {meta::kLeaseCreatedAt, isoTime(lease.created_at)},
                  {meta::kLeaseExpiresAt, lease.expires ? isoTime(lease.expires_at) : std::string(kNever)}};
    if (!lease.idempotency_key.empty()) m[meta::kLeaseIdempotencyKey] = lease.idempotency_key;
    if (Status written = site_.updateMetadata(name, m); !written) return written;
    fillSsh(lease);
    return {};
}

void PoolManager::fillSsh(Lease& lease) {
    auto vm = vmService_.get(lease.vm);
    if (!vm || vm->ssh_host.empty()) return;
    lease.ssh_host = vm->ssh_host;
    lease.ssh_port = vm->ssh_port;
    lease.ssh_user = vm->ssh_user;
}

void PoolManager::removeVm(const std::string& name, const std::string& action, const std::string& actor) {
    Status removed = vmService_.remove(name, actor);
    const bool gone = removed.ok() || removed.error().code == ErrorCode::NotFound;
    {
        std::lock_guard lock(mutex_);
        auto it = vms_.find(name);
        if (gone) {
            if (it != vms_.end()) vms_.erase(it);
            graveyard_[name] = Clock::now();
        } else {
            // Retried by the next reconcile pass.
            if (it != vms_.end()) {
                it->second.state = VmState::Doomed;
                it->second.changed = Clock::now();
            }
            lastError_ = "cannot destroy '" + name + "': " + removed.error().message;
        }
    }
    audit(actor, name, action, gone ? Status{} : removed);
    publishCounts();
    wake();
}

// ---- state checks and views ----------------------------------------------------------------

bool PoolManager::idleStateOk(const DomainInfo& d) const {
    if (config_.mode == PoolMode::Running) return d.state == DomainState::Running || d.state == DomainState::Blocked;
    if (config_.mode == PoolMode::Saved) return d.state == DomainState::Shutoff && d.has_managed_save;
    if (config_.mode == PoolMode::Paused) return d.state == DomainState::Paused;
    return d.state == DomainState::Shutoff;
}

Lease PoolManager::leaseFromMetadata(const std::string& vm, const Metadata& m) const {
    Lease l;
    l.id = metaValue(m, meta::kLeaseId);
    l.pool = config_.name;
    l.site = site_.name();
    l.vm = vm;
    l.owner = metaValue(m, meta::kLeaseOwner);
    l.idempotency_key = metaValue(m, meta::kLeaseIdempotencyKey);
    const auto now = std::chrono::system_clock::now();
    l.created_at = parseIsoTime(metaValue(m, meta::kLeaseCreatedAt)).value_or(now);
    // An unreadable expiry ends the lease now rather than never.
    const std::string expiry = metaValue(m, meta::kLeaseExpiresAt);
    l.expires = expiry != kNever;
    l.expires_at = parseIsoTime(expiry).value_or(now);
    return l;
}

PoolCounts PoolManager::countsLocked() const {
    PoolCounts c;
    for (const auto& [name, e] : vms_) {
        switch (e.state) {
            case VmState::Idle: ++c.idle; break;
            case VmState::Allocated: ++c.allocated; break;
            case VmState::Filling:
            case VmState::Claimed: ++c.booting; break;
            default: break;
        }
    }
    c.total = vms_.size();
    return c;
}

void PoolManager::publishCounts() {
    PoolCounts c;
    {
        std::lock_guard lock(mutex_);
        c = countsLocked();
    }
    metrics_.setCounts(site_.name(), config_.name, c);
    uint32_t target = 0;
    {
        std::lock_guard lock(mutex_);
        target = targetMinIdle_;
    }
    metrics_.setMinIdle(site_.name(), config_.name, target);
}

void PoolManager::audit(const std::string& actor, const std::string& vm, const std::string& action, Status result) {
    (void)audit_.record(actor, site_.name(), vm, action, std::move(result));
}

PoolMemberStatus PoolManager::memberStatus() const {
    PoolMemberStatus m;
    m.site = site_.name();
    m.connected = site_.reachable();
    const PlacementHostFacts facts = site_.placementFacts(config_.template_name);
    m.template_unusable = facts.template_unusable;
    if (facts.free_memory_mb) {
        const uint64_t each = templateMemoryMb(site_.config(), findTemplate(site_.config(), config_.template_name));
        m.memory_room = each == 0 ? *facts.free_memory_mb : *facts.free_memory_mb / each;
    }
    std::lock_guard lock(mutex_);
    m.counts = countsLocked();
    for (const auto& [name, e] : vms_)
        if (e.state == VmState::Filling && e.cold_operation.empty()) ++m.filling;
    m.recovered = recovered_;
    m.last_error = lastError_;
    m.target_idle = targetMinIdle_;
    return m;
}

size_t PoolManager::heldBy(const std::string& owner) const {
    std::lock_guard lock(mutex_);
    return heldByLocked(owner);
}

size_t PoolManager::heldByLocked(const std::string& owner) const {
    size_t held = 0;
    for (const auto& [vm, e] : vms_) {
        const bool holds = e.state == VmState::Allocated || e.state == VmState::Claimed ||
                           (e.state == VmState::Filling && !e.cold_operation.empty());
        if (holds && e.lease.owner == owner) ++held;
    }
    return held;
}

PoolStatus PoolManager::status() const {
    PoolMemberStatus member = memberStatus();
    PoolStatus s{config_, site_.name(), member.counts, member.recovered, member.last_error, {}};
    s.members.push_back(std::move(member));
    return s;
}

std::vector<std::string> PoolManager::vmNames() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> names;
    for (const auto& [name, e] : vms_) names.push_back(name);
    return names;
}

std::vector<Lease> PoolManager::leases(const std::optional<std::string>& owner) const {
    const bool available = site_.reachable();
    std::lock_guard lock(mutex_);
    std::vector<Lease> out;
    for (const auto& [name, e] : vms_) {
        if (e.state == VmState::Allocated && (!owner || e.lease.owner == *owner)) {
            out.push_back(e.lease);
            out.back().available = available;
        }
    }
    return out;
}

std::optional<Lease> PoolManager::lease(const std::string& id) const {
    const bool available = site_.reachable();
    std::lock_guard lock(mutex_);
    for (const auto& [name, e] : vms_) {
        if (e.state == VmState::Allocated && e.lease.id == id) {
            Lease l = e.lease;
            l.available = available;
            return l;
        }
    }
    return std::nullopt;
}

Error ownerCapReached(const PoolConfig& pool, const std::string& owner, size_t held) {
    return makeError(ErrorCode::Conflict, "owner '" + owner + "' already holds " + std::to_string(held) +
                                              " lease(s) in pool " + pool.name + " (max_per_owner " +
                                              std::to_string(pool.max_per_owner) + ")");
}

// ---- the API -------------------------------------------------------------------------------

Result<Allocation> PoolManager::allocate(const AllocateRequest& request) {
    if (auto ok = validateOwner(request.owner, true); !ok) return std::move(ok).error();
    if (auto ok = validateLabel(request.idempotency_key, "Idempotency-Key", kMaxKeyLength, false); !ok)
        return std::move(ok).error();
    if (request.ttl_s && *request.ttl_s == 0) return makeError(ErrorCode::InvalidArgument, "ttl_s must be at least 1");
    const uint64_t ttl = std::min<uint64_t>(request.ttl_s.value_or(config_.default_ttl_s), config_.max_ttl_s);
    const auto started = Clock::now();
    Error lastError = makeError(ErrorCode::Unavailable, "pool " + config_.name + " has no idle VM");

    for (int attempt = 0; attempt < kAllocateAttempts; ++attempt) {
        std::string name;
        Lease lease;
        {
            std::unique_lock lock(mutex_);
            if (!recovered_)
                return makeError(ErrorCode::Unavailable,
                                 "pool " + config_.name + " is still recovering its state from the hypervisor");
            if (!request.idempotency_key.empty()) {
                const auto sameKey = [&](const Entry& e) { return e.lease.idempotency_key == request.idempotency_key; };
                // A retry racing the first attempt waits for its outcome instead of claiming a second VM.
                changed_.wait(lock, [&] {
                    return stopping_ || std::none_of(vms_.begin(), vms_.end(), [&](const auto& kv) {
                               return kv.second.state == VmState::Claimed && sameKey(kv.second);
                           });
                });
                for (const auto& [vm, e] : vms_) {
                    const bool allocated = e.state == VmState::Allocated;
                    const bool cold = e.state == VmState::Filling && !e.cold_operation.empty();
                    if (!(allocated || cold) || !sameKey(e)) continue;
                    if (e.lease.owner != request.owner)
                        return makeError(ErrorCode::Conflict, "Idempotency-Key '" + request.idempotency_key +
                                                                  "' was already used by another owner");
                    Allocation replay;
                    replay.replayed = true;
                    if (allocated) {
                        replay.lease = e.lease;
                    } else if (auto op = operations_.get(e.cold_operation); op) {
                        replay.operation = op.value();
                    }
                    if (replay.lease || replay.operation) return replay;
                }
            }
            if (config_.max_per_owner != 0 && request.enforce_owner_cap) {
                const size_t held = heldByLocked(request.owner);
                if (held >= config_.max_per_owner) return ownerCapReached(config_, request.owner, held);
            }
            const auto now = std::chrono::system_clock::now();
            lease.id = randomId("lease-", 24);
            lease.pool = config_.name;
            lease.site = site_.name();
            lease.owner = request.owner;
            lease.idempotency_key = request.idempotency_key;
            lease.created_at = now;
            lease.expires = request.expires;
            lease.expires_at = now + std::chrono::seconds(ttl);

            const auto idle =
                std::find_if(vms_.begin(), vms_.end(), [](const auto& kv) { return kv.second.state == VmState::Idle; });
            if (idle == vms_.end()) {
                metrics_.countMiss(site_.name(), config_.name);
                const PoolCounts c = countsLocked();
                if (request.allow_cold && config_.on_empty == EmptyPoolPolicy::Cold && c.total < targetMaxTotal_ &&
                    !stopping_) {
                    name = newVmName();
                    lease.vm = name;
                    // On disk before the 202: the id answers after a restart too.
                    auto begun = operations_.begin(
                        OperationSpec{kOperationPoolAllocate, site_.name(), config_.name, request.owner, name, false});
                    if (!begun) return std::move(begun).error();
                    const Operation& op = begun.value();
                    crashPoint("pool.cold.after_register");
                    Entry e;
                    e.lease = lease;
                    e.cold_operation = op.id;
                    vms_[name] = e;
                    tasks_.push_front([this, name, id = op.id] { coldAllocate(name, id); });
                    tasksReady_.notify_all();
                    Allocation cold;
                    cold.operation = op;
                    return cold;
                }
                return makeError(ErrorCode::Unavailable, "pool " + config_.name + " has no idle VM (" +
                                                             std::to_string(c.allocated) + " allocated, " +
                                                             std::to_string(c.booting) + " booting, max_total " +
                                                             std::to_string(targetMaxTotal_) + "); retry later");
            }
            name = idle->first;
            lease.vm = name;
            idle->second.state = VmState::Claimed;
            idle->second.lease = lease;
            idle->second.changed = Clock::now();
        }
        crashPoint("pool.allocate.after_claim");

        // Outside the lock: the VM is ours alone now.
        Status ready;
        if (config_.mode == PoolMode::Shutoff) {
            ready = vmService_.start(name, request.actor);
            if (!ready && ready.error().code == ErrorCode::Conflict) ready = {};  // already running
        } else if (config_.mode != PoolMode::Running) {
            ready = wakeVm(name, request.actor);
        }
        if (ready) crashPoint("pool.allocate.after_start");
        if (ready) ready = waitReady(name);
        if (ready) ready = recordLease(name, lease);
        if (ready) crashPoint("pool.allocate.after_lease");
        audit(request.actor, name, "pool_allocate", ready);
        {
            std::lock_guard lock(mutex_);
            auto& e = vms_.at(name);
            e.state = ready ? VmState::Allocated : VmState::Doomed;
            e.lease = lease;
            if (!ready) e.lease.idempotency_key.clear();
            e.changed = Clock::now();
        }
        changed_.notify_all();
        publishCounts();
        wake();  // the refill behind the claim (scheduleRefills waited for it)
        if (ready) {
            metrics_.countAllocation(site_.name(), config_.name);
            metrics_.observeAllocate(config_.name, std::chrono::duration<double>(Clock::now() - started).count());
            Allocation done;
            done.lease = lease;
            return done;
        }
        lastError = ready.error();
        if (lastError.code == ErrorCode::Timeout) break;  // another VM would take as long again
    }
    return lastError;
}

Result<Lease> PoolManager::extend(const std::string& id, uint64_t ttlSeconds, const std::string& actor) {
    if (ttlSeconds == 0) return makeError(ErrorCode::InvalidArgument, "ttl_s must be at least 1");
    std::string name;
    Lease lease;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [vm, e] : vms_) {
            if (e.state == VmState::Allocated && e.lease.id == id) {
                name = vm;
                lease = e.lease;
            }
        }
    }
    if (name.empty()) return makeError(ErrorCode::NotFound, "unknown lease '" + id + "' in pool " + config_.name);
    if (!lease.expires)
        return makeError(ErrorCode::Conflict, "lease '" + id + "' never expires: there is nothing to extend");
    const auto wanted = std::chrono::system_clock::now() + std::chrono::seconds(ttlSeconds);
    lease.expires_at = std::min(wanted, lease.created_at + std::chrono::seconds(config_.max_ttl_s));
    Status written = site_.updateMetadata(name, {{meta::kLeaseExpiresAt, isoTime(lease.expires_at)}});
    audit(actor, name, "pool_extend", written);
    if (!written) return std::move(written).error();
    std::lock_guard lock(mutex_);
    auto it = vms_.find(name);
    if (it == vms_.end() || it->second.state != VmState::Allocated || it->second.lease.id != id)
        return makeError(ErrorCode::NotFound, "lease '" + id + "' ended while it was being extended");
    it->second.lease.expires_at = lease.expires_at;
    return it->second.lease;
}

Status PoolManager::release(const std::string& id, const std::string& actor) {
    std::string name;
    {
        std::lock_guard lock(mutex_);
        for (auto& [vm, e] : vms_) {
            if (e.state == VmState::Allocated && e.lease.id == id) {
                e.state = VmState::Removing;
                e.changed = Clock::now();
                name = vm;
                break;
            }
        }
    }
    if (name.empty()) return makeError(ErrorCode::NotFound, "unknown lease '" + id + "' in pool " + config_.name);
    // Should paddockd die during the removal, the restart destroys this VM instead of reviving the lease.
    (void)site_.updateMetadata(name, {{meta::kPoolState, kReleasing}});
    crashPoint("pool.release.after_mark");
    metrics_.countRelease(site_.name(), config_.name);
    removeVm(name, "pool_release", actor);
    return {};
}

}  // namespace paddock
