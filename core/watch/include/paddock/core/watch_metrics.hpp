// Prometheus families of the watchdogs (paddock_watch_*). A watched VM's series exist while it
// is watched: forget() removes them. Thread-safe (prometheus-cpp metrics are; the series map is
// guarded).
#pragma once

#include "paddock/core/watchdog.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace paddock {

class WatchMetrics {
public:
    explicit WatchMetrics(prometheus::Registry& registry);

    // paddock_watch_seconds_since_heartbeat{site,vm}: -1 until the first heartbeat.
    void setSinceHeartbeat(const std::string& site, const std::string& vm, double seconds);
    // paddock_watch_state{site,vm,state}: 1 for the watchdog's state, one series per VM.
    void setState(const std::string& site, const std::string& vm, WatchState state);
    // paddock_watch_heartbeats_total{site,vm}
    void countHeartbeat(const std::string& site, const std::string& vm);
    // paddock_watch_reverts_total{site,vm,reason}, reason a WatchDecision cause.
    void countRevert(const std::string& site, const std::string& vm, std::string_view reason);
    // paddock_watch_recoveries_failed_total{site,vm}
    void countFailedRecovery(const std::string& site, const std::string& vm);
    // Removes the VM's series (it is no longer watched).
    void forget(const std::string& site, const std::string& vm);

private:
    struct Series {
        prometheus::Gauge* since = nullptr;
        prometheus::Gauge* state = nullptr;
        WatchState stateValue = WatchState::Stopped;
        prometheus::Counter* heartbeats = nullptr;
        prometheus::Counter* failed = nullptr;
        std::map<std::string, prometheus::Counter*, std::less<>> reverts;
    };
    Series& series(const std::string& site, const std::string& vm);

    prometheus::Family<prometheus::Gauge>& since_;
    prometheus::Family<prometheus::Gauge>& state_;
    prometheus::Family<prometheus::Counter>& heartbeats_;
    prometheus::Family<prometheus::Counter>& reverts_;
    prometheus::Family<prometheus::Counter>& failed_;
    std::mutex mutex_;
    std::map<std::pair<std::string, std::string>, Series> series_;
};

}  // namespace paddock
