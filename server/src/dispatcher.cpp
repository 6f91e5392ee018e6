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

}  // namespace

// Everything one request carries from stage to stage. Lives on the worker's stack.
struct Dispatcher::Exchange {
    Poco::Net::HTTPServerRequest& http;
    Poco::Net::HTTPServerResponse& httpResponse;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    Request request;
    RouteMatch match;
    std::string routeLabel = "unmatched";
    std::optional<uint64_t> declaredLength;   // Content-Length, when sent
    bool hasBody = false;
    bool bodyConsumed = false;
    Response response;
    bool upgraded = false;                    // the socket now belongs to a WebSocket stream
    bool closeConnection = false;
    std::string logDetail;                    // why a 5xx happened

    bool websocketRoute() const { return match.kind == RouteMatch::Kind::Found && match.route->websocket; }
    bool ticketRoute() const { return websocketRoute() && match.route->acceptsTicket; }
};

Poco::Net::HTTPRequestHandler* DispatcherFactory::createRequestHandler(const Poco::Net::HTTPServerRequest&) {
    return new DispatchingHandler(dispatcher_);
}

Dispatcher::Dispatcher(const Router& router, const Authenticator& auth, HttpMetrics& metrics, Poco::Logger& logger,
                       Options options)
    : router_(router), auth_(auth), metrics_(metrics), logger_(logger), options_(std::move(options)) {}

void Dispatcher::handle(Poco::Net::HTTPServerRequest& httpRequest, Poco::Net::HTTPServerResponse& httpResponse) const {
    Exchange x{httpRequest, httpResponse};
    x.request.method = httpRequest.getMethod();
    // RFC 9112: without Content-Length or chunked coding a request has no body.
    if (httpRequest.hasContentLength()) x.declaredLength = httpRequest.getContentLength64();
    x.hasBody = httpRequest.getChunkedTransferEncoding() || x.declaredLength.value_or(0) > 0;
    x.bodyConsumed = !x.hasBody;

    // The one place an exception becomes an answer.
    try {
        Verdict verdict = parse(x);
        if (!verdict) verdict = authenticate(x);
        if (!verdict) verdict = authorize(x);
        if (!verdict) verdict = readBody(x);
        if (verdict) x.response = std::move(*verdict);
        else invoke(x);
    } catch (const Poco::Exception& e) {
        x.response = internalErrorResponse(e.displayText());
        x.logDetail = "exception: " + e.displayText();
    } catch (const std::exception& e) {
        x.response = internalErrorResponse(e.what());
        x.logDetail = std::string("exception: ") + e.what();
    } catch (...) {
        x.response = internalErrorResponse("unknown exception");
        x.logDetail = "unknown exception";
    }
    write(x);
    record(x);
}

Dispatcher::Verdict Dispatcher::parse(Exchange& x) const {
    Request& request = x.request;
    try {
        const Poco::URI uri(x.http.getURI());
        request.path = uri.getPath();
        for (auto& [name, value] : uri.getQueryParameters()) request.query[name] = value;
    } catch (const Poco::Exception& e) {
        return errorResponse(makeError(ErrorCode::InvalidArgument, "malformed request URI: " + e.message()));
    }
    // HEAD is GET without the body (the body is dropped when sending).
    x.match = router_.match(request.method == "HEAD" ? "GET" : request.method, request.path);
    if (x.match.kind == RouteMatch::Kind::Found) x.routeLabel = x.match.route->pattern;
    for (const auto& [name, value] : x.http) {
        const std::string lower = Poco::toLower(name);
        if (lower != "authorization" && lower != "cookie") request.headers[lower] = value;
    }
    return std::nullopt;
}

Dispatcher::Verdict Dispatcher::authenticate(Exchange& x) const {
    Request& request = x.request;
    std::string authorization = x.http.get("Authorization", "");
    if (x.websocketRoute()) {
        // Browsers send cookies and Origin, never our token, on a cross-site WebSocket:
        // refuse foreign pages before anything else.
        if (x.http.has("Origin") && !originAllowed(x.http.get("Origin"), x.http.getHost(), options_.allowed_origins))
            return errorResponse(makeError(ErrorCode::Forbidden, "WebSocket from this Origin is not allowed (server.allowed_origins)"));
        if (authorization.empty()) {
            if (const auto token = request.queryValue("access_token")) authorization = "Bearer " + *token;
        }
    }
    // A console ticket stands in for a token on the routes that take one: it is consumed here
    // whatever happens next, and grants that one VM only.
    if (x.ticketRoute() && options_.redeem_ticket) {
        if (const auto ticket = request.queryValue("ticket")) {
            const auto vm = x.match.params.find("name");
            auto grant = options_.redeem_ticket(*ticket, vm == x.match.params.end() ? std::string() : vm->second);
            if (!grant) return errorResponse(grant.error());
            request.identity = Identity{grant->issued_by + " (console ticket)", Role::Viewer};
            request.grant = std::move(grant.value());
            return std::nullopt;
        }
    }
    auto identity = auth_.authenticate(request.path, authorization);
    if (!identity) return errorResponse(identity.error());
    request.identity = std::move(identity.value());
    return std::nullopt;
}

Dispatcher::Verdict Dispatcher::authorize(Exchange& x) const {
    Request& request = x.request;
    if (x.match.kind == RouteMatch::Kind::NotFound)
        return errorResponse(makeError(ErrorCode::NotFound, "no route for " + request.method + " " + request.path));
    if (x.match.kind == RouteMatch::Kind::MethodNotAllowed)
        return methodNotAllowedResponse(request.method, joinMethods(x.match.allowedMethods));
    const Route& route = *x.match.route;
    request.route = route.pattern;
    request.params = std::move(x.match.params);
    if (!request.grant) {
        if (auto allowed = paddock::server::authorize(request.identity, route.minimumRole); !allowed)
            return errorResponse(allowed.error());
    }
    if (route.websocket && !isWebSocketHandshake(x.http))
        return errorResponse(makeError(ErrorCode::InvalidArgument, "this route is a WebSocket: send an upgrade request (Upgrade: websocket)"));
    return std::nullopt;
}

Dispatcher::Verdict Dispatcher::readBody(Exchange& x) const {
    if (!x.hasBody) return std::nullopt;
    if (auto ok = checkDeclaredLength(x.declaredLength, options_.max_body_bytes); !ok) return errorResponse(ok.error());
    auto body = readLimitedBody(x.http.stream(), options_.max_body_bytes);
    if (!body) return errorResponse(body.error());   // the rest is drained (or the connection closed) by write()
    x.bodyConsumed = true;
    x.request.body = std::move(body.value());
    return std::nullopt;
}

void Dispatcher::invoke(Exchange& x) const {
    auto result = x.match.route->handler(x.request);
    x.response = result ? std::move(result.value()) : errorResponse(result.error());
    if (!result && x.response.status >= 500) x.logDetail = result.error().message;
    if (!x.response.upgrade) return;
    auto handOver = std::move(x.response.upgrade);
    try {
        // Sends 101 and detaches the socket from this HTTP connection, so the worker thread is
        // free again as soon as the stream has taken the socket.
        Poco::Net::WebSocket socket(x.http, x.httpResponse);
        x.upgraded = true;
        x.response = Response{};
        x.response.status = 101;
        handOver(socket);
    } catch (const Poco::Net::WebSocketException& e) {
        if (x.upgraded) throw;
        x.response = errorResponse(makeError(ErrorCode::InvalidArgument, "WebSocket handshake refused: " + e.message()));
    }
}

void Dispatcher::write(Exchange& x) const {
    if (x.upgraded) return;   // an upgrade has already answered 101
    try {
        if (!x.bodyConsumed)
            x.closeConnection = x.declaredLength.value_or(0) > kDrainCap || !discardBody(x.http.stream(), kDrainCap);
    } catch (const std::exception&) {
        x.closeConnection = true;
    }
    const Response& response = x.response;
    try {
        x.httpResponse.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(response.status));
        x.httpResponse.setContentType(response.contentType);
        for (const auto& [name, value] : response.headers) x.httpResponse.set(name, value);
        if (x.closeConnection) x.httpResponse.setKeepAlive(false);
        if (x.request.method == "HEAD") {
            x.httpResponse.setContentLength64(static_cast<Poco::Int64>(response.body.size()));
            x.httpResponse.send();
        } else {
            x.httpResponse.sendBuffer(response.body.data(), response.body.size());
        }
    } catch (const std::exception& e) {
        logger_.debug("could not send the response: %s", std::string(e.what()));
    }
}

void Dispatcher::record(const Exchange& x) const {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - x.started).count();
    metrics_.observe(x.routeLabel, methodLabel(x.request.method), x.response.status, seconds);
    std::ostringstream line;
    line.precision(1);
    line << std::fixed << printable(x.request.method) << ' ' << printable(x.request.path) << ' ' << x.response.status
         << ' ' << seconds * 1000.0 << "ms actor=" << x.request.identity.name;
    if (!x.logDetail.empty()) line << " error=\"" << x.logDetail << '"';
    if (x.response.status >= 500) logger_.error(line.str());
    else logger_.information(line.str());
}

}  // namespace paddock::server
