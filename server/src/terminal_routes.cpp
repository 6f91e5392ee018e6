// Browser terminals. The WebSocket routes decide everything (ticket, VM, size) before
// upgrading, so a refused client gets an ordinary HTTP answer; SSH problems surface after the
// upgrade, as an error frame, because connecting is asynchronous. Handlers copy the
// TerminalContext (it only holds references), never refer to the caller's.
#include "paddock/core/terminal_session.hpp"
#include "paddock/server/console_tickets.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/static_files.hpp"
#include "paddock/server/terminal_bridge.hpp"
#include "paddock/server/vm_views.hpp"

#include <charconv>

namespace paddock::server {

namespace {

struct TerminalTarget {
    VmService* service = nullptr;
    std::string actor;
};

// Who may open the terminal of `name`: the holder of a console ticket for it, or an
// operator/admin token (the dispatcher has checked the role when no ticket was given).
// `site`: where to look without a ticket (nullopt: the default site, as the compat routes do).
Result<TerminalTarget> resolveTarget(Runtime& rt, ConsoleTickets& tickets, const Request& r,
                                     const std::optional<std::optional<std::string>>& site) {
    const std::string& name = r.param("name");
    TerminalTarget target;
    if (const auto ticket = r.queryValue("ticket")) {
        auto grant = tickets.redeem(*ticket, name);
        if (!grant) return std::move(grant).error();
        auto service = rt.site(grant->site);
        if (!service) return std::move(service).error();
        target.service = service.value();
        target.actor = grant->issued_by + " (console ticket)";
    } else {
        if (r.identity.role < Role::Operator) return makeError(ErrorCode::Forbidden, "opening a terminal needs an operator token or a console ticket");
        if (site) {
            auto located = locateVm(rt, *site, name);
            if (!located) return std::move(located).error();
            target.service = located->service;
        } else {
            auto service = rt.site();
            if (!service) return std::move(service).error();
            target.service = service.value();
        }
        target.actor = r.identity.name;
    }
    if (auto vm = target.service->get(name); !vm) return std::move(vm).error();
    return target;
}

Result<uint16_t> dimension(const Request& r, const char* name, uint16_t fallback) {
    const auto text = r.queryValue(name);
    if (!text || text->empty()) return fallback;
    long value = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size() || value < 1 || value > 1000)
        return makeError(ErrorCode::InvalidArgument, std::string("query '") + name + "' must be a number from 1 to 1000");
    return clampTerminalDimension(value);
}

Response upgradeTo(std::function<void(Poco::Net::WebSocket&)> handOver) {
    Response response;
    response.status = 101;
    response.upgrade = std::move(handOver);
    return response;
}

Result<Response> openTerminal(Runtime& rt, const TerminalContext& terminal, Request& r, TerminalProtocol protocol) {
    const auto site = protocol == TerminalProtocol::Native ? std::optional<std::optional<std::string>>(r.queryValue("site"))
                                                           : std::nullopt;
    auto target = resolveTarget(rt, terminal.tickets, r, site);
    if (!target) return std::move(target).error();
    auto cols = dimension(r, "cols", 80);
    if (!cols) return std::move(cols).error();
    auto rows = dimension(r, "rows", 24);
    if (!rows) return std::move(rows).error();
    TerminalRequest request;
    request.service = target->service;
    request.vm = r.param("name");
    request.owner = r.queryValue("owner").value_or("");
    request.actor = target->actor;
    request.cols = cols.value();
    request.rows = rows.value();
    return upgradeTo([&bridge = terminal.bridge, route = r.route, request, protocol](Poco::Net::WebSocket& socket) {
        bridge.attach(socket, route, request, protocol);
    });
}

// Where the client reached us, for URLs it can use as they are.
std::string baseUrl(const Request& r, bool websocket) {
    const bool tls = r.header("x-forwarded-proto").value_or("") == "https";
    const std::string scheme = websocket ? (tls ? "wss" : "ws") : (tls ? "https" : "http");
    return scheme + "://" + r.header("host").value_or("127.0.0.1");
}

Result<Response> withAssetHint(Result<Response> file) {
    if (!file && file.error().code == ErrorCode::NotFound)
        return makeError(ErrorCode::NotFound, file.error().message + " (xterm.js assets come from npm: scripts/setup.sh installs them)");
    return file;
}

}  // namespace

void addTerminalRoutes(Router& router, const RouteContext& context, const TerminalContext& terminal) {
    Runtime& rt = context.runtime;
    const std::string webDir = context.webDir;

    router.add("POST", "/api/v1/vms/{name}/console", [&rt, terminal](Request& r) -> Result<Response> {
        auto located = locateVm(rt, r.queryValue("site"), r.param("name"));
        if (!located) return std::move(located).error();
        const std::string& name = r.param("name");
        const std::string site = located->service->site().name;
        auto ticket = terminal.tickets.issue(site, name, r.identity.name);
        if (!ticket) return std::move(ticket).error();
        JsonWriter json;
        json.beginObject()
            .field("ticket", ticket->ticket)
            .field("expires_at", isoTime(ticket->expires_at))
            .field("expires_in_s", static_cast<int64_t>(terminal.tickets.ttl().count()))
            .field("vm", name)
            .field("site", site)
            .field("websocket_url", baseUrl(r, true) + "/api/v1/vms/" + name + "/terminal?ticket=" + ticket->ticket)
            .field("console_url", baseUrl(r, false) + "/console/" + name + "?ticket=" + ticket->ticket)
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

    router.add("GET", "/console/{name}", [webDir](Request&) -> Result<Response> {
        auto page = serveFile(webDir, "console.html");
        if (!page) return page;
        // The URL carries a ticket: keep it out of caches and other sites' Referer headers.
        page->headers.emplace_back("Cache-Control", "no-store");
        page->headers.emplace_back("Referrer-Policy", "no-referrer");
        return page;
    });
    router.add("GET", "/static/xterm/{file}", [webDir](Request& r) -> Result<Response> {
        const std::string root = webDir + "/node_modules/@xterm/xterm";
        auto file = serveFile(root + "/lib", r.param("file"));
        if (!file && file.error().code == ErrorCode::NotFound) file = serveFile(root + "/css", r.param("file"));
        return withAssetHint(std::move(file));
    });
    router.add("GET", "/static/xterm-addon-fit/{file}", [webDir](Request& r) -> Result<Response> {
        return withAssetHint(serveFile(webDir + "/node_modules/@xterm/addon-fit/lib", r.param("file")));
    });
}

}  // namespace paddock::server
