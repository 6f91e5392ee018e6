// WebSocket routes refuse (404, 503, ...) before upgrading, so a client learns of an unknown VM
// from an ordinary HTTP answer; once accepted, the socket goes straight to a stream.
#include "paddock/server/event_stream.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/status_stream.hpp"
#include "paddock/server/vm_views.hpp"

namespace paddock::server {

void addWebSocketRoutes(Router& router, const RouteContext& context, const StreamContext& streams) {
    Runtime& rt = context.runtime;
    StatusStreams& status = streams.status;
    EventStream& events = streams.events;

    router.addWebSocket("/api/v1/vms/{name}/status", [&rt, &status](Request& r) -> Result<Response> {
        auto located = locateRequestedVm(rt, r);
        if (!located) return std::move(located).error();
        const std::string site = located.value().site->name();
        return upgradeResponse([&status, route = r.route, owner = webSocketOwner(r), site,
                                name = r.param("name")](std::unique_ptr<Transport> transport) {
            status.attach(std::move(transport), route, owner, site, name, StatusFormat::Native);
        });
    });

    router.addWebSocket("/api/v1/events", [&events](Request& r) -> Result<Response> {
        return upgradeResponse(
            [&events, route = r.route, owner = webSocketOwner(r)](std::unique_ptr<Transport> transport) {
                events.attach(std::move(transport), route, owner);
            });
    });

    // Compat: the default site, like the rest of the earlier VM manager's routes.
    router.addWebSocket("/ws/vm/{name}/status", [&rt, &status](Request& r) -> Result<Response> {
        auto vms = rt.vms();
        if (!vms) return std::move(vms).error();
        auto vm = vms.value()->get(r.param("name"));
        if (!vm) return std::move(vm).error();
        const std::string site = vm->site;
        return upgradeResponse([&status, route = r.route, owner = webSocketOwner(r), site,
                                name = r.param("name")](std::unique_ptr<Transport> transport) {
            status.attach(std::move(transport), route, owner, site, name, StatusFormat::Compat);
        });
    });
}

}  // namespace paddock::server
