// The request pipeline, as named stages, each a small function with one job:
//   parse         the request-target into path and query, the route match, the headers
//   authenticate  WebSocket Origin check; bearer token (or `access_token` on WebSocket routes),
//                 or a one-time console ticket on the routes that accept one (redeemed here, the
//                 only place tickets are redeemed) -> Request::identity, Request::grant
//   authorize     404/405, the route's minimum role unless a ticket grants it, JSON bodies
//                 only (415), an upgrade request and room for it on WebSocket routes (the
//                 handshake itself is checked before the 101)
//   read body     (the HttpServer, with its size limit and deadline)
//   invoke        the handler; exceptions become 500 here and nowhere else
//   write         (the HttpServer; a WebSocket is handed over after the 101)
//   record        HTTP metrics and one log line
// admit() runs parse, authenticate and authorize on the HttpServer's I/O thread as soon as a
// head is complete, so a refused request never has its body read; none of them blocks.
// Never logs the Authorization header, query strings (a WebSocket token or ticket may be in
// one), tokens or bodies.
#pragma once

#include "paddock/server/auth.hpp"
#include "paddock/server/http_metrics.hpp"
#include "paddock/server/http_server.hpp"
#include "paddock/server/router.hpp"

#include <Poco/Logger.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace paddock::server {

// Consumes a one-time console ticket presented for the VM `vm` (see ConsoleTickets::redeem).
using TicketRedeemer = std::function<Result<ConsoleGrant>(const std::string& ticket, const std::string& vm)>;

// Shared by all threads; everything it holds is read-only after construction or internally
// synchronised. All references must outlive the HttpServer using it.
class Dispatcher final : public RequestHandler {
public:
    struct Options {
        std::vector<std::string> allowed_origins;  // server.allowed_origins, for WebSocket upgrades
        std::vector<std::string> allowed_hosts;    // server.allowed_hosts: empty allows any Host
        TicketRedeemer redeem_ticket;              // empty: no route accepts tickets
        // Asked before a WebSocket route runs (e.g. the hub's caps); empty: always admitted.
        std::function<Status(const Request&)> admit_websocket;
        // Whether a token-less request from this peer address may use guest-facing routes
        // (Route::guests); empty: no guests.
        std::function<bool(std::string_view peer)> guest_source;
    };

    Dispatcher(const Router& router, const Authenticator& auth, HttpMetrics& metrics, Poco::Logger& logger,
               Options options);

    bool admit(HttpExchange& x) override;
    void invoke(HttpExchange& x) override;
    void record(const HttpExchange& x) override;
    Response errorAnswer(const Error& error, const HttpExchange* x) const override;

private:
    // A stage's verdict: nothing (go on to the next stage) or the answer that ends the request.
    using Verdict = std::optional<Response>;
    Verdict parse(HttpExchange& x, RouteMatch& match) const;
    Verdict authenticate(HttpExchange& x, const RouteMatch& match) const;
    Verdict authorize(HttpExchange& x, RouteMatch& match) const;

    const Router& router_;
    const Authenticator& auth_;
    HttpMetrics& metrics_;
    Poco::Logger& logger_;
    Options options_;
};

}  // namespace paddock::server
