#include "paddock/server/terminal_bridge.hpp"

#include "paddock/core/terminal_session.hpp"
#include "paddock/server/json.hpp"

#include <rapidjson/document.h>

#include <mutex>

namespace paddock::server {

namespace {

// A resize control message, or nullopt when `text` is anything else (then it is keystrokes).
// The client chooses these bytes: parsed by the same bounded, iterative parser as request bodies.
std::optional<std::pair<uint16_t, uint16_t>> parseResize(const std::string& text) {
    if (text.size() < 2 || text.front() != '{' || text.back() != '}') return std::nullopt;
    auto parsed = parseJsonObject(text);
    if (!parsed) return std::nullopt;
    const rapidjson::Document& doc = parsed.value();
    if (!doc.HasMember("type") || !doc["type"].IsString() || std::string_view(doc["type"].GetString()) != "resize" ||
        !doc.HasMember("cols") || !doc["cols"].IsInt64() || !doc.HasMember("rows") || !doc["rows"].IsInt64())
        return std::nullopt;
    return std::make_pair(clampTerminalDimension(static_cast<long>(doc["cols"].GetInt64())),
                          clampTerminalDimension(static_cast<long>(doc["rows"].GetInt64())));
}

// One WebSocket client of one terminal session. Sink calls come from the terminal I/O thread;
// hub callbacks from the hub's thread.
class TerminalClient : public TerminalSink, public std::enable_shared_from_this<TerminalClient> {
public:
    TerminalClient(TerminalMux& mux, WebSocketHub& hub, TerminalProtocol protocol)
        : mux_(mux), hub_(hub), protocol_(protocol) {}

    void attach(std::unique_ptr<Transport> transport, const std::string& route, const std::string& owner,
                TerminalRequest request) {
        // Held until the session has an id, so a message arriving at once still finds it.
        std::lock_guard lock(mutex_);
        auto self = shared_from_this();
        WebSocketHub::Handlers handlers;
        handlers.onMessage = [self](WebSocketHub::ClientId, bool binary, std::string payload) {
            self->onMessage(binary, std::move(payload));
        };
        handlers.onDrained = [self](WebSocketHub::ClientId) { self->mux_.wake(self->session()); };
        handlers.onClosed = [self](WebSocketHub::ClientId) { self->mux_.end(self->session()); };
        client_ = hub_.add(std::move(transport), route, owner, std::move(handlers));
        if (client_ == 0) return;  // shutting down: the socket is closed already
        session_ = mux_.start(std::move(request), self);
    }

    size_t room() override { return hub_.room(client_, TerminalBridge::kHighWater); }

    void output(std::string_view bytes) override {
        if (protocol_ == TerminalProtocol::Native) {
            hub_.sendBinary(client_, bytes);
            return;
        }
        const std::string text = utf8_.feed(bytes);
        if (!text.empty()) hub_.sendText(client_, text);
    }

    void opened(const TerminalOpened& info) override {
        if (protocol_ != TerminalProtocol::Native) return;
        JsonWriter json;
        json.beginObject()
            .field("type", "session")
            .field("session_id", info.session_id)
            .key("host_key")
            .beginObject()
            .field("type", info.host_key.type)
            .field("fingerprint", info.host_key.fingerprint)
            .field("pinned_now", info.pinned_now)
            .endObject()
            .endObject();
        hub_.sendText(client_, json.str());
    }

    void closed(const Error* error) override {
        if (protocol_ == TerminalProtocol::Compat) {
            if (const std::string tail = utf8_.finish(); !tail.empty()) hub_.sendText(client_, tail);
        }
        if (error == nullptr) {
            hub_.close(client_, kWsCloseNormal, "terminal closed");
            return;
        }
        if (protocol_ == TerminalProtocol::Native) {
            JsonWriter json;
            json.beginObject()
                .field("type", "error")
                .field("code", errorCodeId(error->code))
                .field("message", error->message)
                .endObject();
            hub_.sendText(client_, json.str());
        } else {
            hub_.sendText(client_, "Error: " + error->message);
        }
        hub_.close(client_, kWsCloseInternalError, "terminal failed");
    }

private:
    TerminalMux::SessionId session() {
        std::lock_guard lock(mutex_);
        return session_;
    }

    void onMessage(bool binary, std::string payload) {
        const auto id = session();
        if (!binary) {
            if (const auto size = parseResize(payload)) {
                mux_.resize(id, size->first, size->second);
                return;
            }
        }
        mux_.input(id, payload);
    }

    TerminalMux& mux_;
    WebSocketHub& hub_;
    const TerminalProtocol protocol_;
    std::mutex mutex_;
    WebSocketHub::ClientId client_ = 0;  // set before the session starts, then constant
    TerminalMux::SessionId session_ = 0;
    Utf8Stream utf8_;  // terminal I/O thread only
};

}  // namespace

void TerminalBridge::attach(std::unique_ptr<Transport> transport, const std::string& route, const std::string& owner,
                            TerminalRequest request, TerminalProtocol protocol) {
    auto client = std::make_shared<TerminalClient>(mux_, hub_, protocol);
    client->attach(std::move(transport), route, owner, std::move(request));
}

}  // namespace paddock::server
