#include "paddock/server/dispatcher.hpp"

#include "paddock/core/utf8.hpp"
#include "paddock/server/error_mapping.hpp"

#include <Poco/Exception.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <chrono>
#include <sstream>

namespace paddock::server {

namespace {

// Paths come from the client: keep control characters and invalid UTF-8 out of the log.
std::string printable(const std::string& text) {
    std::string out = text.empty() ? std::string("?") : toValidUtf8(text);
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

// Bodies are JSON: no Content-Type (as FastAPI took it), application/json or application/*+json.
bool isJsonContentType(std::string_view type) {
    const std::string media = Poco::trim(Poco::toLower(std::string(type.substr(0, type.find(';')))));
    return media.empty() || media == "application/json" ||
           (media.starts_with("application/") && media.ends_with("+json"));
}

bool isWebSocketHandshake(const wire::RequestHead& head) {
    return Poco::icompare(head.header("Upgrade").value_or(""), "websocket") == 0;
}

// Runs `body`; an exception escaping it becomes a 500 answer (the one place that happens).
template <class Body>
std::optional<Response> guarded(HttpExchange& x, Body&& body) {
    try {
        return body();
    } catch (const Poco::Exception& e) {
        x.logDetail = "exception: " + e.displayText();
        return internalErrorResponse(e.displayText(), x.errorStyle);
    } catch (const std::exception& e) {
        x.logDetail = std::string("exception: ") + e.what();
        return internalErrorResponse(e.what(), x.errorStyle);
    } catch (...) {
        x.logDetail = "unknown exception";
        return internalErrorResponse("unknown exception", x.errorStyle);
    }
}

}  // namespace

Dispatcher::Dispatcher(const Router& router, const Authenticator& auth, HttpMetrics& metrics, Poco::Logger& logger,
                       Options options)
    : router_(router), auth_(auth), metrics_(metrics), logger_(logger), options_(std::move(options)) {}

bool Dispatcher::admit(HttpExchange& x) {
    RouteMatch match;
    auto verdict = guarded(x, [&]() -> Verdict {
        Verdict v = parse(x, match);
        if (!v) v = authenticate(x, match);
        if (!v) v = authorize(x, match);
        return v;
    });
    if (!verdict) return true;
    x.response = std::move(*verdict);
    return false;
}

void Dispatcher::invoke(HttpExchange& x) {
    auto answer = guarded(x, [&]() -> Verdict {
        auto result = x.route->handler(x.request);
        if (result) return std::move(result.value());
        if (httpStatus(result.error().code) >= 500) x.logDetail = result.error().message;
        return errorResponse(result.error(), x.errorStyle);
    });
    x.response = std::move(*answer);
}

Response Dispatcher::errorAnswer(const Error& error, const HttpExchange* x) const {
    return errorResponse(error, x != nullptr ? x->errorStyle : ErrorStyle::Paddock);
}

Dispatcher::Verdict Dispatcher::parse(HttpExchange& x, RouteMatch& match) const {
    Request& request = x.request;
    request.method = x.head.method;
    request.peer = x.peer;
    request.local = x.local;
    request.secure = x.secure;
    try {
        const Poco::URI uri(x.head.target);
        request.path = uri.getPath();
        for (auto& [name, value] : uri.getQueryParameters()) request.query[name] = value;
    } catch (const Poco::Exception& e) {
        return errorResponse(makeError(ErrorCode::InvalidArgument, "malformed request URI: " + e.message()));
    }
    // HEAD is GET without the body (the server drops the body when sending).
    match = router_.match(request.method == "HEAD" ? "GET" : request.method, request.path);
    if (match.kind == RouteMatch::Kind::Found) x.routeLabel = match.route->pattern;
    x.errorStyle = match.errorStyle;
    for (const auto& [name, value] : x.head.headers) {
        const std::string lower = Poco::toLower(name);
        if (lower != "authorization" && lower != "cookie") request.headers[lower] = value;
    }
    return std::nullopt;
}

Dispatcher::Verdict Dispatcher::authenticate(HttpExchange& x, const RouteMatch& match) const {
    Request& request = x.request;
    // A page on an attacker's name that resolves to us (DNS rebinding) is same-origin to the
    // browser; only the Host it sends gives it away.
    if (!hostAllowed(x.head.header("Host").value_or(""), options_.allowed_hosts))
        return errorResponse(
            makeError(ErrorCode::InvalidArgument, "Host '" + x.head.header("Host").value_or("").substr(0, 255) +
                                                      "' is not one of server.allowed_hosts"),
            x.errorStyle);
    const bool websocket = match.kind == RouteMatch::Kind::Found && match.route->websocket;
    std::string authorization = x.head.header("Authorization").value_or("");
    if (websocket) {
        // Browsers send cookies and Origin, never our token, on a cross-site WebSocket:
        // refuse foreign pages before anything else.
        if (const auto origin = x.head.header("Origin");
            origin && !originAllowed(*origin, x.head.header("Host").value_or(""), options_.allowed_origins))
            return errorResponse(
                makeError(ErrorCode::Forbidden, "WebSocket from this Origin is not allowed (server.allowed_origins)"),
                x.errorStyle);
        if (authorization.empty()) {
            if (const auto token = request.queryValue("access_token")) authorization = "Bearer " + *token;
        }
    }
    // A console ticket stands in for a token on the routes that take one: it is consumed here
    // whatever happens next, and grants that one VM only.
    if (websocket && match.route->acceptsTicket && options_.redeem_ticket) {
        if (const auto ticket = request.queryValue("ticket")) {
            const auto vm = match.params.find("name");
            auto grant = options_.redeem_ticket(*ticket, vm == match.params.end() ? std::string() : vm->second);
            if (!grant) return errorResponse(grant.error(), x.errorStyle);
            request.identity = Identity{grant->issued_by + " (console ticket)", Role::Viewer, false, {}};
            request.grant = std::move(grant.value());
            return std::nullopt;
        }
    }
    // A guest script sends no credentials: on its own routes, from a guest network, it is let in
    // as a guest, and the handler checks which VM it may speak for. Under auth.mode none everyone
    // is the admin already.
    if (authorization.empty() && auth_.enabled() && match.kind == RouteMatch::Kind::Found && match.route->guests &&
        options_.guest_source && options_.guest_source(request.peer)) {
        request.identity = Identity{"guest " + request.peer.substr(0, 64), Role::Operator, false, {}, true};
        return std::nullopt;
    }
    auto identity = auth_.authenticate(request.path, authorization);
    if (!identity) return errorResponse(identity.error(), x.errorStyle);
    request.identity = std::move(identity.value());
    return std::nullopt;
}

Dispatcher::Verdict Dispatcher::authorize(HttpExchange& x, RouteMatch& match) const {
    Request& request = x.request;
    if (match.kind == RouteMatch::Kind::NotFound)
        return errorResponse(makeError(ErrorCode::NotFound, "no route for " + request.method + " " + request.path),
                             x.errorStyle);
    if (match.kind == RouteMatch::Kind::MethodNotAllowed)
        return methodNotAllowedResponse(request.method, joinMethods(match.allowedMethods), x.errorStyle);
    const Route& route = *match.route;
    x.route = &route;
    request.route = route.pattern;
    request.params = std::move(match.params);
    if (!request.grant) {
        if (auto allowed = paddock::server::authorize(request.identity, route.minimumRole); !allowed)
            return errorResponse(allowed.error(), x.errorStyle);
        // Public paths need no token, so one that names an owner changes nothing there.
        if (!request.identity.owner.empty() && !route.ownerTokens && !auth_.isPublic(request.path))
            return errorResponse(
                makeError(ErrorCode::Forbidden, "'" + request.identity.name + "' is bound to owner '" +
                                                    request.identity.owner +
                                                    "': it reaches that owner's VMs, leases, consoles and "
                                                    "recordings only, not " +
                                                    request.method + " " + route.pattern),
                x.errorStyle);
    }
    if (x.head.hasBody()) {
        if (const auto type = x.head.header("Content-Type"); type && !isJsonContentType(*type))
            return errorResponse(makeError(ErrorCode::UnsupportedMediaType,
                                           "request bodies are JSON (Content-Type: application/json), not '" +
                                               type->substr(0, 64) + "'"),
                                 x.errorStyle);
    }
    // The rest of the handshake is checked when the route accepts (the server, before the 101),
    // so that an unknown VM is a 404 whatever the client's WebSocket headers.
    if (route.websocket) {
        if (!isWebSocketHandshake(x.head))
            return errorResponse(makeError(ErrorCode::InvalidArgument,
                                           "this route is a WebSocket: send an upgrade request (Upgrade: websocket)"),
                                 x.errorStyle);
        if (options_.admit_websocket) {
            if (auto room = options_.admit_websocket(request); !room) return errorResponse(room.error(), x.errorStyle);
        }
    }
    return std::nullopt;
}

void Dispatcher::record(const HttpExchange& x) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - x.started).count();
    metrics_.observe(x.routeLabel, methodLabel(x.head.method), x.response.status, seconds);
    std::ostringstream line;
    line.precision(1);
    line << std::fixed << printable(x.head.method) << ' ' << printable(x.request.path) << ' ' << x.response.status
         << ' ' << seconds * 1000.0 << "ms actor=" << x.request.identity.name;
    if (!x.logDetail.empty()) line << " error=\"" << x.logDetail << '"';
    if (x.response.status >= 500)
        logger_.error(line.str());
    else
        logger_.information(line.str());
}

}  // namespace paddock::server
