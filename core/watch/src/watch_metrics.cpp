#include "paddock/core/watch_metrics.hpp"

namespace paddock {

WatchMetrics::WatchMetrics(prometheus::Registry& r)
    : since_(prometheus::BuildGauge()
                 .Name("paddock_watch_seconds_since_heartbeat")
                 .Help("Seconds since a watched VM's last heartbeat (-1: none since it was (re)started)")
                 .Register(r)),
      state_(prometheus::BuildGauge()
                 .Name("paddock_watch_state")
                 .Help("The watchdog state of a watched VM (1 for the current state)")
                 .Register(r)),
      heartbeats_(prometheus::BuildCounter()
                      .Name("paddock_watch_heartbeats_total")
                      .Help("Guest heartbeats received per watched VM")
                      .Register(r)),
      reverts_(prometheus::BuildCounter()
                   .Name("paddock_watch_reverts_total")
                   .Help("Automatic reverts started by the watchdog, by reason")
                   .Register(r)),
      failed_(prometheus::BuildCounter()
                  .Name("paddock_watch_recoveries_failed_total")
                  .Help("Recoveries (revert and start) that failed or did not hold")
                  .Register(r)) {}

WatchMetrics::Series& WatchMetrics::series(const std::string& site, const std::string& vm) {
    auto [it, added] = series_.try_emplace({site, vm});
    Series& s = it->second;
    if (added) {
        const prometheus::Labels labels{{"site", site}, {"vm", vm}};
        s.since = &since_.Add(labels);
        s.since->Set(-1);
        s.heartbeats = &heartbeats_.Add(labels);
        s.failed = &failed_.Add(labels);
    }
    return s;
}

void WatchMetrics::setSinceHeartbeat(const std::string& site, const std::string& vm, double seconds) {
    std::lock_guard lock(mutex_);
    series(site, vm).since->Set(seconds);
}

void WatchMetrics::setState(const std::string& site, const std::string& vm, WatchState state) {
    std::lock_guard lock(mutex_);
    Series& s = series(site, vm);
    if (s.state != nullptr && s.stateValue == state) return;
    if (s.state != nullptr) state_.Remove(s.state);
    s.state = &state_.Add({{"site", site}, {"vm", vm}, {"state", std::string(watchStateName(state))}});
    s.state->Set(1);
    s.stateValue = state;
}

void WatchMetrics::countHeartbeat(const std::string& site, const std::string& vm) {
    std::lock_guard lock(mutex_);
    series(site, vm).heartbeats->Increment();
}

void WatchMetrics::countRevert(const std::string& site, const std::string& vm, std::string_view reason) {
    std::lock_guard lock(mutex_);
    Series& s = series(site, vm);
    auto it = s.reverts.find(reason);
    if (it == s.reverts.end())
        it = s.reverts
                 .emplace(std::string(reason),
                          &reverts_.Add({{"site", site}, {"vm", vm}, {"reason", std::string(reason)}}))
                 .first;
    it->second->Increment();
}

void WatchMetrics::countFailedRecovery(const std::string& site, const std::string& vm) {
    std::lock_guard lock(mutex_);
    series(site, vm).failed->Increment();
}

void WatchMetrics::forget(const std::string& site, const std::string& vm) {
    std::lock_guard lock(mutex_);
    const auto it = series_.find({site, vm});
    if (it == series_.end()) return;
    Series& s = it->second;
    since_.Remove(s.since);
    if (s.state != nullptr) state_.Remove(s.state);
    heartbeats_.Remove(s.heartbeats);
    failed_.Remove(s.failed);
    for (auto& [reason, counter] : s.reverts) reverts_.Remove(counter);
    series_.erase(it);
}

}  // namespace paddock
