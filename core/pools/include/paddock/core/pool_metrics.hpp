// Prometheus families of the hot pools (paddock_pool_*), registered once per registry and
// shared by every PoolManager. Thread-safe (prometheus-cpp metrics are).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>

namespace paddock {

struct PoolCounts {
    size_t idle = 0;
    size_t allocated = 0;
    size_t booting = 0;  // being filled, or claimed and being made ready
    size_t total = 0;    // everything that exists or is being made, including VMs being destroyed
};

class PoolMetrics {
public:
    explicit PoolMetrics(prometheus::Registry& registry);

    void setCounts(const std::string& site, const std::string& pool, const PoolCounts& counts);
    // paddock_pool_min_idle_vms{site,pool}: the idle VMs the pool is configured to keep (min_idle),
    // so an alert can tell an empty pool that should not be from one configured empty.
    void setMinIdle(const std::string& site, const std::string& pool, size_t minIdle);
    void countAllocation(const std::string& site, const std::string& pool);
    void countMiss(const std::string& site, const std::string& pool);
    void countRelease(const std::string& site, const std::string& pool);
    void countExpiry(const std::string& site, const std::string& pool);
    void observeAllocate(const std::string& pool, double seconds);
    void observeRefill(const std::string& pool, double seconds);

private:
    prometheus::Family<prometheus::Gauge>& idle_;
    prometheus::Family<prometheus::Gauge>& allocated_;
    prometheus::Family<prometheus::Gauge>& booting_;
    prometheus::Family<prometheus::Gauge>& total_;
    prometheus::Family<prometheus::Gauge>& minIdle_;
    prometheus::Family<prometheus::Counter>& allocations_;
    prometheus::Family<prometheus::Counter>& misses_;
    prometheus::Family<prometheus::Counter>& releases_;
    prometheus::Family<prometheus::Counter>& expiries_;
    prometheus::Family<prometheus::Histogram>& allocateSeconds_;
    prometheus::Family<prometheus::Histogram>& refillSeconds_;
};

}  // namespace paddock
