#include "paddock/server/event_stream.hpp"

#include "paddock/server/json.hpp"

#include <vector>

namespace paddock::server {

EventStream::EventStream(const std::shared_ptr<EventHub>& events, WebSocketHub& hub)
    : hub_(hub), subscription_(events->subscribe([this](const VmEvent& e) { onEvent(e); })) {}

EventStream::~EventStream() { subscription_.reset(); }

std::string EventStream::frame(const VmEvent& event) {
    JsonWriter json;
    json.beginObject().field("type", "event").field("site", event.site);
    json.key("vm").stringOrNull(event.vm);
    json.field("kind", event.kind).field("event", event.event).field("state_code", event.state_code);
    json.key("readiness").stringOrNull(event.readiness);
    json.field("time_ms", event.time_ms);
    if (!event.detail.empty()) json.field("detail", event.detail);
    if (!event.operation.empty()) json.field("operation", event.operation);
    json.endObject();
    return json.str();
}

void EventStream::attach(std::unique_ptr<Transport> transport, const std::string& route, const std::string& owner) {
    const auto id = hub_.add(std::move(transport), route, owner, [this](WebSocketHub::ClientId closed) {
        std::lock_guard lock(mutex_);
        clients_.erase(closed);
    });
    if (id == 0) return;
    std::lock_guard lock(mutex_);
    clients_.insert(id);
}

void EventStream::onEvent(const VmEvent& event) {
    std::vector<WebSocketHub::ClientId> ids;
    {
        std::lock_guard lock(mutex_);
        if (clients_.empty()) return;
        ids.assign(clients_.begin(), clients_.end());
    }
    const std::string text = frame(event);
    std::vector<WebSocketHub::ClientId> gone;
    for (const auto id : ids)
        if (!hub_.sendText(id, text)) gone.push_back(id);
    if (gone.empty()) return;
    std::lock_guard lock(mutex_);
    for (const auto id : gone) clients_.erase(id);
}

}  // namespace paddock::server
