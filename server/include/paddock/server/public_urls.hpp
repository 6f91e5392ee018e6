// Where clients reach paddockd, for the absolute URLs it hands out (console_url and
// websocket_url of POST /api/v1/vms/{name}/console). In order:
//   1. server.public_url, when configured (e.g. https://lab.example.org behind a proxy);
//   2. from a peer in server.trusted_proxies only: its X-Forwarded-Proto and X-Forwarded-Host
//      (each when present and well-formed; the first entry of a list, the client-facing hop);
//   3. the listening address (the address the client connected to, when listening on a
//      wildcard address) and the connection's scheme (https/wss over TLS).
// The request's own Host header is never used: it is whatever the client chose to send.
// Immutable after construction; thread-safe.
#pragma once

#include "paddock/core/ip_network.hpp"
#include "paddock/server/http_types.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace paddock::server {

class PublicUrls {
public:
    struct Options {
        std::string public_url;                  // server.public_url ("" when not set)
        std::vector<IpNetwork> trusted_proxies;  // server.trusted_proxies
        std::string listen_host;                 // server.host
        uint16_t listen_port = 0;                // server.port
    };

    explicit PublicUrls(Options options);

    // "https://lab.example.org", "http://127.0.0.1:8000" (no trailing '/'); `websocket`: the
    // ws/wss form of the same.
    std::string base(const Request& request, bool websocket) const;

private:
    bool trusted(const std::string& peer) const;

    Options options_;
    std::string listenAuthority_;  // "" when listening on a wildcard address
};

}  // namespace paddock::server
