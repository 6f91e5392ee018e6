// paddockd's HTTP API from the client side (Poco's HTTP(S) client): one request per call, on a
// fresh connection, with the bearer token in the Authorization header (never in a URL). Failures
// are values: connection refused, timeouts and TLS failures are Unavailable/Timeout; an answer
// that is not 2xx becomes the Error its status and {"error":{"code","message"}} body say
// (errorFromReply). Not thread-safe; one client per thread.
#pragma once

#include "paddock/core/result.hpp"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/WebSocket.h>

#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace paddock::cli {

// paddockd's default listen address (config/paddock.yaml: server.host, server.port).
inline constexpr const char* kDefaultUrl = "http://127.0.0.1:8000";
// The largest answer read into memory (JSON); bigger ones fail instead of exhausting memory.
// Cast downloads stream and have no limit.
inline constexpr size_t kMaxResponseBytes = 64u << 20;

struct ClientSettings {
    std::string url = kDefaultUrl;  // http:// or https://, optionally with a base path
    std::string token{};            // "" sends no Authorization header
    std::string caFile{};           // https: trust only this CA file ("" the system's)
    bool insecure = false;          // https: do not verify the certificate
    int timeoutS = 600;             // per read/write on the socket, not per request
};

struct ApiReply {
    int status = 0;
    std::string body;
    std::string contentType;
};

// The Error an answer with a non-2xx status stands for: the code from the status (401
// Unauthorized, 404 NotFound, 409 Conflict, 5xx Unavailable/Internal/Timeout, ...), the message
// from its JSON error body, or the start of a body that is not one; made printable (table.hpp)
// and cut at 2000 bytes, since it is shown on a terminal.
Error errorFromReply(const ApiReply& reply);

class ApiClient {
public:
    // InvalidArgument for a URL that is not http(s)://host[:port][/base].
    static Result<ApiClient> create(ClientSettings settings);

    // `path` starts with "/api/..."; `body` is sent as application/json. Any status is a
    // success here (callers decide); failures are transport failures and answers larger than
    // kMaxResponseBytes (PayloadTooLarge).
    Result<ApiReply> request(const std::string& method, const std::string& path,
                             const std::optional<std::string>& body = std::nullopt,
                             const std::vector<std::pair<std::string, std::string>>& headers = {}) const;

    // GET `path` and hand a 2xx answer's body stream to `consume` (no size limit); a non-2xx
    // answer is read (bounded) and returned as errorFromReply.
    Status stream(const std::string& path, const std::function<Status(std::istream&)>& consume) const;

    // Opens the WebSocket at `path` (query included). A refused upgrade is errorFromReply of
    // the answer.
    Result<std::unique_ptr<Poco::Net::WebSocket>> openWebSocket(const std::string& path) const;

    const ClientSettings& settings() const noexcept { return settings_; }

private:
    ApiClient(ClientSettings settings, std::string scheme, std::string host, uint16_t port, std::string basePath);
    // A request to `path` under the base URL with the client's User-Agent and bearer token.
    Poco::Net::HTTPRequest newRequest(const std::string& method, const std::string& path) const;

    ClientSettings settings_;
    std::string scheme_;
    std::string host_;
    uint16_t port_;
    std::string basePath_;
    Poco::Net::Context::Ptr tls_;
};

// `text` percent-encoded for one path segment or query value.
std::string urlEncode(const std::string& text);

}  // namespace paddock::cli
