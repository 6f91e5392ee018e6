// Browser terminals. The WebSocket routes decide everything (ticket, VM, size) before
// upgrading, so a refused client gets an ordinary HTTP answer; SSH problems surface after the
// upgrade, as an error frame, because connecting is asynchronous. Handlers copy the
// TerminalContext (it only holds references), never refer to the caller's.
#include "paddock/core/terminal_session.hpp"
#include "paddock/server/console_tickets.hpp"
#include "paddock/server/public_urls.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/static_files.hpp"
#include "paddock/server/terminal_bridge.hpp"
#include "paddock/server/vm_views.hpp"

#include <charconv>

namespace paddock::server {

namespace {

struct TerminalTarget {
    Site* site = nullptr;
    std::string actor;
};

// Where the terminal of `name` is and who opens it: the holder of a console ticket (redeemed
// by the dispatcher for this VM), or an operator/admin token (role checked by the dispatcher).
// `site`: where to look without a ticket (nullopt: the default site, as the compat routes do).
Result<TerminalTarget> resolveTarget(Runtime& rt, const Request& r,
                                     const std::optional<std::optional<std::string>>& site) {
    std::optional<std::string> where;
    if (r.grant) {
        where = r.grant->site;
    } else if (site) {
        where = *site;
    } else {
        auto fallback = rt.site();
        if (!fallback) return std::move(fallback).error();
        where = fallback.value()->name();
    }
    return locateVm(rt, r.identity, where, r.param("name")).map([&](LocatedVm located) {
        return TerminalTarget{located.site, r.identity.name};
    });
}

Result<uint16_t> dimension(const Request& r, const char* name, uint16_t fallback) {
    const auto text = r.queryValue(name);
    if (!text || text->empty()) return fallback;
    long value = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size() || value < 1 || value > 1000)
        return makeError(ErrorCode::InvalidArgument,
                         std::string("query '") + name + "' must be a number from 1 to 1000");
    return clampTerminalDimension(value);
}

Result<Response> openTerminal(Runtime& rt, const TerminalContext& terminal, Request& r, TerminalProtocol protocol) {
    const auto site = protocol == TerminalProtocol::Native
                          ? std::optional<std::optional<std::string>>(r.queryValue("site"))
                          : std::nullopt;
    auto target = resolveTarget(rt, r, site);
    if (!target) return std::move(target).error();
    auto cols = dimension(r, "cols", 80);
    if (!cols) return std::move(cols).error();
    auto rows = dimension(r, "rows", 24);
    if (!rows) return std::move(rows).error();
    TerminalRequest request;
    request.site = target->site;
    request.vm = r.param("name");
    // Whose session the recording says it is: the VM's (or its lease's) owner. `?owner=` (the
    // compat clients send it) may name it only for a plain token caller; a console ticket or an
    // owner-scoped token never chooses it.
    if (!r.grant && r.identity.owner.empty()) request.owner = r.queryValue("owner").value_or("");
    request.actor = target->actor;
    request.cols = cols.value();
    request.rows = rows.value();
    return upgradeResponse([&bridge = terminal.bridge, route = r.route, owner = webSocketOwner(r), request,
                            protocol](std::unique_ptr<Transport> transport) {
        bridge.attach(std::move(transport), route, owner, request, protocol);
    });
}

}  // namespace

void addTerminalRoutes(Router& router, const RouteContext& context, const TerminalContext& terminal) {
    Runtime& rt = context.runtime;
    const std::string webDir = context.webDir;

    router.add("POST", "/api/v1/vms/{name}/console", [&rt, terminal](Request& r) -> Result<Response> {
        auto located = locateRequestedVm(rt, r);
        if (!located) return std::move(located).error();
        const std::string& name = r.param("name");
        const std::string site = located->site->name();
        auto ticket = terminal.tickets.issue(site, name, r.identity.name);
        if (!ticket) return std::move(ticket).error();
        JsonWriter json;
        json.beginObject()
            .field("ticket", ticket->ticket)
            .field("expires_at", isoTime(ticket->expires_at))
            .field("expires_in_s", static_cast<int64_t>(terminal.tickets.ttl().count()))
            .field("vm", name)
            .field("site", site)
            .field("websocket_url",
                   terminal.urls.base(r, true) + "/api/v1/vms/" + name + "/terminal?ticket=" + ticket->ticket)
            .field("console_url", terminal.urls.base(r, false) + "/console/" + name + "?ticket=" + ticket->ticket)
            .endObject();
        Response response = jsonResponse(201, json.str());
        response.headers.emplace_back("Cache-Control", "no-store");
        return response;
    });

    router.addWebSocket(
        "/api/v1/vms/{name}/terminal",
        [&rt, terminal](Request& r) { return openTerminal(rt, terminal, r, TerminalProtocol::Native); }, Role::Operator,
        true);
    router.addWebSocket(
        "/ws/vm/{name}/terminal",
        [&rt, terminal](Request& r) { return openTerminal(rt, terminal, r, TerminalProtocol::Compat); }, Role::Operator,
        true);

    router.add("GET", "/console/{name}", [webDir](Request&) { return servePrivatePage(webDir, "console.html"); });
    addAssetRoute(router, "/static/xterm", webDir, {"@xterm/xterm/lib", "@xterm/xterm/css"}, "xterm.js");
    addAssetRoute(router, "/static/xterm-addon-fit", webDir, {"@xterm/addon-fit/lib"}, "xterm.js");
}

}  // namespace paddock::server
