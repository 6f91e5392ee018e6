#include "paddock/server/websocket_hub.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <vector>

namespace paddock::server {

struct WebSocketHub::Client {
    ClientId id = 0;
    std::unique_ptr<Transport> transport;
    int fd = -1;
    std::string route;
    std::string owner;  // empty: counted in the total only
    std::shared_ptr<const Handlers> handlers;
    prometheus::Gauge* gauge = nullptr;
    WsFrameDecoder decoder;
    std::deque<std::string> outbound;  // encoded frames; the front may be partly written
    size_t frontWritten = 0;
    // The front was handed to the transport and is not all out: it must be finished before any
    // other frame (a TLS write to repeat must start with the same bytes, see transport.hpp).
    bool frontStarted = false;
    size_t queuedBytes = 0;
    size_t queuedDataFrames = 0;
    bool closing = false;    // our close frame is queued: no more data frames
    bool writeShut = false;  // our close frame is out; waiting for the peer
    std::chrono::steady_clock::time_point closeDeadline{};
    std::string message;  // a fragmented client message being joined
    bool messageBinary = false;
    size_t drainedBelow = SIZE_MAX;          // armed by room(): notify once queuedBytes <= this
    std::optional<std::string> pendingPong;  // the answer to the latest unanswered ping
    std::chrono::steady_clock::time_point lastHeard = std::chrono::steady_clock::now();
    bool pinged = false;  // our keep-alive ping is out, not yet answered

    Client(std::unique_ptr<Transport> t, uint64_t maxPayload)
        : transport(std::move(t)), fd(transport->fd()), decoder(maxPayload) {}
    void queue(std::string frame, bool isData) {
        queuedBytes += frame.size();
        if (isData) ++queuedDataFrames;
        outbound.push_back(std::move(frame));
    }
};

struct WebSocketHub::Notice {
    ClientId id = 0;
    std::shared_ptr<const Handlers> handlers;
    bool drained = false;  // else a message
    bool binary = false;
    std::string payload;
};

WebSocketHub::WebSocketHub(prometheus::Registry& registry, Poco::Logger& logger, WebSocketLimits limits)
    : limits_(limits),
      logger_(logger),
      connections_(prometheus::BuildGauge()
                       .Name("paddock_websocket_connections")
                       .Help("Open WebSocket connections by route")
                       .Register(registry)),
      dropped_(prometheus::BuildCounter()
                   .Name("paddock_websocket_dropped_total")
                   .Help("WebSocket clients closed by the server, by route and reason")
                   .Register(registry)) {
    wakeFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeFd_ < 0) throw std::runtime_error("eventfd failed");
    thread_ = std::thread([this] { run(); });
}

WebSocketHub::~WebSocketHub() {
    stop();
    ::close(wakeFd_);
}

void WebSocketHub::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && !thread_.joinable()) return;
        stopping_ = true;
        for (auto& [id, client] : clients_) beginClose(*client, kWsCloseGoingAway, "server shutting down", true);
    }
    wake();
    if (thread_.joinable()) thread_.join();
}

void WebSocketHub::wake() {
    const uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wakeFd_, &one, sizeof one);
}

Status WebSocketHub::admit(const std::string& owner) const {
    std::lock_guard lock(mutex_);
    return admitLocked(owner);
}

Status WebSocketHub::admitLocked(const std::string& owner) const {
    if (clients_.size() >= limits_.maxClients)
        return makeError(ErrorCode::TooManyRequests,
                         "too many open WebSockets (server.max_websockets " + std::to_string(limits_.maxClients) + ")");
    if (!owner.empty()) {
        const auto it = perOwner_.find(owner);
        if (it != perOwner_.end() && it->second >= limits_.maxClientsPerOwner)
            return makeError(ErrorCode::TooManyRequests, "'" + owner + "' has " + std::to_string(it->second) +
                                                             " WebSockets open (server.max_websockets_per_token " +
                                                             std::to_string(limits_.maxClientsPerOwner) + ")");
    }
    return {};
}

WebSocketHub::ClientId WebSocketHub::add(std::unique_ptr<Transport> transport, const std::string& route,
                                         const std::string& owner, ClosedCallback onClosed) {
    return add(std::move(transport), route, owner, Handlers{std::move(onClosed), {}, {}});
}

WebSocketHub::ClientId WebSocketHub::add(std::unique_ptr<Transport> transport, const std::string& route,
                                         const std::string& owner, Handlers handlers) {
    auto client = std::make_unique<Client>(std::move(transport), limits_.maxIncomingPayload);
    client->route = route;
    client->owner = owner;
    client->handlers = std::make_shared<const Handlers>(std::move(handlers));
    // Non-blocking so a reader that stopped reading costs us queue space, never time.
    ::fcntl(client->fd, F_SETFL, ::fcntl(client->fd, F_GETFL) | O_NONBLOCK);
    if (limits_.socketSendBuffer > 0)
        ::setsockopt(client->fd, SOL_SOCKET, SO_SNDBUF, &limits_.socketSendBuffer, sizeof limits_.socketSendBuffer);
    const int on = 1;
    ::setsockopt(client->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);

    std::lock_guard lock(mutex_);
    // admit() was asked before the upgrade; others may have taken the room since.
    const bool full = !admitLocked(owner).ok();
    if (stopping_ || full) {
        if (full) {
            dropped_.Add({{"route", route}, {"reason", "cap"}}).Increment();
            client->transport->write(encodeWsClose(kWsCloseTryAgainLater, "too many WebSockets"));  // best effort
        }
        return 0;  // `client` closes the connection
    }
    if (!owner.empty()) ++perOwner_[owner];
    client->id = nextId_++;
    client->gauge = &connections_.Add({{"route", route}});
    client->gauge->Increment();
    const ClientId id = client->id;
    clients_.emplace(id, std::move(client));
    wake();
    return id;
}

bool WebSocketHub::sendText(ClientId id, std::string_view text) { return queueData(id, WsOpcode::Text, text); }

bool WebSocketHub::sendBinary(ClientId id, std::string_view bytes) { return queueData(id, WsOpcode::Binary, bytes); }

size_t WebSocketHub::room(ClientId id, size_t highWater) {
    std::lock_guard lock(mutex_);
    const auto it = clients_.find(id);
    if (it == clients_.end() || it->second->closing) return 0;
    Client& client = *it->second;
    // Many tiny frames (keystroke echoes) can fill the frame limit long before the byte limit.
    size_t room = client.queuedDataFrames * 2 >= limits_.maxQueuedFrames ? 0
                  : client.queuedBytes < highWater                       ? highWater - client.queuedBytes
                                                                         : 0;
    const size_t hardLimit = limits_.maxQueuedBytes > 64 ? limits_.maxQueuedBytes - 64 : 0;
    room = std::min(room, client.queuedBytes < hardLimit ? hardLimit - client.queuedBytes : 0);
    if (room < highWater / 2) client.drainedBelow = highWater / 2;
    return room;
}

void WebSocketHub::noteDrained(Client& client) {
    if (client.drainedBelow == SIZE_MAX || client.queuedBytes > client.drainedBelow ||
        client.queuedDataFrames * 4 > limits_.maxQueuedFrames)
        return;
    client.drainedBelow = SIZE_MAX;
    if (client.handlers->onDrained) notices_.push_back(Notice{client.id, client.handlers, true, false, {}});
}

bool WebSocketHub::queueData(ClientId id, WsOpcode opcode, std::string_view text) {
    std::lock_guard lock(mutex_);
    const auto it = clients_.find(id);
    if (it == clients_.end() || it->second->closing) return false;
    Client& client = *it->second;
    const size_t frameSize = text.size() + 10;
    if (client.queuedDataFrames + 1 > limits_.maxQueuedFrames ||
        client.queuedBytes + frameSize > limits_.maxQueuedBytes) {
        drop(client, "queue_overflow", kWsClosePolicyViolation, "client too slow: send queue full");
        return false;
    }
    const bool wasIdle = client.outbound.empty();
    client.queue(encodeWsFrame(opcode, text), true);
    if (wasIdle) wake();
    return true;
}

void WebSocketHub::close(ClientId id, uint16_t code, std::string_view reason) {
    std::lock_guard lock(mutex_);
    const auto it = clients_.find(id);
    if (it == clients_.end()) return;
    beginClose(*it->second, code, reason, false);
    wake();
}

size_t WebSocketHub::size() const {
    std::lock_guard lock(mutex_);
    return clients_.size();
}

void WebSocketHub::beginClose(Client& client, uint16_t code, std::string_view reason, bool discardQueued) {
    if (client.closing) return;
    if (discardQueued) {
        // A started frame must still be finished, or the stream is no longer framed.
        while (client.outbound.size() > (client.frontStarted ? 1 : 0)) {
            client.queuedBytes -= client.outbound.back().size();
            client.outbound.pop_back();
        }
        client.queuedDataFrames = client.outbound.empty() ? 0 : 1;
    }
    client.queue(encodeWsClose(code, reason), false);
    client.closing = true;
    client.closeDeadline = std::chrono::steady_clock::now() + limits_.closeTimeout;
}

void WebSocketHub::drop(Client& client, const char* reason, uint16_t code, std::string_view message) {
    dropped_.Add({{"route", client.route}, {"reason", reason}}).Increment();
    logger_.warning("websocket client %s on %s dropped: %s", std::to_string(client.id), client.route,
                    std::string(reason));
    beginClose(client, code, message, true);
    wake();
}

// Quiet clients get a ping; silent ones (no frame, not even a pong) are dead and go.
void WebSocketHub::keepAlive(Client& client, std::chrono::steady_clock::time_point now) {
    if (client.closing) return;
    const auto quiet = now - client.lastHeard;
    if (quiet >= limits_.idleTimeout) {
        drop(client, "idle_timeout", kWsCloseGoingAway, "no answer to pings");
    } else if (quiet >= limits_.pingInterval && !client.pinged) {
        client.queue(encodeWsFrame(WsOpcode::Ping, "paddock"), false);
        client.pinged = true;
    }
}

// Reads until the transport has nothing more, so no decoded TLS record is left behind unpolled.
bool WebSocketHub::readFrom(Client& client) {
    char buffer[16 * 1024];
    while (true) {
        const IoResult r = client.transport->read(buffer, sizeof buffer);
        if (r.status == IoStatus::WantRead || r.status == IoStatus::WantWrite) return true;
        if (r.status != IoStatus::Done) return false;  // the peer is gone, or the connection broke
        if (client.writeShut) continue;                // our close is out: anything but EOF is ignored
        client.decoder.feed(std::string_view(buffer, r.bytes));
        while (auto frame = client.decoder.next()) {
            client.lastHeard = std::chrono::steady_clock::now();
            client.pinged = false;
            switch (frame->opcode) {
                case WsOpcode::Ping:
                    if (!client.closing) client.pendingPong = std::move(frame->payload);
                    break;
                case WsOpcode::Close:
                    if (client.closing) return false;  // the answer to our close: done
                    // Echo the peer's code (RFC 6455 5.5.1), then finish once it is written.
                    client.queue(encodeWsFrame(WsOpcode::Close, frame->payload.substr(0, 2)), false);
                    client.closing = true;
                    client.closeDeadline = std::chrono::steady_clock::now() + limits_.closeTimeout;
                    break;
                case WsOpcode::Text:
                case WsOpcode::Binary:
                case WsOpcode::Continuation:
                    if (!client.handlers->onMessage || client.closing) break;  // server-to-client streams ignore data
                    if (frame->opcode == WsOpcode::Continuation) {
                        client.message += frame->payload;
                    } else {
                        client.message = std::move(frame->payload);
                        client.messageBinary = frame->opcode == WsOpcode::Binary;
                    }
                    if (client.message.size() > limits_.maxIncomingPayload) {
                        client.message.clear();
                        drop(client, "message_too_big", kWsCloseTooBig, "message too big");
                        break;
                    }
                    if (frame->fin) {
                        notices_.push_back(
                            Notice{client.id, client.handlers, false, client.messageBinary, std::move(client.message)});
                        client.message.clear();
                    }
                    break;
                default: break;
            }
        }
        if (client.decoder.errorCode() != 0 && !client.closing)
            drop(client, "protocol_error", client.decoder.errorCode(), client.decoder.errorReason());
    }
}

bool WebSocketHub::writeTo(Client& client) {
    // A pong goes between frames, never inside one.
    if (client.pendingPong && !client.frontStarted) {
        std::string pong = encodeWsFrame(WsOpcode::Pong, *client.pendingPong);
        client.pendingPong.reset();
        client.queuedBytes += pong.size();
        client.outbound.push_front(std::move(pong));
    }
    while (!client.outbound.empty()) {
        const std::string& front = client.outbound.front();
        client.frontStarted = true;
        const IoResult r = client.transport->write(std::string_view(front).substr(client.frontWritten));
        if (r.status == IoStatus::WantRead || r.status == IoStatus::WantWrite) return true;
        if (r.status != IoStatus::Done) return false;
        client.frontWritten += r.bytes;
        if (client.frontWritten < front.size()) return true;
        client.queuedBytes -= front.size();
        // The close frame is the only non-data frame that can be last; pongs are short.
        if (client.queuedDataFrames > 0 && !(front.size() >= 2 && (static_cast<uint8_t>(front[0]) & 0x08) != 0))
            --client.queuedDataFrames;
        client.outbound.pop_front();
        client.frontWritten = 0;
        client.frontStarted = false;
    }
    if (client.closing && !client.writeShut) {
        client.writeShut = true;
        client.transport->shutdownWrite();
    }
    return true;
}

void WebSocketHub::run() {
    std::vector<pollfd> fds;
    std::vector<ClientId> ids;
    std::vector<Notice> notices;
    while (true) {
        int timeoutMs = 1000;
        {
            std::lock_guard lock(mutex_);
            if (stopping_ && clients_.empty()) return;
            fds.assign(1, pollfd{wakeFd_, POLLIN, 0});
            ids.assign(1, 0);
            const auto now = std::chrono::steady_clock::now();
            for (auto& [id, client] : clients_) {
                keepAlive(*client, now);
                // A TLS read that must write first waits for room, a TLS write that must read
                // first for input (transport.hpp).
                const Transport& t = *client->transport;
                const bool sending = !client->outbound.empty() || client->pendingPong;
                short events = 0;
                if (!t.wantsWrite() || t.writeWantsRead()) events |= POLLIN;
                if ((sending && !t.writeWantsRead()) || t.wantsWrite()) events |= POLLOUT;
                fds.push_back(pollfd{client->fd, events, 0});
                ids.push_back(id);
                if (client->closing) {
                    const auto left =
                        std::chrono::duration_cast<std::chrono::milliseconds>(client->closeDeadline - now).count();
                    timeoutMs = std::max(0, std::min(timeoutMs, static_cast<int>(left) + 1));
                }
            }
        }
        ::poll(fds.data(), fds.size(), timeoutMs);
        if (fds[0].revents & POLLIN) {
            uint64_t counter = 0;
            [[maybe_unused]] const auto n = ::read(wakeFd_, &counter, sizeof counter);
        }

        std::vector<std::unique_ptr<Client>> finished;
        {
            std::lock_guard lock(mutex_);
            const auto now = std::chrono::steady_clock::now();
            for (size_t i = 1; i < fds.size(); ++i) {
                const auto it = clients_.find(ids[i]);
                if (it == clients_.end()) continue;
                Client& client = *it->second;
                bool alive = true;
                const short ready = fds[i].revents;
                const bool readable = (ready & (POLLIN | POLLHUP | POLLERR)) != 0;
                const bool writable = (ready & (POLLOUT | POLLHUP | POLLERR)) != 0;
                if (client.transport->wantsWrite() ? writable : readable) alive = readFrom(client);
                if (alive && (fds[i].revents & POLLNVAL)) alive = false;
                if (alive && (!client.outbound.empty() || client.pendingPong)) alive = writeTo(client);
                if (alive && client.closing && client.outbound.empty() && !client.writeShut) alive = writeTo(client);
                if (alive && client.closing && now >= client.closeDeadline) alive = false;
                if (alive) noteDrained(client);
                if (!alive) {
                    finished.push_back(std::move(it->second));
                    clients_.erase(it);
                }
            }
            // Frames queued since poll() started were never polled for POLLOUT; try them now.
            for (auto it = clients_.begin(); it != clients_.end();) {
                Client& client = *it->second;
                if ((!client.outbound.empty() || client.pendingPong) && !client.frontStarted && !writeTo(client)) {
                    finished.push_back(std::move(it->second));
                    it = clients_.erase(it);
                } else {
                    noteDrained(client);
                    ++it;
                }
            }
            notices.swap(notices_);
        }
        for (auto& notice : notices) {
            if (notice.drained)
                notice.handlers->onDrained(notice.id);
            else
                notice.handlers->onMessage(notice.id, notice.binary, std::move(notice.payload));
        }
        notices.clear();
        for (auto& client : finished) {
            client->gauge->Decrement();
            if (!client->owner.empty()) {
                std::lock_guard lock(mutex_);
                if (auto it = perOwner_.find(client->owner); it != perOwner_.end() && --it->second == 0)
                    perOwner_.erase(it);
            }
            client->transport.reset();  // closes the connection
            if (client->handlers->onClosed) client->handlers->onClosed(client->id);
        }
    }
}

}  // namespace paddock::server
