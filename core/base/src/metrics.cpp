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
                    .Register(*registry_)) {}

void CoreMetrics::countCreated(const std::string& site, const std::string& owner) {
    created_->Add({{"site", site}, {"owner", owner}}).Increment();
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
