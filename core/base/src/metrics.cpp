#include "paddock/core/metrics.hpp"

namespace paddock {

CoreMetrics::CoreMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      operations_(&prometheus::BuildCounter()
                       .Name("paddock_vm_operations_total")
                       .Help("VM operations by site, action and result")
                       .Register(*registry_)),
      operationDuration_(&prometheus::BuildHistogram()
                              .Name("paddock_vm_operation_duration_seconds")
                              .Help("Duration of VM operations by action")
                              .Register(*registry_)),
      vmsByState_(&prometheus::BuildGauge()
                       .Name("paddock_vms")
                       .Help("VMs by site and state, as of the last listing")
                       .Register(*registry_)),
      created_(&prometheus::BuildCounter()
                    .Name("paddock_vms_created_total")
                    .Help("VMs created, pool fills included, by site and owner (empty: none)")
                    .Register(*registry_)),
      siteConnected_(&prometheus::BuildGauge()
                          .Name("paddock_site_connected")
                          .Help("1 while the site's hypervisor connection is usable, 0 while it is lost or not made")
                          .Register(*registry_)),
      snapshots_(&prometheus::BuildCounter()
                      .Name("paddock_snapshots_total")
                      .Help("Snapshots taken (through the API and before stops) by result")
                      .Register(*registry_)),
      snapshotDuration_(&prometheus::BuildHistogram()
                             .Name("paddock_snapshot_duration_seconds")
                             .Help("Duration of taking a snapshot")
                             .Register(*registry_)),
      revertDuration_(&prometheus::BuildHistogram()
                           .Name("paddock_snapshot_revert_duration_seconds")
                           .Help("Duration of reverting to a snapshot")
                           .Register(*registry_)),
      backups_(&prometheus::BuildCounter()
                    .Name("paddock_backups_total")
                    .Help("Backups by kind (full, incremental) and result")
                    .Register(*registry_)),
      backupDuration_(&prometheus::BuildHistogram()
                           .Name("paddock_backup_duration_seconds")
                           .Help("Duration of a backup by kind")
                           .Register(*registry_)),
      backupBytes_(&prometheus::BuildCounter()
                        .Name("paddock_backup_bytes_total")
                        .Help("Bytes of backup files written, by kind")
                        .Register(*registry_)),
      restoreDuration_(&prometheus::BuildHistogram()
                            .Name("paddock_restore_duration_seconds")
                            .Help("Duration of restoring a VM from a backup")
                            .Register(*registry_)) {}

namespace {
// Snapshots, reverts, backups and restores: a fraction of a second to many minutes.
const prometheus::Histogram::BucketBoundaries kStateBuckets{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900};
}  // namespace

void CoreMetrics::countSnapshot(bool ok) { snapshots_->Add({{"result", ok ? "ok" : "error"}}).Increment(); }

void CoreMetrics::observeSnapshot(double seconds) { snapshotDuration_->Add({}, kStateBuckets).Observe(seconds); }

void CoreMetrics::observeRevert(double seconds) { revertDuration_->Add({}, kStateBuckets).Observe(seconds); }

void CoreMetrics::countBackup(const std::string& kind, bool ok, uint64_t bytes) {
    backups_->Add({{"kind", kind}, {"result", ok ? "ok" : "error"}}).Increment();
    if (ok) backupBytes_->Add({{"kind", kind}}).Increment(static_cast<double>(bytes));
}

void CoreMetrics::observeBackup(const std::string& kind, double seconds) {
    backupDuration_->Add({{"kind", kind}}, kStateBuckets).Observe(seconds);
}

void CoreMetrics::observeRestore(double seconds) { restoreDuration_->Add({}, kStateBuckets).Observe(seconds); }

void CoreMetrics::countCreated(const std::string& site, const std::string& owner) {
    created_->Add({{"site", site}, {"owner", owner}}).Increment();
}

void CoreMetrics::setSiteConnected(const std::string& site, bool connected) {
    siteConnected_->Add({{"site", site}}).Set(connected ? 1 : 0);
}

void CoreMetrics::touch(const std::string& site, const std::string& vm) {
    std::lock_guard lock(activityMutex_);
    activity_[{site, vm}] = std::chrono::system_clock::now();
}

void CoreMetrics::forget(const std::string& site, const std::string& vm) {
    std::lock_guard lock(activityMutex_);
    activity_.erase({site, vm});
}

CoreMetrics::ActivityMap CoreMetrics::lastActivity() const {
    std::lock_guard lock(activityMutex_);
    return activity_;
}

void CoreMetrics::countOperation(const std::string& site, const std::string& action, bool ok) {
    operations_->Add({{"site", site}, {"action", action}, {"result", ok ? "ok" : "error"}}).Increment();
}

void CoreMetrics::observeOperation(const std::string& action, double seconds) {
    static const prometheus::Histogram::BucketBoundaries kBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                                  1,     2.5,  5,     10,   30,  60,   120};
    operationDuration_->Add({{"action", action}}, kBuckets).Observe(seconds);
}

}  // namespace paddock
