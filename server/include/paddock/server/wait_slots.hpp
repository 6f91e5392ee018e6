// Caps how many requests may block a worker thread at once waiting for something slow (a pool
// VM booting or restoring, an Idempotency-Key twin finishing): the rest are refused at once
// with 503, so such waits can never take every worker and stop the API. Metrics:
//   paddock_http_waiting_allocations           requests waiting now
//   paddock_http_waiting_allocations_refused_total
// Thread-safe.
#pragma once

#include "paddock/core/result.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <atomic>

namespace paddock::server {

class WaitSlots {
public:
    // `limit` >= 1; `registry` must outlive this object.
    WaitSlots(unsigned limit, prometheus::Registry& registry);

    // Held while a request waits; gives its slot back when destroyed.
    class Slot {
    public:
        explicit Slot(WaitSlots& owner) : owner_(&owner) {}
        Slot(Slot&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
        Slot& operator=(Slot&&) = delete;
        ~Slot();

    private:
        WaitSlots* owner_;
    };
    // A slot, or Unavailable naming the limit when all are taken.
    Result<Slot> enter();

    unsigned limit() const noexcept { return limit_; }

private:
    void leave();

    const unsigned limit_;
    std::atomic<unsigned> used_{0};
    prometheus::Gauge& waiting_;
    prometheus::Counter& refused_;
};

}  // namespace paddock::server
