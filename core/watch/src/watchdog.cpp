#include "paddock/core/watchdog.hpp"

#include <algorithm>
#include <cstdio>

namespace paddock {

namespace {

std::string seconds(std::chrono::milliseconds d) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(d.count()) / 1000.0);
    return text;
}

std::chrono::milliseconds since(Watchdog::TimePoint now, Watchdog::TimePoint then) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now - then);
}

}  // namespace

std::string_view watchStateName(WatchState state) noexcept {
    switch (state) {
        case WatchState::WaitingFirstHeartbeat: return "waiting_first_heartbeat";
        case WatchState::Healthy: return "healthy";
        case WatchState::Reverting: return "reverting";
        case WatchState::WaitingProbe: return "waiting_probe";
        case WatchState::Grace: return "grace";
        case WatchState::Backoff: return "backoff";
        case WatchState::Stopped: return "stopped";
    }
    return "healthy";
}

Watchdog::Watchdog(WatchSettings settings) : settings_(std::move(settings)) {}

bool Watchdog::recovering() const noexcept {
    return state_ == WatchState::Reverting || state_ == WatchState::WaitingProbe || state_ == WatchState::Grace;
}

WatchDecision Watchdog::revert(std::string reason, std::string_view cause) {
    state_ = WatchState::Reverting;
    timeoutReported_ = false;
    requestAt_.reset();
    return {true, std::move(reason), cause};
}

WatchDecision Watchdog::rearm(TimePoint now, std::string reason) {
    // A heartbeat probe has just answered: the timeout counts from now. Otherwise, as after any
    // start, no timeout until the guest's first heartbeat.
    if (settings_.probe == WatchProbe::Heartbeat && lastHeartbeat_) {
        lastHeartbeat_ = now;
        state_ = WatchState::Healthy;
    } else {
        state_ = WatchState::WaitingFirstHeartbeat;
    }
    timeoutReported_ = false;
    return {false, std::move(reason), {}};
}

WatchDecision Watchdog::fail(TimePoint now, const std::string& what) {
    ++failures_;
    const auto factor = std::min<unsigned>(failures_ - 1, 16);
    const std::chrono::milliseconds wait =
        std::min(settings_.backoff_max, std::chrono::milliseconds(settings_.backoff_min.count() << factor));
    state_ = WatchState::Backoff;
    deadline_ = now + wait;
    return {false, what + " (failure " + std::to_string(failures_) + " in a row); next try in " + seconds(wait), {}};
}

WatchDecision Watchdog::begin(TimePoint now, WatchedVm vm) {
    lastHeartbeat_.reset();
    requestAt_.reset();
    switch (vm) {
        case WatchedVm::StoppedByApi:
            state_ = WatchState::Stopped;
            return {false, "watching a VM stopped through the API: left alone until started", {}};
        case WatchedVm::Down:
            if (settings_.auto_revert) return revert("the VM is not running when watching begins", "not_running");
            state_ = WatchState::WaitingFirstHeartbeat;
            return {false, "the VM is not running (maintenance: no action)", {}};
        case WatchedVm::Running:
            if (settings_.auto_revert && settings_.revert_on_start)
                return revert("revert_on_start: watching begins with the '" + settings_.snapshot + "' snapshot",
                              "revert_on_start");
            return rearm(now, "watching begins: waiting for the first heartbeat");
    }
    return {};
}

WatchDecision Watchdog::heartbeat(TimePoint now) {
    switch (state_) {
        case WatchState::Reverting:
        case WatchState::Stopped:
            // From the guest as it was before the revert, or from a VM that is not watched now.
            return {};
        case WatchState::WaitingFirstHeartbeat:
            lastHeartbeat_ = now;
            state_ = WatchState::Healthy;
            return {false, "first heartbeat: the timeout is armed", {}};
        case WatchState::WaitingProbe:
            lastHeartbeat_ = now;
            if (settings_.probe != WatchProbe::Heartbeat) return {};
            state_ = WatchState::Grace;
            deadline_ = now + settings_.startup_grace;
            failures_ = 0;
            return {false, "the guest's first heartbeat after the revert; " + seconds(settings_.startup_grace) +
                               " of grace", {}};
        case WatchState::Backoff:
            // Alive after all: the failed recovery need not be retried.
            lastHeartbeat_ = now;
            state_ = WatchState::Healthy;
            failures_ = 0;
            return {false, "heartbeats resumed: the retry is called off", {}};
        case WatchState::Healthy:
        case WatchState::Grace: {
            const bool wasLate = timeoutReported_;
            lastHeartbeat_ = now;
            timeoutReported_ = false;
            return {false, wasLate ? "heartbeats resumed" : std::string(), {}};
        }
    }
    return {};
}

WatchDecision Watchdog::probeAnswered(TimePoint now) {
    if (state_ != WatchState::WaitingProbe) return {};
    if (settings_.probe == WatchProbe::Heartbeat) return heartbeat(now);
    state_ = WatchState::Grace;
    deadline_ = now + settings_.startup_grace;
    failures_ = 0;
    return {false, "the probe answered after the revert; " + seconds(settings_.startup_grace) + " of grace", {}};
}

WatchDecision Watchdog::tick(TimePoint now) {
    switch (state_) {
        case WatchState::Healthy:
        case WatchState::WaitingFirstHeartbeat:
            if (requestAt_ && now >= *requestAt_) {
                const std::string why = "revert requested by the guest: " + requestReason_;
                if (settings_.auto_revert) return revert(why, requestCause_);
                requestAt_.reset();
                return {false, why + " (maintenance: no action)", {}};
            }
            if (state_ == WatchState::Healthy && lastHeartbeat_ && since(now, *lastHeartbeat_) > settings_.heartbeat_timeout) {
                const std::string why = "no heartbeat for " + seconds(since(now, *lastHeartbeat_)) + " (timeout " +
                                        seconds(settings_.heartbeat_timeout) + ")";
                if (settings_.auto_revert) return revert(why, "heartbeat_timeout");
                if (timeoutReported_) return {};
                timeoutReported_ = true;
                return {false, why + " (maintenance: no action)", {}};
            }
            return {};
        case WatchState::WaitingProbe:
            if (now < deadline_) return {};
            state_ = WatchState::Grace;
            deadline_ = now + settings_.startup_grace;
            return {false, "the probe did not answer within " + seconds(settings_.startup_max_wait) +
                               " after the revert; re-arming after the grace all the same", {}};
        case WatchState::Grace:
            if (now < deadline_) return {};
            return rearm(now, "grace over: watching again");
        case WatchState::Backoff:
            if (now < deadline_) return {};
            if (!settings_.auto_revert) return {};
            return revert("retrying the recovery (failure " + std::to_string(failures_) + " before)", "retry");
        case WatchState::Reverting:
        case WatchState::Stopped: return {};
    }
    return {};
}

WatchDecision Watchdog::vmDown(TimePoint now, const std::string& what) {
    switch (state_) {
        case WatchState::Stopped:
        case WatchState::Reverting:  // our own revert stops and starts it
            return {};
        case WatchState::WaitingProbe:
        case WatchState::Grace:
            // Down again before its recovery finished: a failed recovery, retried with backoff.
            return fail(now, "the VM " + what + " again right after its recovery");
        case WatchState::Backoff: return {};
        case WatchState::Healthy:
        case WatchState::WaitingFirstHeartbeat:
            if (settings_.auto_revert) return revert("the VM " + what, "vm_down");
            return {false, "the VM " + what + " (maintenance: no action)", {}};
    }
    return {};
}

WatchDecision Watchdog::stoppedByApi(TimePoint) {
    state_ = WatchState::Stopped;
    requestAt_.reset();
    failures_ = 0;
    return {false, "stopped through the API: left alone until started through it", {}};
}

WatchDecision Watchdog::startedByApi(TimePoint now) {
    lastHeartbeat_.reset();
    failures_ = 0;
    return rearm(now, "started through the API: waiting for the first heartbeat");
}

WatchDecision Watchdog::revertDone(TimePoint now, bool ok, const std::string& error) {
    if (state_ != WatchState::Reverting) return {};
    if (!ok) return fail(now, "the revert to '" + settings_.snapshot + "' failed: " + error);
    lastHeartbeat_.reset();
    if (settings_.probe == WatchProbe::None) {
        state_ = WatchState::Grace;
        deadline_ = now + settings_.startup_grace;
        failures_ = 0;
        return {false, "reverted to '" + settings_.snapshot + "' and started; " + seconds(settings_.startup_grace) +
                           " of grace", {}};
    }
    state_ = WatchState::WaitingProbe;
    deadline_ = now + settings_.startup_max_wait;
    return {false, "reverted to '" + settings_.snapshot + "' and started; waiting for the guest", {}};
}

std::optional<std::chrono::seconds> Watchdog::requestRevert(TimePoint now, std::chrono::seconds delay,
                                                            const std::string& reason, WatchDecision& decision,
                                                            std::string_view cause) {
    decision = {};
    if (!settings_.auto_revert) {
        decision.reason = "revert requested by the guest (" + reason + "): maintenance, no action";
        return std::nullopt;
    }
    if (state_ == WatchState::Stopped || recovering() || state_ == WatchState::Backoff) {
        decision.reason = "revert requested by the guest (" + reason + "): ignored, the VM is " +
                          std::string(watchStateName(state_));
        return std::nullopt;
    }
    const TimePoint at = now + delay;
    // Two requests: the earlier one stands.
    if (!requestAt_ || at < *requestAt_) {
        requestAt_ = at;
        requestReason_ = reason;
        requestCause_ = cause;
    }
    if (now >= *requestAt_) {
        decision = revert("revert requested by the guest: " + requestReason_, requestCause_);
        return std::chrono::seconds(0);
    }
    decision.reason = "revert requested by the guest (" + reason + ") in " +
                      seconds(std::chrono::duration_cast<std::chrono::milliseconds>(*requestAt_ - now));
    return std::chrono::duration_cast<std::chrono::seconds>(*requestAt_ - now);
}

WatchDecision Watchdog::setAutoRevert(TimePoint now, bool on) {
    if (settings_.auto_revert == on) return {};
    settings_.auto_revert = on;
    if (!on) {
        requestAt_.reset();
        return {false, "maintenance: automatic revert off", {}};
    }
    if (state_ == WatchState::Stopped || state_ == WatchState::Reverting) return {false, "automatic revert on", {}};
    lastHeartbeat_.reset();
    failures_ = 0;
    return rearm(now, "automatic revert on: waiting for the first heartbeat");
}

WatchDecision Watchdog::reconfigure(TimePoint now, WatchSettings settings) {
    const bool autoRevert = settings.auto_revert;
    settings.auto_revert = settings_.auto_revert;
    settings_ = std::move(settings);
    return setAutoRevert(now, autoRevert);
}

}  // namespace paddock
