// The process-wide Prometheus registry and core's own metric families. The server adds its
// HTTP families to the same registry and serialises it for GET /metrics. Thread-safe.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace paddock {

class CoreMetrics {
public:
    CoreMetrics();
    const std::shared_ptr<prometheus::Registry>& registry() const noexcept { return registry_; }

    // paddock_vm_operations_total{site,action,result}
    void countOperation(const std::string& site, const std::string& action, bool ok);
    // paddock_vm_operation_duration_seconds{action}
    void observeOperation(const std::string& action, double seconds);
    // paddock_vms{site,state}: set from the last full listing.
    prometheus::Family<prometheus::Gauge>& vmsByState() noexcept { return *vmsByState_; }
    // paddock_vms_created_total{site,owner}: VMs made (pool fills included); owner "" when none.
    void countCreated(const std::string& site, const std::string& owner);
    // paddock_site_connected{site}: 1 while the site's hypervisor connection is usable, else 0
    // (GET /api/v1/sites "reachable"), as of the last call: set when /metrics is read.
    void setSiteConnected(const std::string& site, bool connected);

    // paddock_snapshots_total{result}, paddock_snapshot_duration_seconds,
    // paddock_snapshot_revert_duration_seconds
    void countSnapshot(bool ok);
    void observeSnapshot(double seconds);
    void observeRevert(double seconds);
    // paddock_backups_total{kind,result}, paddock_backup_bytes_total{kind},
    // paddock_backup_duration_seconds{kind}, paddock_restore_duration_seconds
    void countBackup(const std::string& kind, bool ok, uint64_t bytes);
    void observeBackup(const std::string& kind, double seconds);
    void observeRestore(double seconds);

    // When each VM last had an operation (any, failed ones too), by (site, VM); forgotten when
    // the VM is deleted. Read by the compatibility metrics (vm_last_activity_timestamp).
    using ActivityMap = std::map<std::pair<std::string, std::string>, std::chrono::system_clock::time_point>;
    void touch(const std::string& site, const std::string& vm);
    void forget(const std::string& site, const std::string& vm);
    ActivityMap lastActivity() const;

private:
    std::shared_ptr<prometheus::Registry> registry_;
    prometheus::Family<prometheus::Counter>* operations_;
    prometheus::Family<prometheus::Histogram>* operationDuration_;
    prometheus::Family<prometheus::Gauge>* vmsByState_;
    prometheus::Family<prometheus::Counter>* created_;
    prometheus::Family<prometheus::Gauge>* siteConnected_;
    prometheus::Family<prometheus::Counter>* snapshots_;
    prometheus::Family<prometheus::Histogram>* snapshotDuration_;
    prometheus::Family<prometheus::Histogram>* revertDuration_;
    prometheus::Family<prometheus::Counter>* backups_;
    prometheus::Family<prometheus::Histogram>* backupDuration_;
    prometheus::Family<prometheus::Counter>* backupBytes_;
    prometheus::Family<prometheus::Histogram>* restoreDuration_;
    mutable std::mutex activityMutex_;
    ActivityMap activity_;
};

}  // namespace paddock
