// The earlier VM manager's metric families, so that the Grafana dashboards built on them keep
// working; they sit beside Paddock's own paddock_* families in the one registry (README,
// "Compatibility metrics"). HttpMetrics counts its two request families; this class keeps the
// rest, brought up to date by refresh(), which GET /metrics calls before it serialises:
//   vm_created_total{owner}                  VMs created (paddock_vms_created_total summed over sites)
//   vm_per_user{owner}                       existing VMs by owner
//   vm_last_activity_timestamp{owner,vm_name} Unix time of the last successful operation on each existing VM
//   vm_ssh_sessions_active{owner,vm_name}    open browser terminals
//   vm_manager_host_cpu_usage_percent        the host's CPU use since the previous refresh
//   vm_manager_host_memory_usage_percent     (MemTotal - MemAvailable) / MemTotal
//   vm_manager_host_disk_usage_percent       the root file system, as `df` counts it
//   vm_manager_hypervisor_type{type}         1 for the hypervisor in use, 0 for the others the old tool named
// VMs without an owner count as "anonymous", as the old tool's did. Only Paddock's VMs (made or
// adopted) are counted. The old vm_active_total is left out: a gauge named *_total fails
// promtool's lint (paddock_vms{state="running"} has that figure). Thread-safe; the Runtime and
// the registry must outlive it.
#pragma once

#include "paddock/core/runtime.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace paddock::server {

class CompatMetrics {
public:
    // `hypervisorType`: what the first site runs, e.g. "kvm" or "qemu" (TCG).
    CompatMetrics(Runtime& runtime, prometheus::Registry& registry, const std::string& hypervisorType);
    CompatMetrics(const CompatMetrics&) = delete;
    CompatMetrics& operator=(const CompatMetrics&) = delete;

    void refresh();

private:
    using Labels = std::map<std::string, std::string>;
    // Sets the gauges of `family` to `values`; removes those of label sets no longer there.
    void publish(prometheus::Family<prometheus::Gauge>& family, std::map<Labels, prometheus::Gauge*>& shown,
                 const std::map<Labels, double>& values);
    double cpuPercent();

    Runtime& runtime_;
    prometheus::Registry& registry_;
    std::mutex mutex_;
    prometheus::Family<prometheus::Counter>& created_;
    prometheus::Family<prometheus::Gauge>& perUser_;
    prometheus::Family<prometheus::Gauge>& lastActivity_;
    prometheus::Family<prometheus::Gauge>& sshSessions_;
    prometheus::Gauge& cpu_;
    prometheus::Gauge& memory_;
    prometheus::Gauge& disk_;
    std::map<Labels, prometheus::Gauge*> perUserShown_, lastActivityShown_, sshShown_;
    std::pair<uint64_t, uint64_t> lastCpu_{0, 0};  // busy and total jiffies at the previous refresh
};

}  // namespace paddock::server
