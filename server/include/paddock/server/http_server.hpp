// paddockd's HTTP/1.1 connection server. Connections wait in one epoll-driven I/O thread, not
// in worker threads: the I/O thread accepts, reads each request head and body into a buffer
// (non-blocking), and only a complete request goes to a worker; the worker's answer comes back
// to the I/O thread, which writes it and parks the connection again. A connection therefore
// holds a worker only while its handler runs, so idle keep-alive clients, slow senders and
// slow readers cost a file descriptor and a buffer, never a thread.
//
// Every connection's bytes go through a Transport (transport.hpp): plain TCP, or TLS when the
// server has a TlsContext (HTTPS). The TLS handshake is one more non-blocking phase on the I/O
// thread, so a slow or silent TLS client costs what a slow plain one does. A client that
// sends plain HTTP to the TLS port gets a plain-HTTP 400 saying so, then the close.
//
// Every phase has a deadline for the whole phase, not per read: the TLS handshake and the
// request head (both from accept, or the head from its first byte), the body, the keep-alive
// wait and the response write; a missed deadline closes the connection (a late head gets 408
// first). Connections are capped in total and per client address; a refused plain client gets a
// 503 JSON error before the close (a TLS one only the close). The worker queue is bounded too
// (503 "busy").
//
// The RequestHandler (the Dispatcher) is asked twice per request: admit() on the I/O thread
// when the head is complete (route, authentication, authorisation: must not block), so refused
// requests never make the server read their bodies; and invoke() on a worker with the body.
// A WebSocket route answers with Response::upgrade: the I/O thread writes the 101 and hands the
// connection's transport over (the WebSocketHub owns it from then on; WSS stays TLS).
//
// Metrics: paddock_http_open_connections, paddock_http_refused_connections_total{reason},
// paddock_http_timeouts_total{phase}, paddock_http_tls_handshake_failures_total{reason}
// (timeout, closed, plaintext, protocol).
// Thread-safe: start()/stop() from one controlling thread.
#pragma once

#include "paddock/server/http_exchange.hpp"

#include <Poco/Logger.h>
#include <Poco/Net/ServerSocket.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace paddock::server {

class TlsContext;

struct HttpServerLimits {
    size_t max_connections = 10000;           // open client connections in total
    size_t max_connections_per_client = 512;  // from one client address
    size_t max_head_bytes = 32 * 1024;        // request line + header fields (431 beyond)
    uint64_t max_body_bytes = 1024 * 1024;    // request body (413 beyond)
    std::chrono::milliseconds head_timeout{10000};
    std::chrono::milliseconds body_timeout{30000};
    std::chrono::milliseconds idle_timeout{30000};
    std::chrono::milliseconds write_timeout{30000};
    unsigned workers = 16;
    size_t max_queued_requests = 1024;  // complete requests waiting for a worker (503 beyond)
    size_t max_requests_per_connection = 10000;
    std::string server_header = "paddockd";
};

// What the server asks of the application. Both calls must not throw.
class RequestHandler {
public:
    virtual ~RequestHandler() = default;
    // I/O thread, once the head is parsed (x.head, x.peer set). True: admitted, read the body
    // and invoke(). False: x.response is the answer. Must not block.
    virtual bool admit(HttpExchange& x) = 0;
    // A worker thread, with x.request.body filled; sets x.response.
    virtual void invoke(HttpExchange& x) = 0;
    // After the answer is decided (any thread): metrics and the log line.
    virtual void record(const HttpExchange& x) = 0;
    // The answer for an error the server itself meets (timeouts, limits, malformed heads); `x`
    // is the request it is about, null before there is one (a refused connection).
    virtual Response errorAnswer(const Error& error, const HttpExchange* x) const = 0;
};

class HttpServer {
public:
    // `socket` is a bound, listening server socket; the server takes it over. `handler`,
    // `registry` and `logger` must outlive the server. With `tls` every connection is HTTPS.
    HttpServer(Poco::Net::ServerSocket socket, RequestHandler& handler, HttpServerLimits limits,
               prometheus::Registry& registry, Poco::Logger& logger, std::shared_ptr<const TlsContext> tls = nullptr);
    // Calls stop().
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    void start();
    // Stops accepting, lets requests in progress finish (up to `grace`), closes every connection
    // and joins the threads. Idempotent.
    void stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

    // Open client connections now (WebSockets handed over are no longer counted).
    size_t connections() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace paddock::server
