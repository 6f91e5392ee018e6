// The server's own request/response values. Handlers see these instead of Poco's objects so
// routing, auth and the route families can be tested without a socket. Plain values: each
// request is handled by one thread and nothing here is shared.
#pragma once

#include "paddock/core/result.hpp"
#include "paddock/core/role.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace paddock::server {

class Transport;

// Takes over the connection of an accepted WebSocket upgrade, after the 101 (transport.hpp).
using UpgradeHandOver = std::function<void(std::unique_ptr<Transport>)>;

// Who is calling. `name` is the token's name (the audit actor), "anonymous" without a token.
struct Identity {
    std::string name = "anonymous";
    Role role = Role::Viewer;
    bool token = false;  // authenticated by a bearer token (not anonymous, not a console ticket)
    // Non-empty: an owner-scoped token. It reaches only routes that admit owner tokens
    // (Route::ownerTokens), and on those only this owner's VMs, leases, operations and
    // recordings: everything else is as absent as an unknown name (404).
    std::string owner;
    // A token-less guest admitted on a guest-facing route (Route::guests) from a guest source
    // network: it may speak only for the VM at its own address (WatchService::guestMayAct).
    bool guest = false;

    // Whether this caller may see an object belonging to `objectOwner`.
    bool mayReach(std::string_view objectOwner) const noexcept { return owner.empty() || objectOwner == owner; }
};

// What a redeemed one-time console ticket grants: the terminal of one VM.
struct ConsoleGrant {
    std::string site;
    std::string vm;
    std::string issued_by;  // the token name that asked for the ticket (the audit actor)
};

struct Request {
    std::string method;
    std::string path;                           // percent-decoded, no query
    std::string route;                          // the matched pattern, e.g. /api/v1/vms/{name}
    std::map<std::string, std::string> params;  // from {params} in the pattern
    std::map<std::string, std::string> query;   // percent-decoded; the last value wins
    std::string body;
    std::string peer;     // the client's address, e.g. "127.0.0.1"
    std::string local;    // the address:port the client connected to
    bool secure = false;  // the connection is TLS (HTTPS, WSS)
    Identity identity;
    // Set when a console ticket authorised the request (Route::acceptsTicket): the dispatcher
    // has redeemed it for the VM in the path.
    std::optional<ConsoleGrant> grant;
    // Request headers by lower-case name (the last value wins); never Authorization or Cookie.
    std::map<std::string, std::string> headers;

    // The header (name in lower case), or nullopt when absent.
    std::optional<std::string> header(const std::string& lowerName) const {
        const auto it = headers.find(lowerName);
        if (it == headers.end()) return std::nullopt;
        return it->second;
    }
    // Whether the client's Prefer header (RFC 7240) names `preference` (e.g. "respond-async");
    // see wire::preferHeaderNames.
    bool prefers(std::string_view preference) const;
    // The query parameter, or nullopt when absent.
    std::optional<std::string> queryValue(const std::string& name) const;
    // A boolean query parameter: absent, "false" or "0" is false; "true", "1" or empty is true;
    // anything else InvalidArgument naming it.
    Result<bool> queryFlag(const std::string& name) const;
    // The path parameter; throws std::out_of_range when the route has none of that name (a bug).
    const std::string& param(const std::string& name) const { return params.at(name); }
};

// A response body made piece by piece while it is sent, for bodies that need not fit in memory
// (recording downloads). The server calls it on a worker thread, one call at a time, first right
// after the handler and then each time the client has taken the previous piece: it appends the
// next piece (at most kBodyPieceBytes) to `out` and answers whether more may follow. A piece may
// be empty only when it is the last. An error cannot change the status already sent: the server
// closes the connection without ending the body, so the client sees it cut short. The function
// may be called after the handler's request is gone: it must own (or outlive) what it reads.
using BodySource = std::function<Result<bool>(std::string& out)>;
inline constexpr size_t kBodyPieceBytes = 64 * 1024;

struct Response {
    int status = 200;
    std::string contentType = "application/json";
    std::string body;  // with `stream` or `sharedBody`: unused
    // Set: the body is this immutable text, shared with whoever keeps it (a listing's kept copy);
    // `body` is ignored. The server sends it from here after the head, not copied (from 4 KiB;
    // a smaller one is copied after the head), holding a reference until it is sent.
    std::shared_ptr<const std::string> sharedBody;
    std::vector<std::pair<std::string, std::string>> headers;
    // Set: the body comes from here, sent chunked (close-delimited to an HTTP/1.0 client), and
    // `body` is ignored. Never on a HEAD answer's way out: the server does not call it then.
    BodySource stream;
    // Set by WebSocket routes that accept the request: the server completes the handshake
    // (101) and passes the upgraded connection here, on its I/O thread, which must not be kept:
    // hand the transport to the WebSocketHub and return.
    UpgradeHandOver upgrade;
};

// A JSON response; `body` must already be JSON text.
Response jsonResponse(int status, std::string body);

// Whose WebSocket cap a connection of this request counts against: the token's name; empty for
// console tickets (single use, minted by an operator) and anonymous callers (auth.mode none),
// which count against the total only.
std::string webSocketOwner(const Request& request);

// A WebSocket route's acceptance: the dispatcher answers 101 and hands the socket over.
Response upgradeResponse(UpgradeHandOver handOver);

// Expected failures come back as Error and are turned into HTTP by error_mapping; exceptions
// are caught by the dispatcher and answered with 500.
using Handler = std::function<Result<Response>(Request&)>;

}  // namespace paddock::server
