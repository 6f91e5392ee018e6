#include "paddock/core/events.hpp"

#include <chrono>
#include <vector>

namespace paddock {

EventHub::Subscription& EventHub::Subscription::operator=(Subscription&& o) noexcept {
    if (this != &o) {
        reset();
        hub_ = std::move(o.hub_);
        id_ = o.id_;
        o.id_ = 0;
    }
    return *this;
}

void EventHub::Subscription::reset() {
    if (id_ == 0) return;
    if (auto hub = hub_.lock()) hub->unsubscribe(id_);
    id_ = 0;
}

EventHub::Subscription EventHub::subscribe(Callback callback) {
    std::lock_guard lock(mutex_);
    const uint64_t id = nextId_++;
    callbacks_[id] = std::make_shared<Callback>(std::move(callback));
    return Subscription(weak_from_this(), id);
}

void EventHub::unsubscribe(uint64_t id) {
    // Taking publishMutex_ waits for a publish in progress, so the callback is not running
    // (or about to run) once this returns.
    std::lock_guard publishing(publishMutex_);
    std::lock_guard lock(mutex_);
    callbacks_.erase(id);
}

void EventHub::publish(VmEvent event) {
    if (event.time_ms == 0) {
        event.time_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
    }
    std::lock_guard publishing(publishMutex_);
    std::vector<std::shared_ptr<Callback>> targets;
    {
        std::lock_guard lock(mutex_);
        targets.reserve(callbacks_.size());
        for (const auto& [id, cb] : callbacks_) targets.push_back(cb);
    }
    for (const auto& cb : targets) {
        try {
            (*cb)(event);
        } catch (...) {
            // One broken subscriber must not silence the others.
        }
    }
}

}  // namespace paddock
