// Fan-out of VM events (lifecycle changes from the hypervisor, readiness changes from the SSH
// probe) to any number of subscribers, e.g. WebSocket streams.
// Threading: publish() may be called from any thread (including a backend's event thread) and
// calls every subscriber synchronously on that thread, so subscribers must only enqueue and
// return. Subscribing and unsubscribing are thread-safe; after a Subscription is destroyed its
// callback is never called again. A callback must not destroy a Subscription (it would wait
// for the publish it runs in).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace paddock {

struct VmEvent {
    std::string site;
    std::string vm;
    std::string kind;       // "lifecycle" | "readiness" | "connection" | "watch" | "operation"
    // lifecycle: "started", "stopped", ...; readiness: the new readiness; watch: the watchdog's
    // decision ("revert", "revert_failed", "note", "watch_on", ...); operation: its new state
    // (queued, running, succeeded, failed, cancelled)
    std::string event;
    int state_code = -1;    // the domain state after the event when known, else -1
    std::string readiness;  // "stopped" | "booting" | "ready" | "unreachable" | "unknown"
    int64_t time_ms = 0;    // Unix time in milliseconds
    std::string detail;     // watch: the reason and the watchdog's state; operation: its kind (and error); else empty
    std::string operation;  // operation: its id; empty otherwise
};

class EventHub : public std::enable_shared_from_this<EventHub> {
public:
    using Callback = std::function<void(const VmEvent&)>;

    class Subscription {
    public:
        Subscription() = default;
        Subscription(std::weak_ptr<EventHub> hub, uint64_t id) : hub_(std::move(hub)), id_(id) {}
        ~Subscription() { reset(); }
        Subscription(Subscription&& o) noexcept : hub_(std::move(o.hub_)), id_(o.id_) { o.id_ = 0; }
        Subscription& operator=(Subscription&& o) noexcept;
        Subscription(const Subscription&) = delete;
        Subscription& operator=(const Subscription&) = delete;
        void reset();

    private:
        std::weak_ptr<EventHub> hub_;
        uint64_t id_ = 0;
    };

    // Hubs live in shared_ptr so that a Subscription may outlive its hub safely.
    static std::shared_ptr<EventHub> create() { return std::shared_ptr<EventHub>(new EventHub()); }

    [[nodiscard]] Subscription subscribe(Callback callback);
    void publish(VmEvent event);

private:
    EventHub() = default;
    void unsubscribe(uint64_t id);

    std::mutex mutex_;
    uint64_t nextId_ = 1;
    std::map<uint64_t, std::shared_ptr<Callback>> callbacks_;
    std::mutex publishMutex_;  // one publish at a time, so subscribers see events in order
};

}  // namespace paddock
