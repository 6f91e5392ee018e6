// Route table: method + path pattern -> handler. Patterns are '/'-separated segments, each a
// literal or a {param} matching one non-empty segment. When several patterns match a path the
// most specific wins (a literal beats a {param} at the first differing segment). Build the
// table once at startup; matching is read-only and safe from any number of threads.
#pragma once

#include "paddock/server/error_mapping.hpp"
#include "paddock/server/http_types.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paddock::server {

struct Route {
    std::string method;
    std::string pattern;
    Handler handler;
    Role minimumRole = Role::Viewer;
    // A GET that must be a WebSocket upgrade: the dispatcher also accepts the token as the
    // `access_token` query parameter (browsers cannot set headers on WebSockets) and checks Origin.
    bool websocket = false;
    // A WebSocket that also admits a one-time console ticket (query `ticket`) instead of a token:
    // the dispatcher redeems it for the path's {name} and sets Request::grant; the role check
    // is then skipped (the ticket is the authorisation).
    bool acceptsTicket = false;
    // Owner-scoped tokens (Identity::owner) may call it: its handler shows and acts on that
    // owner's objects only. Every other route answers 403 to them.
    bool ownerTokens = false;
    // A guest-facing route (heartbeats, revert requests): a request without a token from a guest
    // source network (watch.heartbeat_sources) is admitted as a guest (Identity::guest); the
    // handler then checks that the guest speaks for its own VM. With a token, as any route.
    bool guests = false;
    // How its errors are worded, the dispatcher's own refusals included (401, 403, 415, ...).
    ErrorStyle errorStyle = ErrorStyle::Paddock;
};

struct RouteMatch {
    enum class Kind { Found, NotFound, MethodNotAllowed };
    Kind kind = Kind::NotFound;
    const Route* route = nullptr;               // Found only; owned by the Router
    std::map<std::string, std::string> params;  // Found only
    std::vector<std::string> allowedMethods;    // MethodNotAllowed only, sorted
    // Found: the route's; MethodNotAllowed: FastApi when a route of the path answers so.
    ErrorStyle errorStyle = ErrorStyle::Paddock;
};

class Router {
public:
    // Registers a route. `minimumRole` defaults to Viewer for GET and Operator otherwise.
    // Throws std::invalid_argument for a malformed pattern or a duplicate method + pattern.
    void add(std::string method, std::string pattern, Handler handler, std::optional<Role> minimumRole = std::nullopt);

    // Registers a WebSocket route (GET with Route::websocket set); the handler answers with
    // Response::upgrade set, or an error to refuse before upgrading.
    void addWebSocket(std::string pattern, Handler handler, std::optional<Role> minimumRole = std::nullopt,
                      bool acceptsTicket = false);

    // Lets owner-scoped tokens call the route `method` + `pattern` (Route::ownerTokens).
    // Throws std::invalid_argument when no such route is registered.
    void permitOwnerTokens(const std::string& method, const std::string& pattern);

    // Makes route `method` + `pattern` guest-facing (Route::guests). Throws std::invalid_argument
    // when no such route is registered.
    void admitGuests(const std::string& method, const std::string& pattern);
    // Words the errors of route `method` + `pattern` in `style` (Route::errorStyle). Throws
    // std::invalid_argument when no such route is registered.
    void answerErrorsAs(ErrorStyle style, const std::string& method, const std::string& pattern);

    // `path` is the decoded path without query. A single trailing '/' is ignored.
    RouteMatch match(const std::string& method, const std::string& path) const;

    const std::vector<Route>& routes() const noexcept { return routes_; }

private:
    // The route `method` + `pattern`; throws std::invalid_argument naming `purpose` when none.
    Route& registered(const std::string& method, const std::string& pattern, std::string_view purpose);

    struct Segment {
        std::string text;  // literal text or the parameter name
        bool isParam = false;
    };
    std::vector<Route> routes_;
    std::vector<std::vector<Segment>> segments_;  // parallel to routes_
};

// "GET, POST" for an Allow header.
std::string joinMethods(const std::vector<std::string>& methods);

}  // namespace paddock::server
