#include "paddock/server/terminal_bridge.hpp"

#include "paddock/core/terminal_session.hpp"
#include "paddock/server/json.hpp"

#include <rapidjson/document.h>

#include <mutex>

namespace paddock::server {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

bool isContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Bytes the sequence starting with `lead` needs, and the allowed range of its second byte
// (RFC 3629 table: excludes overlongs, surrogates and code points above U+10FFFF); 0 if invalid.
size_t sequenceLength(unsigned char lead, unsigned char& low, unsigned char& high) {
    low = 0x80;
    high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) return 2;
    if (lead >= 0xE0 && lead <= 0xEF) {
        if (lead == 0xE0) low = 0xA0;
        if (lead == 0xED) high = 0x9F;
        return 3;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        if (lead == 0xF0) low = 0x90;
        if (lead == 0xF4) high = 0x8F;
        return 4;
    }
    return 0;
}

// A resize control message, or nullopt when `text` is anything else (then it is keystrokes).
std::optional<std::pair<uint16_t, uint16_t>> parseResize(const std::string& text) {
    if (text.size() < 2 || text.front() != '{' || text.back() != '}') return std::nullopt;
    rapidjson::Document doc;
    doc.Parse(text.c_str(), text.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("type") || !doc["type"].IsString() ||
        std::string_view(doc["type"].GetString()) != "resize" || !doc.HasMember("cols") || !doc["cols"].IsInt64() ||
        !doc.HasMember("rows") || !doc["rows"].IsInt64())
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

    void attach(Poco::Net::StreamSocket& socket, const std::string& route, TerminalRequest request) {
        // Held until the session has an id, so a message arriving at once still finds it.
        std::lock_guard lock(mutex_);
        auto self = shared_from_this();
        WebSocketHub::Handlers handlers;
        handlers.onMessage = [self](WebSocketHub::ClientId, bool binary, std::string payload) {
            self->onMessage(binary, std::move(payload));
        };
        handlers.onDrained = [self](WebSocketHub::ClientId) { self->mux_.wake(self->session()); };
        handlers.onClosed = [self](WebSocketHub::ClientId) { self->mux_.end(self->session()); };
        client_ = hub_.add(socket, route, std::move(handlers));
        if (client_ == 0) return;   // shutting down: the socket is closed already
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
            json.beginObject().field("type", "error").field("code", errorCodeId(error->code)).field("message", error->message).endObject();
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
    WebSocketHub::ClientId client_ = 0;      // set before the session starts, then constant
    TerminalMux::SessionId session_ = 0;
    Utf8Stream utf8_;                        // terminal I/O thread only
};

}  // namespace

std::string Utf8Stream::feed(std::string_view bytes) {
    std::string data = std::move(pending_);
    pending_.clear();
    data.append(bytes);
    std::string out;
    out.reserve(data.size());
    size_t i = 0;
    while (i < data.size()) {
        const auto c = static_cast<unsigned char>(data[i]);
        if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        unsigned char low = 0, high = 0;
        const size_t length = sequenceLength(c, low, high);
        if (length == 0) {
            out += kReplacement;
            ++i;
            continue;
        }
        size_t valid = 1;   // bytes of the sequence that are fine so far
        while (valid < length && i + valid < data.size()) {
            const auto next = static_cast<unsigned char>(data[i + valid]);
            const bool ok = valid == 1 ? (next >= low && next <= high) : isContinuation(next);
            if (!ok) break;
            ++valid;
        }
        if (valid == length) {
            out.append(data, i, length);
            i += length;
        } else if (i + valid == data.size()) {
            pending_ = data.substr(i);   // the rest of this character is still on its way
            break;
        } else {
            out += kReplacement;
            i += valid;
        }
    }
    return out;
}

std::string Utf8Stream::finish() {
    if (pending_.empty()) return {};
    pending_.clear();
    return std::string(kReplacement);
}

void TerminalBridge::attach(Poco::Net::StreamSocket& socket, const std::string& route, TerminalRequest request,
                            TerminalProtocol protocol) {
    auto client = std::make_shared<TerminalClient>(mux_, hub_, protocol);
    client->attach(socket, route, std::move(request));
}

}  // namespace paddock::server
