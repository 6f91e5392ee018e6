// Poco's side of the server: one handler object per request that runs the pipeline
// parse URI -> route -> (WebSocket routes: Origin check) -> authenticate -> 404/405 -> authorize
// -> body limit -> handler -> (WebSocket routes: handshake, hand-over) -> metrics -> one log line.
// Every exception is caught and answered with 500. Never logs the Authorization header, query
// strings (a WebSocket token may be in one), tokens or bodies.
#pragma once

#include "paddock/server/auth.hpp"
#include "paddock/server/http_metrics.hpp"
#include "paddock/server/router.hpp"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <cstdint>
#include <string>
#include <vector>

namespace paddock::server {

// Shared by all request threads; everything it holds is read-only after construction or
// internally synchronised. All references must outlive the HTTPServer using it.
class Dispatcher {
public:
    // `allowedOrigins`: server.allowed_origins, for WebSocket upgrades.
    Dispatcher(const Router& router, const Authenticator& auth, HttpMetrics& metrics, uint64_t maxBodyBytes,
               Poco::Logger& logger, std::vector<std::string> allowedOrigins = {});
    void handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) const;

private:
    const Router& router_;
    const Authenticator& auth_;
    HttpMetrics& metrics_;
    uint64_t maxBodyBytes_;
    Poco::Logger& logger_;
    std::vector<std::string> allowedOrigins_;
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
