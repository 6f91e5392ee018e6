// The decisions of one watched VM's watchdog, as the earlier exhibition controller made them,
// without doing anything itself. Its inputs are observations (guest heartbeats, probe answers,
// the VM going down, API starts and stops, the results of the reverts it asked for, guest revert
// requests, maintenance toggles, the passing of time); each returns what to do now: nothing, or
// revert the VM to its snapshot and start it, always with the reason (for the audit log and the
// event stream). A driver executes the reverts and reports back with revertDone().
//
// The behaviour (states in WatchState):
//  - after a (re)start there is no timeout until the guest's first heartbeat;
//  - no heartbeat for heartbeat_timeout → revert; then wait for the probe (heartbeat, guest agent
//    or SSH; none: do not wait) up to startup_max_wait, then startup_grace, then re-arm;
//  - the VM going down (crash, shut off, paused by an I/O error) other than through the API →
//    revert; a VM stopped through the API is left alone until started through it;
//  - maintenance (auto_revert off) keeps observing and reporting, never acts;
//  - a failed revert, or a VM that goes down again before its recovery finished, is retried
//    with a doubling backoff (backoff_min .. backoff_max): it never spins.
//
// No clock of its own: every input carries `now` (steady time), so it is tested without
// sleeping. Not thread-safe: one driver thread feeds it.
#pragma once

#include "paddock/core/config.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace paddock {

// What says a reverted guest is back: the configuration's own enum (config.hpp).
using WatchProbe = WatchProbeKind;

struct WatchSettings {
    std::string snapshot = "ready";
    std::chrono::milliseconds heartbeat_timeout{15000};
    std::chrono::milliseconds startup_grace{10000};
    std::chrono::milliseconds startup_max_wait{300000};
    WatchProbe probe = WatchProbe::Heartbeat;
    bool auto_revert = true;
    bool revert_on_start = true;
    std::chrono::milliseconds backoff_min{5000};
    std::chrono::milliseconds backoff_max{300000};
};

enum class WatchState {
    WaitingFirstHeartbeat,  // (re)started: no timeout until the guest's first heartbeat
    Healthy,                // heartbeats arrive; the timeout is armed
    Reverting,              // a revert (and start) was asked for; waiting for revertDone()
    WaitingProbe,           // reverted and started: waiting for the probe, up to startup_max_wait
    Grace,                  // startup_grace before re-arming
    Backoff,                // a recovery failed; the next try when the backoff ends
    Stopped,                // stopped through the API: left alone until started through it
};

std::string_view watchStateName(WatchState state) noexcept;

// How the driver finds the VM when watching begins.
enum class WatchedVm { Running, Down, StoppedByApi };

struct WatchDecision {
    bool revert = false;  // revert to the snapshot and start the VM, then call revertDone()
    std::string reason;   // what happened; empty when nothing did
    // With revert: why, as one word for metrics (heartbeat_timeout, vm_down, guest_request,
    // idle_reset, revert_on_start, not_running, retry).
    std::string_view cause;
};

class Watchdog {
public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;

    explicit Watchdog(WatchSettings settings);

    const WatchSettings& settings() const noexcept { return settings_; }
    WatchState state() const noexcept { return state_; }
    bool autoRevert() const noexcept { return settings_.auto_revert; }
    std::optional<TimePoint> lastHeartbeat() const noexcept { return lastHeartbeat_; }
    // Failed recoveries in a row (0 once one succeeds).
    unsigned failures() const noexcept { return failures_; }
    // When a guest's revert request falls due, if one is pending.
    std::optional<TimePoint> requestedRevertAt() const noexcept { return requestAt_; }

    // Watching begins (paddockd started, or watching was switched on), with the VM as found.
    WatchDecision begin(TimePoint now, WatchedVm vm);
    WatchDecision heartbeat(TimePoint now);
    // The agent or SSH probe answered (a heartbeat counts as a probe answer by itself).
    WatchDecision probeAnswered(TimePoint now);
    WatchDecision tick(TimePoint now);
    // The VM went down other than through the API: `what` says how ("crashed", "shut off", ...).
    WatchDecision vmDown(TimePoint now, const std::string& what);
    WatchDecision stoppedByApi(TimePoint now);
    WatchDecision startedByApi(TimePoint now);
    // The result of a revert this watchdog asked for.
    WatchDecision revertDone(TimePoint now, bool ok, const std::string& error = {});
    // A guest asks for a revert in `delay` (0: now). Returns when it will happen, or nullopt
    // (reason says why) when it will not: maintenance, stopped, or a recovery under way.
    // `cause` is the decision's cause when the revert happens (guest_request, idle_reset).
    std::optional<std::chrono::seconds> requestRevert(TimePoint now, std::chrono::seconds delay,
                                                      const std::string& reason, WatchDecision& decision,
                                                      std::string_view cause = "guest_request");
    // Maintenance off (true) or on (false). Turning it off re-arms from scratch: no revert at
    // once for the silence of the maintenance window; the driver reports a VM that is down.
    WatchDecision setAutoRevert(TimePoint now, bool on);

    // New settings for a watchdog at work: its state stays (a running timeout now counts against
    // the new heartbeat_timeout); a change of auto_revert is setAutoRevert's.
    WatchDecision reconfigure(TimePoint now, WatchSettings settings);

private:
    WatchDecision revert(std::string reason, std::string_view cause);
    WatchDecision fail(TimePoint now, const std::string& what);
    WatchDecision rearm(TimePoint now, std::string reason);
    bool recovering() const noexcept;

    WatchSettings settings_;
    WatchState state_ = WatchState::WaitingFirstHeartbeat;
    std::optional<TimePoint> lastHeartbeat_;
    TimePoint deadline_{};  // WaitingProbe: startup_max_wait ends; Grace: grace ends; Backoff: retry
    std::optional<TimePoint> requestAt_;
    std::string requestReason_;
    std::string_view requestCause_ = "guest_request";
    unsigned failures_ = 0;
    bool timeoutReported_ = false;  // maintenance: a timeout is reported once, not every tick
};

}  // namespace paddock
