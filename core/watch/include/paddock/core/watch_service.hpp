// Watching VMs: one Watchdog (watchdog.hpp) per watched VM on any site, driven by guest
// heartbeats, the guest agent or SSH, and the hypervisor's lifecycle events, and executing the
// reverts it decides on (VmService::revertSnapshot, then start). What is watched:
//  - every VM of a template with `watch:` (config.hpp WatchPolicy), and the exhibit VM;
//  - a VM switched on or off at run time (watch()/unwatch(), kept in its metadata as meta::kWatch,
//    so a restarted paddockd watches the same VMs with the same settings).
// A VM stopped through the API is left alone until started through it (the service is the
// VmService's PowerObserver), also across restarts (meta::kWatchStopped).
// Every decision with a reason goes to the audit log (actor "watchdog"), the event hub (kind
// "watch") and the VM's recent decisions; metrics in WatchMetrics.
//
// Threading: thread-safe. One thread ticks every watchdog and handles lifecycle events and
// metadata writes; each revert (and the agent probe after it) runs on a thread of its own, so
// one VM's slow recovery never delays another's checks. The Sites, VmServices, AuditLog,
// CoreMetrics and EventHub must outlive the service; stop() (or the destructor) joins every
// thread and must run before they go.
#pragma once

#include "paddock/core/audit_log.hpp"
#include "paddock/core/config.hpp"
#include "paddock/core/events.hpp"
#include "paddock/core/ip_network.hpp"
#include "paddock/core/iso_time.hpp"
#include "paddock/core/metrics.hpp"
#include "paddock/core/result.hpp"
#include "paddock/core/site.hpp"
#include "paddock/core/vm_service.hpp"
#include "paddock/core/watchdog.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace paddock {

class WatchMetrics;

inline constexpr const char* kWatchdogActor = "watchdog";

// The Watchdog's settings for a policy.
WatchSettings watchSettings(const WatchPolicy& policy);
// A policy as the JSON kept in meta::kWatch (and shown by the API), and back. parseWatchPolicy
// starts from `base` and takes the keys present; InvalidArgument for a malformed record.
std::string watchPolicyJson(const WatchPolicy& policy);
Result<WatchPolicy> parseWatchPolicy(const std::string& json, WatchPolicy base);
// False for a record that says {"enabled": false} (watching switched off through the API).
bool watchRecordEnabled(const std::string& json);

struct HeartbeatMark {
    SystemTime at;
    std::string status;
};

struct WatchNote {
    SystemTime at;
    std::string action;  // revert, revert_failed, recovered, note, watch_on, watch_off, ...
    std::string reason;
};

struct WatchView {
    std::string site;
    std::string vm;
    bool watched = false;
    std::string source;  // "template", "api" or "exhibit"; empty when not watched
    WatchPolicy policy;  // meaningful when watched
    WatchState state = WatchState::Stopped;
    // Watched, healthy or in its grace, and the last heartbeat within the timeout (as the old
    // controller's is_healthy): false while waiting for a first heartbeat or recovering.
    bool healthy = false;
    std::optional<SystemTime> last_heartbeat;
    std::optional<double> seconds_since_last;
    std::string last_status;
    std::string last_message;
    unsigned failures = 0;  // failed recoveries in a row
    uint64_t reverts = 0;   // since paddockd started
    std::optional<double> revert_in_s;  // a guest's revert request pending
    std::vector<HeartbeatMark> heartbeats;  // newest last
    std::vector<WatchNote> decisions;       // newest last
};

struct HeartbeatReceipt {
    SystemTime at;
    WatchState state = WatchState::Healthy;
    std::optional<double> seconds_since_previous;
};

class WatchService {
public:
    struct SiteServices {
        Site* site;
        VmService* vms;
    };
    using Now = std::function<Watchdog::TimePoint()>;

    static constexpr size_t kHeartbeatHistory = 300;
    static constexpr size_t kDecisionHistory = 50;
    static constexpr size_t kMaxLabelBytes = 512;  // status, message, reason: longer are cut

    // Registers its metric families with `metrics`. Each VmService gets the service as its
    // PowerObserver. `exhibit`: the VM the exhibition routes act on is watched by default.
    WatchService(std::vector<SiteServices> sites, WatchConfig config, ExhibitConfig exhibit, AuditLog& audit,
                 CoreMetrics& metrics, std::shared_ptr<EventHub> events, Now now = &Watchdog::Clock::now);
    ~WatchService();
    WatchService(const WatchService&) = delete;
    WatchService& operator=(const WatchService&) = delete;

    // Finds the watched VMs (one metadata read each), begins their watchdogs (revert_on_start
    // reverts them) and starts the thread. Sites that do not answer yet are found later: the
    // thread looks again while a site has not been scanned.
    void start();
    void stop();

    // The watched VM's state; watched:false for a VM that is not watched. NotFound for an
    // unknown or foreign VM.
    Result<WatchView> view(const std::string& site, const std::string& vm);
    // Starts watching (or changes the settings of a watched VM) and persists the settings.
    Result<WatchView> watch(const std::string& site, const std::string& vm, const WatchPatch& patch,
                            const std::string& actor);
    // Stops watching, persisted (also for a VM its template would have watched).
    Result<WatchView> unwatch(const std::string& site, const std::string& vm, const std::string& actor);
    // Conflict when the VM is not watched; ResourceExhausted over watch.heartbeat_rate_per_s.
    Result<HeartbeatReceipt> heartbeat(const std::string& site, const std::string& vm, const std::string& status,
                                       const std::string& message);
    // A guest asks for a revert in `delay` (idle_reset: now, for having been idle). Returns when
    // it will happen; Conflict naming why not (maintenance, stopped, a recovery under way).
    Result<std::chrono::seconds> requestRevert(const std::string& site, const std::string& vm,
                                               const std::string& reason, const std::string& severity,
                                               std::chrono::seconds delay, const std::string& actor);
    Result<std::chrono::seconds> idleReset(const std::string& site, const std::string& vm, double idleSeconds,
                                           const std::string& actor);
    // Maintenance off (true) or on (false); persisted with the VM's watch settings.
    Result<WatchView> setAutoRevert(const std::string& site, const std::string& vm, bool on, const std::string& actor);

    // Guests without a token: whether `peer` lies in watch.heartbeat_sources (or is the known
    // address of a watched VM on a libvirt network).
    bool guestSource(std::string_view peer) const;
    // Whether a token-less guest at `peer` may speak for `vm`: `peer` must be an address
    // Paddock knows for the VM (user-mode guests reach the host from its loopback; a guest on a
    // libvirt network from its leased address). Forbidden naming why not.
    Status guestMayAct(const std::string& site, const std::string& vm, std::string_view peer);

private:
    struct Entry;
    struct Pending;

    void run();
    void scanSite(size_t index);
    void onEvent(const VmEvent& event);
    void onPowerChange(const std::string& site, const std::string& vm, PowerChange change, const std::string& actor);
    // The VM's effective policy and where it comes from; nullopt when it is not watched.
    std::optional<std::pair<WatchPolicy, std::string>> policyOf(const SiteServices& s, const std::string& vm,
                                                                const Metadata& metadata);
    Entry* find(const std::string& site, const std::string& vm);
    Result<const SiteServices*> services(const std::string& site) const;
    Entry& add(const SiteServices& s, const std::string& vm, WatchPolicy policy, std::string source);
    void removeEntry(const std::string& key);
    // Under mutex_: records a decision (audit, event, history) and starts a revert it asks for.
    void apply(Entry& entry, WatchDecision decision, std::string_view action = "note");
    void note(Entry& entry, std::string_view action, const std::string& reason, const std::string& actor,
              const std::string& error = {});
    void launchRevert(Entry& entry, std::string_view cause);
    void revertWorker(std::string key, std::string site, std::string vm, std::string snapshot);
    void probeAgent(const std::string& key, const SiteServices& s, const std::string& vm);
    WatchView viewOf(const Entry& entry) const;
    void checkDown(const std::string& key, const std::string& what);
    void reconcile();
    void persist(const SiteServices& s, const std::string& vm, Metadata changes);
    void joinFinishedWorkers();

    std::vector<SiteServices> sites_;
    WatchConfig config_;
    std::vector<IpNetwork> sources_;  // config_.heartbeat_sources, parsed
    ExhibitConfig exhibit_;
    AuditLog& audit_;
    std::shared_ptr<EventHub> events_;
    Now now_;
    std::unique_ptr<WatchMetrics> metrics_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool started_ = false;
    std::map<std::string, std::unique_ptr<Entry>> entries_;  // by site + '/' + vm
    std::vector<bool> scanned_;                              // per site
    std::mutex pendingMutex_;                                // guards pending_ only
    std::deque<Pending> pending_;                            // work for the thread
    std::atomic<bool> hasPending_{false};
    struct Worker {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    std::vector<Worker> workers_;
    std::thread thread_;
    EventHub::Subscription subscription_;
};

}  // namespace paddock
