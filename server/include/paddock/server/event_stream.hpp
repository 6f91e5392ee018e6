// WS /api/v1/events: every VmEvent of every site, as text frames
// {"type":"event","site","vm" (null for connection events),"kind","event","state_code","readiness" (null when not known),"time_ms"}.
// Threading: events arrive on the publisher's thread (often libvirt's event thread); each is
// serialised once and only queued on the WebSocketHub there. attach() is thread-safe. The
// EventHub (shared) and the WebSocketHub must outlive this object.
#pragma once

#include "paddock/core/events.hpp"
#include "paddock/server/websocket_hub.hpp"

#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace paddock::server {

class EventStream {
public:
    EventStream(const std::shared_ptr<EventHub>& events, WebSocketHub& hub);
    ~EventStream();
    EventStream(const EventStream&) = delete;
    EventStream& operator=(const EventStream&) = delete;

    // Hands the upgraded `socket` to the hub; it receives every event from now on.
    // `owner`: whose WebSocket cap it counts against (empty: the total only).
    void attach(std::unique_ptr<Transport> transport, const std::string& route, const std::string& owner);

    // The frame for one event.
    static std::string frame(const VmEvent& event);

private:
    void onEvent(const VmEvent& event);

    WebSocketHub& hub_;
    std::mutex mutex_;
    std::set<WebSocketHub::ClientId> clients_;
    EventHub::Subscription subscription_;
};

}  // namespace paddock::server
