#include "paddock/core/pool_metrics.hpp"

namespace paddock {

namespace {

prometheus::Family<prometheus::Gauge>& gauge(prometheus::Registry& r, const char* name, const char* help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

prometheus::Family<prometheus::Counter>& counter(prometheus::Registry& r, const char* name, const char* help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

prometheus::Family<prometheus::Histogram>& histogram(prometheus::Registry& r, const char* name, const char* help) {
    return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
}

// Allocation from a running pool is milliseconds; from a saved one seconds; a cold boot minutes.
const prometheus::Histogram::BucketBoundaries kAllocateBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                                  1,     2.5,   5,    10,    30,   60,  120,  300};
const prometheus::Histogram::BucketBoundaries kRefillBuckets = {0.1, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600};

}  // namespace

PoolMetrics::PoolMetrics(prometheus::Registry& registry)
    : idle_(gauge(registry, "paddock_pool_idle_vms", "Idle VMs ready to be allocated, per pool")),
      allocated_(gauge(registry, "paddock_pool_allocated_vms", "VMs held by a lease, per pool")),
      booting_(gauge(registry, "paddock_pool_booting_vms", "VMs being filled or made ready, per pool")),
      total_(gauge(registry, "paddock_pool_vms", "All VMs of a pool, including those being made or destroyed")),
      minIdle_(gauge(registry, "paddock_pool_min_idle_vms", "Idle VMs the pool is configured to keep (min_idle)")),
      allocations_(counter(registry, "paddock_pool_allocations_total", "Leases handed out")),
      misses_(counter(registry, "paddock_pool_misses_total", "Allocations that found no idle VM")),
      releases_(counter(registry, "paddock_pool_releases_total", "Leases released by their holder")),
      expiries_(counter(registry, "paddock_pool_expiries_total", "Leases ended by expiry")),
      allocateSeconds_(histogram(registry, "paddock_pool_allocate_duration_seconds",
                                 "Time from an allocation request to the recorded lease")),
      refillSeconds_(histogram(registry, "paddock_pool_refill_duration_seconds",
                               "Time to make one idle pool VM (define, boot, ready, save)")) {}

void PoolMetrics::setCounts(const std::string& site, const std::string& pool, const PoolCounts& c) {
    const std::map<std::string, std::string> labels{{"site", site}, {"pool", pool}};
    idle_.Add(labels).Set(static_cast<double>(c.idle));
    allocated_.Add(labels).Set(static_cast<double>(c.allocated));
    booting_.Add(labels).Set(static_cast<double>(c.booting));
    total_.Add(labels).Set(static_cast<double>(c.total));
}

void PoolMetrics::setMinIdle(const std::string& site, const std::string& pool, size_t minIdle) {
    minIdle_.Add({{"site", site}, {"pool", pool}}).Set(static_cast<double>(minIdle));
}

void PoolMetrics::countAllocation(const std::string& site, const std::string& pool) {
    allocations_.Add({{"site", site}, {"pool", pool}}).Increment();
}

void PoolMetrics::countMiss(const std::string& site, const std::string& pool) {
    misses_.Add({{"site", site}, {"pool", pool}}).Increment();
}

void PoolMetrics::countRelease(const std::string& site, const std::string& pool) {
    releases_.Add({{"site", site}, {"pool", pool}}).Increment();
}

void PoolMetrics::countExpiry(const std::string& site, const std::string& pool) {
    expiries_.Add({{"site", site}, {"pool", pool}}).Increment();
}

void PoolMetrics::observeAllocate(const std::string& pool, double seconds) {
    allocateSeconds_.Add({{"pool", pool}}, kAllocateBuckets).Observe(seconds);
}

void PoolMetrics::observeRefill(const std::string& pool, double seconds) {
    refillSeconds_.Add({{"pool", pool}}, kRefillBuckets).Observe(seconds);
}

}  // namespace paddock
