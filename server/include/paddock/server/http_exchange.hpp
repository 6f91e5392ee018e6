// One request's journey through the server: the connection server fills the head, the peer
// and later the body; the Dispatcher's stages fill the Request and the Response. Handed from
// the I/O thread to one worker and back, never shared.
#pragma once

#include "paddock/server/error_mapping.hpp"
#include "paddock/server/http_types.hpp"
#include "paddock/server/http_wire.hpp"

#include <chrono>
#include <string>

namespace paddock::server {

struct Route;

struct HttpExchange {
    wire::RequestHead head;
    std::string peer;     // the client's address, e.g. "127.0.0.1"
    std::string local;    // the address:port it connected to, e.g. "127.0.0.1:8000"
    bool secure = false;  // over TLS
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

    Request request;                       // method, path, query, identity, params, body
    const Route* route = nullptr;          // set when admitted
    std::string routeLabel = "unmatched";  // the route pattern, for metrics
    Response response;
    std::string logDetail;  // why a 5xx happened
    // How errors about this request are worded: its route's style once the route is known.
    ErrorStyle errorStyle = ErrorStyle::Paddock;
};

}  // namespace paddock::server
