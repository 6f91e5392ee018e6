// Poco's side of the server: one handler object per request runs the request through named
// stages, each a small function with one job:
//   parse      URI and route match
//   authenticate  WebSocket Origin check; bearer token (or `access_token` on WebSocket routes),
//              or a one-time console ticket on the routes that accept one (redeemed here, the
//              only place tickets are redeemed) -> Request::identity, Request::grant
//   authorize  404/405, the route's minimum role unless a ticket grants it, upgrade requests
//   read body  size limits (413)
//   invoke     the handler; WebSocket hand-over; exceptions become 500 here and nowhere else
//   write      drain an unread body, send the response
//   record     HTTP metrics and one log line
// Never logs the Authorization header, query strings (a WebSocket token or ticket may be in
// one), tokens or bodies.
#pragma once

#include "paddock/server/auth.hpp"
#include "paddock/server/http_metrics.hpp"
#include "paddock/server/router.hpp"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace paddock::server {

// Consumes a one-time console ticket presented for the VM `vm` (see ConsoleTickets::redeem).
using TicketRedeemer = std::function<Result<ConsoleGrant>(const std::string& ticket, const std::string& vm)>;

// Shared by all request threads; everything it holds is read-only after construction or
// internally synchronised. All references must outlive the HTTPServer using it.
class Dispatcher {
public:
    struct Options {
        uint64_t max_body_bytes = 1024 * 1024;
        std::vector<std::string> allowed_origins;   // server.allowed_origins, for WebSocket upgrades
        TicketRedeemer redeem_ticket;               // empty: no route accepts tickets
    };

    Dispatcher(const Router& router, const Authenticator& auth, HttpMetrics& metrics, Poco::Logger& logger,
               Options options);
    void handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) const;

private:
    struct Exchange;
    // A stage's verdict: nothing (go on to the next stage) or the answer that ends the request.
    using Verdict = std::optional<Response>;
    Verdict parse(Exchange& x) const;
    Verdict authenticate(Exchange& x) const;
    Verdict authorize(Exchange& x) const;
    Verdict readBody(Exchange& x) const;
    void invoke(Exchange& x) const;
    void write(Exchange& x) const;
    void record(const Exchange& x) const;

    const Router& router_;
    const Authenticator& auth_;
    HttpMetrics& metrics_;
    Poco::Logger& logger_;
    Options options_;
};

// Hands every request to the Dispatcher. Owned by the HTTPServer.
class DispatcherFactory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit DispatcherFactory(const Dispatcher& dispatcher) : dispatcher_(dispatcher) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override;

private:
    const Dispatcher& dispatcher_;
};

}  // namespace paddock::server
