// The server's own request/response values. Handlers see these instead of Poco's objects so
// routing, auth and the route families can be tested without a socket. Plain values: each
// request is handled by one thread and nothing here is shared.
#pragma once

#include "paddock/core/result.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace Poco::Net {
class WebSocket;
}

namespace paddock::server {

// Ordered: a higher role may do everything a lower one may.
enum class Role { Viewer = 0, Operator = 1, Admin = 2 };

std::string_view roleName(Role role) noexcept;
// "admin" | "operator" | "viewer"; nullopt for anything else.
std::optional<Role> parseRole(std::string_view name) noexcept;

// Who is calling. `name` is the token's name (the audit actor), "anonymous" without a token.
struct Identity {
    std::string name = "anonymous";
    Role role = Role::Viewer;
};

struct Request {
    std::string method;
    std::string path;                                  // percent-decoded, no query
    std::string route;                                 // the matched pattern, e.g. /api/v1/vms/{name}
    std::map<std::string, std::string> params;         // from {params} in the pattern
    std::map<std::string, std::string> query;          // percent-decoded; the last value wins
    std::string body;
    Identity identity;
    // Request headers by lower-case name (the last value wins); never Authorization or Cookie.
    std::map<std::string, std::string> headers;

    // The header (name in lower case), or nullopt when absent.
    std::optional<std::string> header(const std::string& lowerName) const {
        const auto it = headers.find(lowerName);
        if (it == headers.end()) return std::nullopt;
        return it->second;
    }
    // The query parameter, or nullopt when absent.
    std::optional<std::string> queryValue(const std::string& name) const;
    // The path parameter; throws std::out_of_range when the route has none of that name (a bug).
    const std::string& param(const std::string& name) const { return params.at(name); }
};

struct Response {
    int status = 200;
    std::string contentType = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    // Set by WebSocket routes that accept the request: the dispatcher completes the handshake
    // (101) and passes the upgraded socket here, on the HTTP worker thread, which must not be
    // kept: hand the socket to the WebSocketHub and return.
    std::function<void(Poco::Net::WebSocket&)> upgrade;
};

// A JSON response; `body` must already be JSON text.
Response jsonResponse(int status, std::string body);

// Expected failures come back as Error and are turned into HTTP by error_mapping; exceptions
// are caught by the dispatcher and answered with 500.
using Handler = std::function<Result<Response>(Request&)>;

}  // namespace paddock::server
