#include "paddock/core/watch_service.hpp"

#include "paddock/core/ip_network.hpp"
#include "paddock/core/json_writer.hpp"
#include "paddock/core/names.hpp"
#include "paddock/core/vm_metadata.hpp"
#include "paddock/core/watch_metrics.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>

namespace paddock {

namespace {

using Ms = std::chrono::milliseconds;

// The lifecycle events that may mean a watched VM went down other than through the API; the
// domain's state is checked before anything is done, as events arrive late (a revert's own).
constexpr std::chrono::seconds kReconcileInterval{5};
constexpr Ms kAgentPingTimeout{1000};
constexpr Ms kAgentPingInterval{1000};
constexpr std::chrono::seconds kAddressTtl{30};
constexpr Ms kMinPause{10000};  // paused this long (and past the heartbeat timeout): gone

std::string clip(std::string text) {
    if (text.size() > WatchService::kMaxLabelBytes) text.resize(WatchService::kMaxLabelBytes);
    return text;
}

int64_t unixMillis(SystemTime t) {
    return std::chrono::duration_cast<Ms>(t.time_since_epoch()).count();
}

bool isLoopback(std::string_view peer) {
    static const IpNetwork v4 = IpNetwork::parse("127.0.0.0/8").value();
    static const IpNetwork v6 = IpNetwork::parse("::1").value();
    return v4.contains(peer) || v6.contains(peer);
}

std::string keyOf(const std::string& site, const std::string& vm) { return site + '/' + vm; }

double msToSeconds(uint32_t ms) { return static_cast<double>(ms) / 1000.0; }

// Seconds (a JSON number) as whole milliseconds within [min, max].
bool readSeconds(const rapidjson::Value& object, const char* key, uint32_t& out, uint32_t min, uint32_t max) {
    const auto it = object.FindMember(key);
    if (it == object.MemberEnd()) return true;
    if (!it->value.IsNumber()) return false;
    const double ms = std::round(it->value.GetDouble() * 1000.0);
    if (!(ms >= min && ms <= max)) return false;
    out = static_cast<uint32_t>(ms);
    return true;
}

}  // namespace

WatchSettings watchSettings(const WatchPolicy& p) {
    WatchSettings s;
    s.snapshot = p.snapshot;
    s.heartbeat_timeout = Ms(p.heartbeat_timeout_ms);
    s.startup_grace = Ms(p.startup_grace_ms);
    s.startup_max_wait = Ms(p.startup_max_wait_ms);
    s.probe = p.probe;
    s.auto_revert = p.auto_revert;
    s.revert_on_start = p.revert_on_start;
    return s;
}

std::string watchPolicyJson(const WatchPolicy& p) {
    JsonWriter json;
    json.beginObject()
        .field("enabled", true)
        .field("snapshot", p.snapshot)
        .field("heartbeat_timeout_s", msToSeconds(p.heartbeat_timeout_ms))
        .field("check_interval_s", msToSeconds(p.check_interval_ms))
        .field("startup_grace_s", msToSeconds(p.startup_grace_ms))
        .field("startup_max_wait_s", msToSeconds(p.startup_max_wait_ms))
        .field("probe", p.probe)
        .field("auto_revert", p.auto_revert)
        .field("revert_on_start", p.revert_on_start)
        .endObject();
    return json.str();
}

bool watchRecordEnabled(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseStopWhenDoneFlag>(text.c_str(), text.size());
    if (doc.HasParseError() || !doc.IsObject()) return true;  // unreadable: parseWatchPolicy says so
    const auto it = doc.FindMember("enabled");
    return it == doc.MemberEnd() || !it->value.IsBool() || it->value.GetBool();
}

Result<WatchPolicy> parseWatchPolicy(const std::string& text, WatchPolicy p) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseStopWhenDoneFlag>(text.c_str(), text.size());
    const auto bad = [&](const std::string& what) {
        return makeError(ErrorCode::InvalidArgument, "malformed watch settings in the VM's metadata: " + what);
    };
    if (doc.HasParseError() || !doc.IsObject()) return bad("not a JSON object");
    if (const auto it = doc.FindMember("snapshot"); it != doc.MemberEnd()) {
        if (!it->value.IsString() || !validateName(it->value.GetString(), "snapshot name")) return bad("snapshot");
        p.snapshot = it->value.GetString();
    }
    if (!readSeconds(doc, "heartbeat_timeout_s", p.heartbeat_timeout_ms, 1000, 86400000) ||
        !readSeconds(doc, "check_interval_s", p.check_interval_ms, 100, 60000) ||
        !readSeconds(doc, "startup_grace_s", p.startup_grace_ms, 0, 3600000) ||
        !readSeconds(doc, "startup_max_wait_s", p.startup_max_wait_ms, 1000, 86400000))
        return bad("a duration is not a number of seconds in range");
    if (const auto it = doc.FindMember("probe"); it != doc.MemberEnd()) {
        const auto probe = it->value.IsString() ? parseEnum<WatchProbeKind>(it->value.GetString()) : std::nullopt;
        if (!probe) return bad("probe");
        p.probe = *probe;
    }
    for (auto [key, out] : {std::pair{"auto_revert", &p.auto_revert}, std::pair{"revert_on_start", &p.revert_on_start}}) {
        if (const auto it = doc.FindMember(key); it != doc.MemberEnd()) {
            if (!it->value.IsBool()) return bad(key);
            *out = it->value.GetBool();
        }
    }
    return p;
}

// ------------------------------------------------------------------------------------------

struct WatchService::Entry {
    Entry(std::string k, const SiteServices& s, std::string v, WatchPolicy p, std::string src)
        : key(std::move(k)), services(&s), vm(std::move(v)), policy(std::move(p)), source(std::move(src)),
          dog(watchSettings(policy)) {}
    std::string key;
    const SiteServices* services;
    std::string vm;
    WatchPolicy policy;
    std::string source;
    Watchdog dog;
    std::deque<HeartbeatMark> heartbeats;
    std::deque<WatchNote> notes;
    std::optional<SystemTime> lastHeartbeat;  // wall clock, for display: every heartbeat received
    std::string lastStatus;
    std::string lastMessage;
    uint64_t reverts = 0;
    unsigned failuresSeen = 0;
    double tokens = 0;  // heartbeat rate limit
    Watchdog::TimePoint refilled{};
    Watchdog::TimePoint lastCheck{};
    std::optional<Watchdog::TimePoint> pausedSince;
    std::string address;  // the address Paddock knows for the guest, when looked up
    Watchdog::TimePoint addressAt{};
    const std::string& site() const { return services->site->name(); }
};

struct WatchService::Pending {
    enum class Kind { Lifecycle, Readiness };
    Kind kind;
    std::string site;
    std::string vm;
    std::string event;
};

WatchService::WatchService(std::vector<SiteServices> sites, WatchConfig config, ExhibitConfig exhibit,
                           AuditLog& audit, CoreMetrics& metrics, std::shared_ptr<EventHub> events, Now now)
    : sites_(std::move(sites)),
      config_(std::move(config)),
      exhibit_(std::move(exhibit)),
      audit_(audit),
      events_(std::move(events)),
      now_(std::move(now)),
      metrics_(std::make_unique<WatchMetrics>(*metrics.registry())),
      scanned_(sites_.size(), false) {
    for (const auto& source : config_.heartbeat_sources) {
        if (auto network = IpNetwork::parse(source)) sources_.push_back(std::move(network.value()));  // checked with the config
    }
    if (exhibit_.site.empty() && !sites_.empty() && !exhibit_.vm.empty()) exhibit_.site = sites_.front().site->name();
    for (auto& s : sites_) {
        const std::string site = s.site->name();
        s.vms->setPowerObserver([this, site](const std::string& vm, PowerChange change, const std::string& actor) {
            onPowerChange(site, vm, change, actor);
        });
    }
}

WatchService::~WatchService() {
    stop();
    for (auto& s : sites_) s.vms->setPowerObserver({});
}

void WatchService::start() {
    {
        std::lock_guard lock(mutex_);
        if (started_) return;
        started_ = true;
    }
    for (size_t i = 0; i < sites_.size(); ++i) scanSite(i);
    subscription_ = events_->subscribe([this](const VmEvent& e) { onEvent(e); });
    thread_ = std::thread([this] { run(); });
}

void WatchService::stop() {
    subscription_.reset();
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::vector<Worker> workers;
    {
        std::lock_guard lock(mutex_);
        workers = std::move(workers_);
        workers_.clear();
    }
    for (auto& w : workers) w.thread.join();
}

Result<const WatchService::SiteServices*> WatchService::services(const std::string& site) const {
    for (const auto& s : sites_)
        if (site.empty() || s.site->name() == site) return &s;
    return makeError(ErrorCode::NotFound, "no site named '" + site + "'");
}

WatchService::Entry* WatchService::find(const std::string& site, const std::string& vm) {
    const auto it = entries_.find(keyOf(site, vm));
    return it == entries_.end() ? nullptr : it->second.get();
}

std::optional<std::pair<WatchPolicy, std::string>> WatchService::policyOf(const SiteServices& s, const std::string& vm,
                                                                          const Metadata& metadata) {
    if (!isManaged(metadata) || !metaValue(metadata, meta::kPool).empty()) return std::nullopt;
    const TemplateConfig* tpl = nullptr;
    if (const std::string name = metaValue(metadata, meta::kTemplate); !name.empty())
        tpl = findTemplate(s.site->config(), name);
    const WatchPolicy base = tpl != nullptr && tpl->watch ? *tpl->watch : WatchPolicy{};
    if (const std::string own = metaValue(metadata, meta::kWatch); !own.empty()) {
        if (!watchRecordEnabled(own)) return std::nullopt;
        if (auto parsed = parseWatchPolicy(own, base)) return std::pair{std::move(parsed.value()), std::string("api")};
        // A record we cannot read: watch with the template's settings rather than not at all.
    }
    if (tpl != nullptr && tpl->watch) return std::pair{*tpl->watch, std::string("template")};
    if (vm == exhibit_.vm && s.site->name() == exhibit_.site) return std::pair{base, std::string("exhibit")};
    return std::nullopt;
}

WatchService::Entry& WatchService::add(const SiteServices& s, const std::string& vm, WatchPolicy policy,
                                       std::string source) {
    const std::string key = keyOf(s.site->name(), vm);
    auto entry = std::make_unique<Entry>(key, s, vm, std::move(policy), std::move(source));
    entry->tokens = config_.heartbeat_rate_per_s;
    entry->refilled = now_();
    Entry& e = *entry;
    entries_[key] = std::move(entry);
    return e;
}

void WatchService::removeEntry(const std::string& key) {
    const auto it = entries_.find(key);
    if (it == entries_.end()) return;
    metrics_->forget(it->second->site(), it->second->vm);
    entries_.erase(it);
}

void WatchService::scanSite(size_t index) {
    const SiteServices& s = sites_[index];
    auto domains = s.site->domains();
    if (!domains) return;  // not connected yet: the thread tries again
    std::lock_guard lock(mutex_);
    if (scanned_[index]) return;
    scanned_[index] = true;
    const auto now = now_();
    for (const auto& d : domains.value()) {
        if (find(s.site->name(), d.name) != nullptr) continue;
        auto policy = policyOf(s, d.name, d.metadata);
        if (!policy) continue;
        Entry& e = add(s, d.name, std::move(policy->first), std::move(policy->second));
        const WatchedVm found = metaValue(d.metadata, meta::kWatchStopped) == "api" ? WatchedVm::StoppedByApi
                                : domainIsActive(d.state)                           ? WatchedVm::Running
                                                                                    : WatchedVm::Down;
        note(e, "watch_on", "watching begins (" + e.source + " settings, snapshot '" + e.policy.snapshot + "')",
             kWatchdogActor);
        apply(e, e.dog.begin(now, found));
    }
}

// ---- decisions ---------------------------------------------------------------------------

void WatchService::note(Entry& entry, std::string_view action, const std::string& reason, const std::string& actor,
                        const std::string& error) {
    const SystemTime at = std::chrono::system_clock::now();
    entry.notes.push_back({at, std::string(action), reason});
    while (entry.notes.size() > kDecisionHistory) entry.notes.pop_front();
    AuditRecord record;
    record.actor = actor;
    record.site = entry.site();
    record.vm = entry.vm;
    record.action = action.rfind("watch_", 0) == 0 ? std::string(action) : "watch_" + std::string(action);
    record.result = error.empty() ? "ok" : "error";
    record.error = error;
    record.target = entry.policy.snapshot;
    record.detail = reason;
    audit_.write(record);
    VmEvent event;
    event.site = entry.site();
    event.vm = entry.vm;
    event.kind = "watch";
    event.event = std::string(action);
    event.time_ms = unixMillis(at);
    event.detail = reason + " [" + std::string(watchStateName(entry.dog.state())) + "]";
    events_->publish(std::move(event));
}

void WatchService::apply(Entry& entry, WatchDecision decision, std::string_view action) {
    if (!decision.reason.empty()) note(entry, decision.revert ? "revert" : action, decision.reason, kWatchdogActor);
    if (entry.dog.failures() > entry.failuresSeen) metrics_->countFailedRecovery(entry.site(), entry.vm);
    entry.failuresSeen = entry.dog.failures();
    if (decision.revert) launchRevert(entry, decision.cause);
    metrics_->setState(entry.site(), entry.vm, entry.dog.state());
}

void WatchService::launchRevert(Entry& entry, std::string_view cause) {
    ++entry.reverts;
    metrics_->countRevert(entry.site(), entry.vm, cause.empty() ? "other" : cause);
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::thread thread([this, done, key = entry.key, site = entry.site(), vm = entry.vm,
                        snapshot = entry.policy.snapshot] {
        revertWorker(key, site, vm, snapshot);
        done->store(true);
    });
    workers_.push_back({std::move(thread), std::move(done)});
}

void WatchService::joinFinishedWorkers() {
    // A worker marks itself done as its last step, holding no lock: joining it here is immediate.
    for (auto it = workers_.begin(); it != workers_.end();) {
        if (it->done->load()) {
            it->thread.join();
            it = workers_.erase(it);
        } else {
            ++it;
        }
    }
}

void WatchService::revertWorker(std::string key, std::string site, std::string vm, std::string snapshot) {
    auto s = services(site);
    if (!s) return;
    auto reverted = s.value()->vms->revertSnapshot(vm, snapshot, true, kWatchdogActor);
    bool probeWithAgent = false;
    {
        std::lock_guard lock(mutex_);
        const auto it = entries_.find(key);
        if (it == entries_.end()) return;
        Entry& e = *it->second;
        apply(e, e.dog.revertDone(now_(), reverted.ok(), reverted ? std::string() : reverted.error().message),
              reverted.ok() ? "recovered" : "revert_failed");
        probeWithAgent = reverted.ok() && e.policy.probe == WatchProbeKind::Agent &&
                         e.dog.state() == WatchState::WaitingProbe;
    }
    if (probeWithAgent) probeAgent(key, *s.value(), vm);
}

void WatchService::probeAgent(const std::string& key, const SiteServices& s, const std::string& vm) {
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            const auto it = entries_.find(key);
            if (stopping_ || it == entries_.end() || it->second->dog.state() != WatchState::WaitingProbe) return;
        }
        auto conn = s.site->connection();
        Status answered = conn ? conn.value()->guestPing(vm, kAgentPingTimeout) : Status(std::move(conn).error());
        std::unique_lock lock(mutex_);
        const auto it = entries_.find(key);
        if (it == entries_.end()) return;
        if (answered) {
            apply(*it->second, it->second->dog.probeAnswered(now_()));
            return;
        }
        if (answered.error().code == ErrorCode::Unsupported) {
            // Nothing to wait for: startup_max_wait re-arms the watchdog all the same.
            note(*it->second, "note", "the guest agent probe is not available: " + answered.error().message,
                 kWatchdogActor);
            return;
        }
        if (wake_.wait_for(lock, kAgentPingInterval, [&] { return stopping_; })) return;
    }
}

// ---- the thread --------------------------------------------------------------------------

void WatchService::onEvent(const VmEvent& event) {
    // On the hub's publishing thread: only enqueue.
    Pending p;
    if (event.kind == "lifecycle") {
        p.kind = Pending::Kind::Lifecycle;
    } else if (event.kind == "readiness" && event.readiness == "ready") {
        p.kind = Pending::Kind::Readiness;
    } else {
        return;
    }
    p.site = event.site;
    p.vm = event.vm;
    p.event = event.event;
    {
        // Not mutex_: decisions are published while it is held, and the hub publishes one event
        // at a time, so taking it here (on a publishing thread) could deadlock.
        std::lock_guard lock(pendingMutex_);
        pending_.push_back(std::move(p));
        hasPending_ = true;
    }
    wake_.notify_all();
}

void WatchService::checkDown(const std::string& key, const std::string& what) {
    std::string site;
    std::string vm;
    {
        std::lock_guard lock(mutex_);
        const auto it = entries_.find(key);
        if (it == entries_.end()) return;
        site = it->second->site();
        vm = it->second->vm;
    }
    auto s = services(site);
    if (!s) return;
    auto conn = s.value()->site->connection();
    if (!conn) return;
    auto info = conn.value()->getDomain(vm);
    if (!info) {
        if (info.error().code == ErrorCode::NotFound) {
            std::lock_guard lock(mutex_);
            removeEntry(key);
        }
        return;
    }
    if (domainIsActive(info->state)) return;  // a late event: it runs again (a revert's own stop)
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(key);
    if (it == entries_.end()) return;
    apply(*it->second, it->second->dog.vmDown(now_(), what));
}

void WatchService::reconcile() {
    for (const auto& s : sites_) {
        auto domains = s.site->domains();
        if (!domains) continue;
        std::vector<std::pair<std::string, std::string>> down;
        {
            std::lock_guard lock(mutex_);
            const auto now = now_();
            for (const auto& d : domains.value()) {
                Entry* e = find(s.site->name(), d.name);
                if (e == nullptr) continue;
                const WatchState state = e->dog.state();
                const bool armed = state == WatchState::Healthy || state == WatchState::WaitingFirstHeartbeat;
                if (!armed) {
                    e->pausedSince.reset();
                    continue;
                }
                if (d.state == DomainState::Paused) {
                    if (!e->pausedSince) e->pausedSince = now;
                    const Ms limit = std::max(kMinPause, Ms(e->policy.heartbeat_timeout_ms));
                    if (now - *e->pausedSince > limit) {
                        e->pausedSince.reset();
                        apply(*e, e->dog.vmDown(now, "stayed paused (an I/O error?)"));
                    }
                    continue;
                }
                e->pausedSince.reset();
                if (!domainIsActive(d.state)) down.emplace_back(e->key, "is " + std::string(domainStateName(d.state)));
            }
        }
        for (const auto& [key, what] : down) checkDown(key, what);
    }
}

void WatchService::run() {
    // The cadence of the checks that need the hypervisor is real time, whatever clock decides.
    auto lastReconcile = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        Ms interval{1000};
        for (const auto& [key, e] : entries_) interval = std::min(interval, Ms(e->policy.check_interval_ms));
        wake_.wait_for(lock, interval, [&] { return stopping_ || hasPending_.load(); });
        if (stopping_) break;
        lock.unlock();
        std::deque<Pending> work;
        {
            std::lock_guard pendingLock(pendingMutex_);
            work.swap(pending_);
            hasPending_ = false;
        }

        for (const auto& p : work) {
            const std::string key = keyOf(p.site, p.vm);
            if (p.kind == Pending::Kind::Readiness) {
                std::lock_guard guard(mutex_);
                if (Entry* e = find(p.site, p.vm); e != nullptr && e->policy.probe == WatchProbeKind::Ssh)
                    apply(*e, e->dog.probeAnswered(now_()));
            } else if (p.event == "stopped" || p.event == "crashed") {
                checkDown(key, p.event == "crashed" ? "crashed" : "shut off");
            } else if (p.event == "undefined") {
                std::lock_guard guard(mutex_);
                removeEntry(key);
            } else if (p.event == "suspended" || p.event == "resumed" || p.event == "started") {
                std::lock_guard guard(mutex_);
                if (Entry* e = find(p.site, p.vm); e != nullptr && p.event != "suspended") e->pausedSince.reset();
            }
            if (p.event == "defined" || p.event == "started") {
                // A VM made after start() from a watched template (or the exhibit VM made late).
                bool known = false;
                {
                    std::lock_guard guard(mutex_);
                    known = find(p.site, p.vm) != nullptr;
                }
                auto s = services(p.site);
                if (known || !s) continue;
                const auto& templates = s.value()->site->config().templates;
                const bool mayWatch = std::any_of(templates.begin(), templates.end(),
                                                  [](const TemplateConfig& t) { return t.watch.has_value(); }) ||
                                      (p.vm == exhibit_.vm && p.site == exhibit_.site);
                if (!mayWatch) continue;
                auto metadata = s.value()->site->metadata(p.vm);
                if (!metadata) continue;
                auto conn = s.value()->site->connection();
                if (!conn) continue;
                auto info = conn.value()->getDomain(p.vm);
                if (!info) continue;
                std::lock_guard guard(mutex_);
                if (find(p.site, p.vm) != nullptr) continue;
                if (auto policy = policyOf(*s.value(), p.vm, metadata.value())) {
                    Entry& e = add(*s.value(), p.vm, std::move(policy->first), std::move(policy->second));
                    note(e, "watch_on", "watching a new VM (" + e.source + " settings)", kWatchdogActor);
                    // As found now: the start that follows a define reaches us as a PowerChange.
                    apply(e, domainIsActive(info->state) ? e.dog.startedByApi(now_()) : e.dog.stoppedByApi(now_()));
                }
            }
        }
        for (size_t i = 0; i < sites_.size(); ++i) {
            bool scanned = false;
            {
                std::lock_guard guard(mutex_);
                scanned = scanned_[i];
            }
            if (!scanned) scanSite(i);
        }
        if (std::chrono::steady_clock::now() - lastReconcile >= kReconcileInterval) {
            lastReconcile = std::chrono::steady_clock::now();
            reconcile();
        }

        lock.lock();
        joinFinishedWorkers();
        const auto now = now_();
        const SystemTime wall = std::chrono::system_clock::now();
        for (auto& [key, e] : entries_) {
            if (now - e->lastCheck >= Ms(e->policy.check_interval_ms)) {
                e->lastCheck = now;
                apply(*e, e->dog.tick(now));
            }
            metrics_->setSinceHeartbeat(
                e->site(), e->vm,
                e->dog.lastHeartbeat() && e->lastHeartbeat
                    ? std::chrono::duration<double>(wall - *e->lastHeartbeat).count()
                    : -1.0);
        }
    }
}

// ---- API ---------------------------------------------------------------------------------

void WatchService::onPowerChange(const std::string& site, const std::string& vm, PowerChange change,
                                 const std::string& actor) {
    if (actor == kWatchdogActor) return;
    std::lock_guard lock(mutex_);
    Entry* e = find(site, vm);
    if (e == nullptr) return;
    const auto now = now_();
    switch (change) {
        case PowerChange::Stopping:
            if (e->dog.state() == WatchState::Stopped) return;
            apply(*e, e->dog.stoppedByApi(now), "stopped");
            persist(*e->services, vm, {{meta::kWatchStopped, "api"}});
            break;
        case PowerChange::Running: {
            const bool wasStopped = e->dog.state() == WatchState::Stopped;
            apply(*e, e->dog.startedByApi(now), "started");
            if (wasStopped) persist(*e->services, vm, {{meta::kWatchStopped, ""}});
            break;
        }
        case PowerChange::Removed: removeEntry(e->key); break;
    }
}

void WatchService::persist(const SiteServices& s, const std::string& vm, Metadata changes) {
    // Called with the VM's lock held (by the operation that notified us): write it later, on a
    // thread of its own, once that lock is free.
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::thread thread([site = s.site, vm, changes = std::move(changes), done] {
        (void)site->updateMetadata(vm, changes);
        done->store(true);
    });
    workers_.push_back({std::move(thread), std::move(done)});
}

WatchView WatchService::viewOf(const Entry& e) const {
    WatchView v;
    v.site = e.site();
    v.vm = e.vm;
    v.watched = true;
    v.source = e.source;
    v.policy = e.policy;
    v.state = e.dog.state();
    v.last_heartbeat = e.lastHeartbeat;
    if (e.lastHeartbeat)
        v.seconds_since_last = std::chrono::duration<double>(std::chrono::system_clock::now() - *e.lastHeartbeat).count();
    v.healthy = (v.state == WatchState::Healthy || v.state == WatchState::Grace) && v.seconds_since_last &&
                *v.seconds_since_last <= msToSeconds(e.policy.heartbeat_timeout_ms);
    v.last_status = e.lastStatus;
    v.last_message = e.lastMessage;
    v.failures = e.dog.failures();
    v.reverts = e.reverts;
    if (const auto at = e.dog.requestedRevertAt())
        v.revert_in_s = std::max(0.0, std::chrono::duration<double>(*at - now_()).count());
    v.heartbeats.assign(e.heartbeats.begin(), e.heartbeats.end());
    v.decisions.assign(e.notes.begin(), e.notes.end());
    return v;
}

Result<WatchView> WatchService::view(const std::string& site, const std::string& vm) {
    auto s = services(site);
    if (!s) return std::move(s).error();
    {
        std::lock_guard lock(mutex_);
        if (Entry* e = find(s.value()->site->name(), vm)) return viewOf(*e);
    }
    auto found = s.value()->vms->get(vm);
    if (!found) return std::move(found).error();
    WatchView v;
    v.site = s.value()->site->name();
    v.vm = vm;
    return v;
}

Result<WatchView> WatchService::watch(const std::string& site, const std::string& vm, const WatchPatch& patch,
                                      const std::string& actor) {
    auto s = services(site);
    if (!s) return std::move(s).error();
    const SiteServices& services = *s.value();
    auto found = services.vms->get(vm);
    if (!found) return std::move(found).error();
    auto metadata = services.site->metadata(vm);
    if (!metadata) return std::move(metadata).error();
    if (!metaValue(metadata.value(), meta::kPool).empty())
        return makeError(ErrorCode::Conflict, "VM '" + vm + "' belongs to a pool: pool VMs are not watched");
    WatchPolicy policy;
    {
        std::lock_guard lock(mutex_);
        if (Entry* e = find(services.site->name(), vm))
            policy = e->policy;
        else if (auto current = policyOf(services, vm, metadata.value()))
            policy = current->first;
        else if (const TemplateConfig* tpl = services.vms->templateOf(found->domain); tpl != nullptr && tpl->watch)
            policy = *tpl->watch;
    }
    if (patch.snapshot) policy.snapshot = *patch.snapshot;
    if (patch.heartbeat_timeout_ms) policy.heartbeat_timeout_ms = *patch.heartbeat_timeout_ms;
    if (patch.check_interval_ms) policy.check_interval_ms = *patch.check_interval_ms;
    if (patch.startup_grace_ms) policy.startup_grace_ms = *patch.startup_grace_ms;
    if (patch.startup_max_wait_ms) policy.startup_max_wait_ms = *patch.startup_max_wait_ms;
    if (patch.probe) policy.probe = *patch.probe;
    if (patch.auto_revert) policy.auto_revert = *patch.auto_revert;
    if (patch.revert_on_start) policy.revert_on_start = *patch.revert_on_start;
    if (auto valid = validateName(policy.snapshot, "snapshot name"); !valid) return std::move(valid).error();
    // Watching without the snapshot to go back to would only fail at the first revert.
    auto snapshots = services.vms->snapshots(vm);
    if (!snapshots) return std::move(snapshots).error();
    if (std::none_of(snapshots->begin(), snapshots->end(),
                     [&](const SnapshotInfo& i) { return i.name == policy.snapshot; }))
        return makeError(ErrorCode::Conflict, "VM '" + vm + "' has no snapshot '" + policy.snapshot +
                                                  "' to revert to: take it first (POST /api/v1/vms/" + vm +
                                                  "/snapshots)");
    if (auto saved = services.site->updateMetadata(vm, {{meta::kWatch, watchPolicyJson(policy)}}); !saved)
        return std::move(saved).error();
    std::lock_guard lock(mutex_);
    const auto now = now_();
    if (Entry* e = find(services.site->name(), vm)) {
        e->policy = policy;
        e->source = "api";
        note(*e, "settings", "watch settings changed by " + actor, actor);
        apply(*e, e->dog.reconfigure(now, watchSettings(policy)), "maintenance");
        return viewOf(*e);
    }
    Entry& e = add(services, vm, policy, "api");
    note(e, "watch_on", "watching switched on by " + actor + " (snapshot '" + policy.snapshot + "')", actor);
    // Not the boot-time revert_on_start: a running VM is watched as it is, one that is off stays
    // off until started through the API.
    apply(e, domainIsActive(found->domain.state) ? e.dog.startedByApi(now) : e.dog.stoppedByApi(now));
    return viewOf(e);
}

Result<WatchView> WatchService::unwatch(const std::string& site, const std::string& vm, const std::string& actor) {
    auto s = services(site);
    if (!s) return std::move(s).error();
    const SiteServices& services = *s.value();
    auto found = services.vms->get(vm);
    if (!found) return std::move(found).error();
    if (auto saved = services.site->updateMetadata(vm, {{meta::kWatch, "{\"enabled\":false}"}, {meta::kWatchStopped, ""}});
        !saved)
        return std::move(saved).error();
    std::lock_guard lock(mutex_);
    if (Entry* e = find(services.site->name(), vm)) {
        note(*e, "watch_off", "watching switched off by " + actor, actor);
        removeEntry(e->key);
    }
    WatchView v;
    v.site = services.site->name();
    v.vm = vm;
    return v;
}

Result<HeartbeatReceipt> WatchService::heartbeat(const std::string& site, const std::string& vm,
                                                 const std::string& status, const std::string& message) {
    auto s = services(site);
    if (!s) return std::move(s).error();
    {
        std::lock_guard lock(mutex_);
        if (Entry* e = find(s.value()->site->name(), vm)) {
            const auto now = now_();
            const double rate = config_.heartbeat_rate_per_s;
            e->tokens = std::min(rate, e->tokens + std::chrono::duration<double>(now - e->refilled).count() * rate);
            e->refilled = now;
            if (e->tokens < 1.0)
                return makeError(ErrorCode::TooManyRequests,
                                 "more than " + std::to_string(config_.heartbeat_rate_per_s) +
                                     " heartbeats a second for VM '" + vm + "' (watch.heartbeat_rate_per_s)");
            e->tokens -= 1.0;
            HeartbeatReceipt receipt;
            receipt.at = std::chrono::system_clock::now();
            if (e->lastHeartbeat)
                receipt.seconds_since_previous = std::chrono::duration<double>(receipt.at - *e->lastHeartbeat).count();
            e->lastHeartbeat = receipt.at;
            e->lastStatus = clip(status);
            e->lastMessage = clip(message);
            e->heartbeats.push_back({receipt.at, e->lastStatus});
            while (e->heartbeats.size() > kHeartbeatHistory) e->heartbeats.pop_front();
            metrics_->countHeartbeat(e->site(), vm);
            apply(*e, e->dog.heartbeat(now));
            receipt.state = e->dog.state();
            return receipt;
        }
    }
    auto found = s.value()->vms->get(vm);
    if (!found) return std::move(found).error();
    return makeError(ErrorCode::Conflict,
                     "VM '" + vm + "' is not watched: switch watching on first (POST /api/v1/vms/" + vm + "/watch)");
}

Result<std::chrono::seconds> WatchService::requestRevert(const std::string& site, const std::string& vm,
                                                         const std::string& reason, const std::string& severity,
                                                         std::chrono::seconds delay, const std::string& actor) {
    auto s = services(site);
    if (!s) return std::move(s).error();
    const bool idle = severity == "idle";
    std::lock_guard lock(mutex_);
    Entry* e = find(s.value()->site->name(), vm);
    if (e == nullptr) {
        return makeError(ErrorCode::Conflict,
                         "VM '" + vm + "' is not watched (or does not exist): nothing would act on a revert request");
    }
    const std::string why = clip(reason.empty() ? std::string(idle ? "idle" : "no reason given") : reason) +
                            (severity.empty() || idle ? "" : " (severity " + clip(severity) + ")");
    WatchDecision decision;
    const auto in = e->dog.requestRevert(now_(), delay, why, decision, idle ? "idle_reset" : "guest_request");
    if (!decision.reason.empty())
        note(*e, decision.revert ? "revert" : (idle ? "idle_reset" : "revert_request"), decision.reason, actor);
    if (decision.revert) {
        decision.reason.clear();  // noted above
        apply(*e, std::move(decision));
    }
    if (!in) return makeError(ErrorCode::Conflict, decision.reason.empty() ? "revert request refused" : decision.reason);
    return *in;
}

Result<std::chrono::seconds> WatchService::idleReset(const std::string& site, const std::string& vm,
                                                     double idleSeconds, const std::string& actor) {
    char text[64];
    std::snprintf(text, sizeof text, "idle for %.0f s", idleSeconds);
    return requestRevert(site, vm, text, "idle", std::chrono::seconds(0), actor);
}

Result<WatchView> WatchService::setAutoRevert(const std::string& site, const std::string& vm, bool on,
                                              const std::string& actor) {
    WatchPatch patch;
    patch.auto_revert = on;
    {
        auto s = services(site);
        if (!s) return std::move(s).error();
        std::lock_guard lock(mutex_);
        if (find(s.value()->site->name(), vm) == nullptr)
            return makeError(ErrorCode::Conflict, "VM '" + vm + "' is not watched");
    }
    return watch(site, vm, patch, actor);
}

bool WatchService::guestSource(std::string_view peer) const {
    if (std::any_of(sources_.begin(), sources_.end(), [&](const IpNetwork& n) { return n.contains(peer); }))
        return true;
    std::lock_guard lock(mutex_);
    return std::any_of(entries_.begin(), entries_.end(),
                       [&](const auto& kv) { return !kv.second->address.empty() && kv.second->address == peer; });
}

Status WatchService::guestMayAct(const std::string& site, const std::string& vm, std::string_view peer) {
    auto s = services(site);
    if (!s) return std::move(s).error();
    const SiteServices& services = *s.value();
    switch (services.site->config().network_mode) {
        case NetworkMode::User:
            // QEMU's user-mode stack connects to the host from its loopback for every guest.
            if (isLoopback(peer)) return {};
            break;
        case NetworkMode::Network: {
            const std::string key = keyOf(services.site->name(), vm);
            {
                std::lock_guard lock(mutex_);
                const auto it = entries_.find(key);
                if (it != entries_.end() && !it->second->address.empty() && now_() - it->second->addressAt < kAddressTtl)
                    return it->second->address == peer ? Status{}
                                                       : makeError(ErrorCode::Forbidden,
                                                                   "this address is not VM '" + vm + "''s");
            }
            auto endpoint = services.site->sshEndpoint(vm);
            if (endpoint) {
                std::lock_guard lock(mutex_);
                const auto it = entries_.find(key);
                if (it != entries_.end()) {
                    it->second->address = endpoint->host;
                    it->second->addressAt = now_();
                }
                if (endpoint->host == peer) return {};
            }
            break;
        }
        case NetworkMode::None: break;
    }
    return makeError(ErrorCode::Forbidden, "a request without a token may speak only for the VM at its own address, "
                                           "and " + std::string(peer.substr(0, 64)) + " is not one Paddock knows for VM '" +
                                               vm + "': send a token");
}

}  // namespace paddock
