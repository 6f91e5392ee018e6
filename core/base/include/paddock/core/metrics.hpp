// The process-wide Prometheus registry and core's own metric families. The server adds its
// HTTP families to the same registry and serialises it for GET /metrics. Thread-safe.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

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

private:
    std::shared_ptr<prometheus::Registry> registry_;
    prometheus::Family<prometheus::Counter>* operations_;
    prometheus::Family<prometheus::Histogram>* operationDuration_;
    prometheus::Family<prometheus::Gauge>* vmsByState_;
};

}  // namespace paddock
