// Owns every open WebSocket after its upgrade, so no HTTP worker thread is held by a stream.
// One I/O thread polls all connections (non-blocking): it answers pings, completes close
// handshakes, writes queued frames as the connections accept them and drops closed ones. Each
// connection is the Transport the HttpServer handed over, so a WebSocket over TLS (WSS) reads
// and writes its frames through TLS like any other.
// Producers (any thread, including an EventHub publisher) only queue frames. Routes that take
// client data (the terminal) pass Handlers: messages and "queue drained" notices then arrive on
// the hub's thread, and room() lets a producer pace itself below the overflow limit.
// Each client has a bounded outbound queue; a client that lets it overflow is closed with
// 1008 and counted, so one slow reader never delays the others. Pongs do not queue: only the
// answer to the latest ping waits (RFC 6455 5.5.3), so pinging without reading costs nothing.
// Clients are capped in total and per owner (a token's name); the hub pings clients that have
// been quiet for ping_interval and closes those that stay silent past idle_timeout.
// Metrics: paddock_websocket_connections{route} (gauge), paddock_websocket_dropped_total{route,reason}.
// Thread-safe. Destroying the hub (or stop()) closes every client with 1001 and joins the thread.
#pragma once

#include "paddock/core/result.hpp"
#include "paddock/server/websocket_frame.hpp"

#include "paddock/server/transport.hpp"

#include <Poco/Logger.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace paddock::server {

struct WebSocketLimits {
    size_t maxQueuedFrames = 256;                   // data frames waiting per client
    size_t maxQueuedBytes = 1024 * 1024;            // bytes waiting per client
    int socketSendBuffer = 64 * 1024;               // SO_SNDBUF: what the kernel may hold per client
    uint64_t maxIncomingPayload = 64 * 1024;        // larger client frames close with 1009
    std::chrono::milliseconds closeTimeout{2000};   // wait for the peer's close before cutting
    size_t maxClients = 4096;                       // open WebSockets in total
    size_t maxClientsPerOwner = 256;                // per owner (add()'s `owner`, when not empty)
    std::chrono::milliseconds pingInterval{30000};  // quiet this long: the hub sends a ping
    std::chrono::milliseconds idleTimeout{90000};   // silent this long (no frame, no pong): closed
};

class WebSocketHub {
public:
    using ClientId = uint64_t;
    // Called once on the hub's thread when a client is gone, without any hub lock held. It
    // must be quick; it may call sendText/close (which then return false / do nothing).
    using ClosedCallback = std::function<void(ClientId)>;
    // A complete client message (fragments joined), `binary` for a binary one. Hub thread, no
    // hub lock held, in arrival order; quick, like ClosedCallback.
    using MessageCallback = std::function<void(ClientId, bool binary, std::string payload)>;
    // The queue went down to what the last short room() answer asked for. Hub thread, no lock.
    using DrainedCallback = std::function<void(ClientId)>;
    struct Handlers {
        ClosedCallback onClosed;
        MessageCallback onMessage;  // without it, client data frames are ignored
        DrainedCallback onDrained;
    };

    // `registry` and `logger` must outlive the hub.
    WebSocketHub(prometheus::Registry& registry, Poco::Logger& logger, WebSocketLimits limits = {});
    ~WebSocketHub();
    WebSocketHub(const WebSocketHub&) = delete;
    WebSocketHub& operator=(const WebSocketHub&) = delete;

    // Whether a client of `owner` (empty: counted in the total only) would be taken now.
    // TooManyRequests naming the limit when not: for refusing before the upgrade.
    Status admit(const std::string& owner) const;
    // Takes over an upgraded connection (its handshake done). `route` labels the metrics.
    // Returns the client's id (never 0); after stop(), or when a cap was reached meanwhile, the
    // connection is closed at once (1013) and 0 is returned.
    ClientId add(std::unique_ptr<Transport> transport, const std::string& route, const std::string& owner,
                 ClosedCallback onClosed = {});
    ClientId add(std::unique_ptr<Transport> transport, const std::string& route, const std::string& owner,
                 Handlers handlers);
    // Queues one text frame. False when the client is gone or closing, or was just dropped
    // because its queue is full. Never blocks on the network.
    bool sendText(ClientId id, std::string_view text);
    bool sendBinary(ClientId id, std::string_view bytes);
    // How many more bytes a producer pacing itself under `highWater` queued bytes may send now;
    // 0 when the client is gone or closing. An answer below highWater/2 arms onDrained for when
    // the queue is down to highWater/2 again, so a paused producer learns when to resume.
    size_t room(ClientId id, size_t highWater);
    // Sends a close frame after what is already queued; the connection ends when the peer
    // answers or after limits.closeTimeout.
    void close(ClientId id, uint16_t code, std::string_view reason);
    size_t size() const;
    // Closes all clients (1001) and joins the I/O thread. Idempotent.
    void stop();

private:
    struct Client;
    void run();
    void wake();
    // The following take the lock as held.
    void beginClose(Client& client, uint16_t code, std::string_view reason, bool discardQueued);
    void drop(Client& client, const char* reason, uint16_t code, std::string_view message);
    bool readFrom(Client& client);  // false: the connection is finished
    bool writeTo(Client& client);   // false: the connection is finished
    bool queueData(ClientId id, WsOpcode opcode, std::string_view payload);
    void noteDrained(Client& client);
    void keepAlive(Client& client, std::chrono::steady_clock::time_point now);
    Status admitLocked(const std::string& owner) const;

    WebSocketLimits limits_;
    Poco::Logger& logger_;
    prometheus::Family<prometheus::Gauge>& connections_;
    prometheus::Family<prometheus::Counter>& dropped_;
    mutable std::mutex mutex_;
    std::map<ClientId, std::unique_ptr<Client>> clients_;
    std::map<std::string, size_t> perOwner_;
    ClientId nextId_ = 1;
    struct Notice;  // a message or drained notice to deliver without the lock
    std::vector<Notice> notices_;
    bool stopping_ = false;
    int wakeFd_ = -1;
    std::thread thread_;
};

}  // namespace paddock::server
