#include "paddock/server/dispatcher.hpp"

#include "paddock/server/body_limit.hpp"
#include "paddock/server/error_mapping.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <chrono>
#include <optional>
#include <sstream>

namespace paddock::server {

namespace {

// Requests refused before their body was read still have it on the wire. Up to this much is
// read and dropped so the client sees our answer and the connection stays usable; beyond it
// the connection is closed instead.
constexpr uint64_t kDrainCap = 1024 * 1024;

class DispatchingHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit DispatchingHandler(const Dispatcher& dispatcher) : dispatcher_(dispatcher) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
        dispatcher_.handle(request, response);
    }

private:
    const Dispatcher& dispatcher_;
};

// Paths come from the client: keep control characters out of the log.
std::string printable(const std::string& text) {
    std::string out = text.empty() ? std::string("?") : text;
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return out;
}

// Methods are client-chosen tokens; label only the standard ones to bound metric cardinality.
std::string methodLabel(const std::string& method) {
    for (const char* known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
        if (method == known) return method;
    return "other";
}

bool isWebSocketHandshake(const Poco::Net::HTTPServerRequest& request) {
    return Poco::icompare(request.get("Upgrade", ""), "websocket") == 0;
}

struct Outcome {
    Response response;
    bool upgraded = false;              // the socket now belongs to a WebSocket stream
    bool bodyConsumed = false;
    bool closeConnection = false;
    std::string logDetail;   // why a 5xx happened
};

}  // namespace

Poco::Net::HTTPRequestHandler* DispatcherFactory::createRequestHandler(const Poco::Net::HTTPServerRequest&) {
    return new DispatchingHandler(dispatcher_);
}

Dispatcher::Dispatcher(const Router& router, const Authenticator& auth, HttpMetrics& metrics, uint64_t maxBodyBytes,
                       Poco::Logger& logger, std::vector<std::string> allowedOrigins)
    : router_(router),
      auth_(auth),
      metrics_(metrics),
      maxBodyBytes_(maxBodyBytes),
      logger_(logger),
      allowedOrigins_(std::move(allowedOrigins)) {}

void Dispatcher::handle(Poco::Net::HTTPServerRequest& httpRequest, Poco::Net::HTTPServerResponse& httpResponse) const {
    const auto started = std::chrono::steady_clock::now();
    Request request;
    request.method = httpRequest.getMethod();
    std::string routeLabel = "unmatched";
    // RFC 9112: without Content-Length or chunked coding a request has no body.
    const std::optional<uint64_t> declaredLength =
        httpRequest.hasContentLength() ? std::optional<uint64_t>(httpRequest.getContentLength64()) : std::nullopt;
    const bool hasBody = httpRequest.getChunkedTransferEncoding() || declaredLength.value_or(0) > 0;
    Outcome outcome;
    outcome.bodyConsumed = !hasBody;

    const auto run = [&]() -> Result<Response> {
        try {
            const Poco::URI uri(httpRequest.getURI());
            request.path = uri.getPath();
            for (auto& [name, value] : uri.getQueryParameters()) request.query[name] = value;
        } catch (const Poco::Exception& e) {
            return makeError(ErrorCode::InvalidArgument, "malformed request URI: " + e.message());
        }

        // HEAD is GET without the body (the body is dropped when sending).
        auto match = router_.match(request.method == "HEAD" ? "GET" : request.method, request.path);
        if (match.kind == RouteMatch::Kind::Found) routeLabel = match.route->pattern;
        const bool websocket = match.kind == RouteMatch::Kind::Found && match.route->websocket;
        std::string authorization = httpRequest.get("Authorization", "");
        if (websocket) {
            // Browsers send cookies and Origin, never our token, on a cross-site WebSocket:
            // refuse foreign pages before anything else.
            if (httpRequest.has("Origin") && !originAllowed(httpRequest.get("Origin"), httpRequest.getHost(), allowedOrigins_))
                return makeError(ErrorCode::Forbidden, "WebSocket from this Origin is not allowed (server.allowed_origins)");
            if (authorization.empty()) {
                if (const auto token = request.queryValue("access_token")) authorization = "Bearer " + *token;
            }
        }
        // A console ticket stands in for a token on the routes that take one; they redeem it.
        const bool byTicket = websocket && match.route->acceptsTicket && authorization.empty() && request.query.count("ticket") != 0;
        auto identity = byTicket ? Result<Identity>(Identity{"console-ticket", Role::Viewer})
                                 : auth_.authenticate(request.path, authorization);
        if (!identity) return std::move(identity).error();
        request.identity = std::move(identity.value());
        for (const auto& [name, value] : httpRequest) {
            const std::string lower = Poco::toLower(name);
            if (lower != "authorization" && lower != "cookie") request.headers[lower] = value;
        }

        if (match.kind == RouteMatch::Kind::NotFound)
            return makeError(ErrorCode::NotFound, "no route for " + request.method + " " + request.path);
        if (match.kind == RouteMatch::Kind::MethodNotAllowed)
            return methodNotAllowedResponse(request.method, joinMethods(match.allowedMethods));

        const Route& route = *match.route;
        request.route = route.pattern;
        request.params = std::move(match.params);
        if (auto allowed = authorize(request.identity, route.minimumRole); !allowed && !byTicket) return std::move(allowed).error();
        if (route.websocket && !isWebSocketHandshake(httpRequest))
            return makeError(ErrorCode::InvalidArgument, "this route is a WebSocket: send an upgrade request (Upgrade: websocket)");

        if (hasBody) {
            if (auto ok = checkDeclaredLength(declaredLength, maxBodyBytes_); !ok) return std::move(ok).error();
            auto body = readLimitedBody(httpRequest.stream(), maxBodyBytes_);
            if (!body) return std::move(body).error();   // the rest is drained (or the connection closed) below
            outcome.bodyConsumed = true;
            request.body = std::move(body.value());
        }
        return route.handler(request);
    };

    try {
        auto result = run();
        outcome.response = result ? std::move(result.value()) : errorResponse(result.error());
        if (!result && outcome.response.status >= 500) outcome.logDetail = result.error().message;
        if (outcome.response.upgrade) {
            auto handOver = std::move(outcome.response.upgrade);
            try {
                // Sends 101 and detaches the socket from this HTTP connection, so the worker
                // thread is free again as soon as the stream has taken the socket.
                Poco::Net::WebSocket socket(httpRequest, httpResponse);
                outcome.upgraded = true;
                outcome.response = Response{};
                outcome.response.status = 101;
                handOver(socket);
            } catch (const Poco::Net::WebSocketException& e) {
                if (outcome.upgraded) throw;
                outcome.response = errorResponse(makeError(ErrorCode::InvalidArgument, "WebSocket handshake refused: " + e.message()));
            }
        }
    } catch (const Poco::Exception& e) {
        outcome.response = internalErrorResponse(e.displayText());
        outcome.logDetail = "exception: " + e.displayText();
    } catch (const std::exception& e) {
        outcome.response = internalErrorResponse(e.what());
        outcome.logDetail = std::string("exception: ") + e.what();
    } catch (...) {
        outcome.response = internalErrorResponse("unknown exception");
        outcome.logDetail = "unknown exception";
    }

    try {
        if (!outcome.bodyConsumed && !outcome.upgraded)
            outcome.closeConnection = declaredLength.value_or(0) > kDrainCap || !discardBody(httpRequest.stream(), kDrainCap);
    } catch (const std::exception&) {
        outcome.closeConnection = true;
    }

    const Response& response = outcome.response;
    if (!outcome.upgraded) {   // an upgrade has already answered 101
        try {
            httpResponse.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(response.status));
            httpResponse.setContentType(response.contentType);
            for (const auto& [name, value] : response.headers) httpResponse.set(name, value);
            if (outcome.closeConnection) httpResponse.setKeepAlive(false);
            if (request.method == "HEAD") {
                httpResponse.setContentLength64(static_cast<Poco::Int64>(response.body.size()));
                httpResponse.send();
            } else {
                httpResponse.sendBuffer(response.body.data(), response.body.size());
            }
        } catch (const std::exception& e) {
            logger_.debug("could not send the response: %s", std::string(e.what()));
        }
    }

    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics_.observe(routeLabel, methodLabel(request.method), response.status, seconds);
    std::ostringstream line;
    line.precision(1);
    line << std::fixed << printable(request.method) << ' ' << printable(request.path) << ' '
         << response.status << ' ' << seconds * 1000.0 << "ms actor=" << request.identity.name;
    if (!outcome.logDetail.empty()) line << " error=\"" << outcome.logDetail << '"';
    if (response.status >= 500) logger_.error(line.str());
    else logger_.information(line.str());
}

}  // namespace paddock::server
