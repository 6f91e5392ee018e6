// WebSocket routes refuse (404, 503, ...) before upgrading, so a client learns of an unknown VM
// from an ordinary HTTP answer; once accepted, the socket goes straight to a stream.
#include "paddock/server/event_stream.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/status_stream.hpp"
#include "paddock/server/vm_views.hpp"

namespace paddock::server {

namespace {

Response upgradeTo(std::function<void(Poco::Net::WebSocket&)> handOver) {
    Response response;
    response.status = 101;
    response.upgrade = std::move(handOver);
    return response;
}

}  // namespace

void addWebSocketRoutes(Router& router, const RouteContext& context, const StreamContext& streams) {
    Runtime& rt = context.runtime;
    StatusStreams& status = streams.status;
    EventStream& events = streams.events;

    router.addWebSocket("/api/v1/vms/{name}/status", [&rt, &status](Request& r) -> Result<Response> {
        auto located = locateVm(rt, r.queryValue("site"), r.param("name"));
        if (!located) return std::move(located).error();
        const std::string site = located.value().service->site().name;
        return upgradeTo([&status, route = r.route, site, name = r.param("name")](Poco::Net::WebSocket& socket) {
            status.attach(socket, route, site, name, StatusFormat::Native);
        });
    });

    router.addWebSocket("/api/v1/events", [&events](Request& r) -> Result<Response> {
        return upgradeTo([&events, route = r.route](Poco::Net::WebSocket& socket) { events.attach(socket, route); });
    });

    // Compat: the default site, like the rest of the earlier VM manager's routes.
    router.addWebSocket("/ws/vm/{name}/status", [&rt, &status](Request& r) -> Result<Response> {
        auto service = rt.site();
        if (!service) return std::move(service).error();
        auto vm = service.value()->get(r.param("name"));
        if (!vm) return std::move(vm).error();
        const std::string site = service.value()->site().name;
        return upgradeTo([&status, route = r.route, site, name = r.param("name")](Poco::Net::WebSocket& socket) {
            status.attach(socket, route, site, name, StatusFormat::Compat);
        });
    });
}

}  // namespace paddock::server
