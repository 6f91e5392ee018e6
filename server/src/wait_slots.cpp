#include "paddock/server/wait_slots.hpp"

#include <string>

namespace paddock::server {

WaitSlots::WaitSlots(unsigned limit, prometheus::Registry& registry)
    : limit_(limit == 0 ? 1 : limit),
      waiting_(prometheus::BuildGauge()
                   .Name("paddock_http_waiting_allocations")
                   .Help("Requests waiting now for a pool VM (each holds an HTTP worker)")
                   .Register(registry)
                   .Add({})),
      refused_(
          prometheus::BuildCounter()
              .Name("paddock_http_waiting_allocations_refused_total")
              .Help("Allocations refused (503) because server.max_waiting_allocations requests were already waiting")
              .Register(registry)
              .Add({})) {}

WaitSlots::Slot::~Slot() {
    if (owner_ != nullptr) owner_->leave();
}

Result<WaitSlots::Slot> WaitSlots::enter() {
    unsigned used = used_.load();
    do {
        if (used >= limit_) {
            refused_.Increment();
            return makeError(ErrorCode::Unavailable, std::to_string(limit_) +
                                                         " allocations are already waiting for a VM "
                                                         "(server.max_waiting_allocations); retry shortly");
        }
    } while (!used_.compare_exchange_weak(used, used + 1));
    waiting_.Increment();
    return Slot(*this);
}

void WaitSlots::leave() {
    used_.fetch_sub(1);
    waiting_.Decrement();
}

}  // namespace paddock::server
