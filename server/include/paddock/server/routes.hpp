// The route families. Each adds its routes to a Router; handlers keep references to the
// Runtime, which must outlive the Router. Handlers run concurrently on the HTTP worker threads;
// a slow VM operation occupies only its own thread.
#pragma once

#include "paddock/core/runtime.hpp"
#include "paddock/server/router.hpp"

#include <string>

namespace paddock::server {

class StatusStreams;
class EventStream;
class TerminalBridge;
class ConsoleTickets;
class PublicUrls;

class CompatMetrics;

struct RouteContext {
    Runtime& runtime;
    std::string webDir;                      // absolute; holds docs.html and node_modules/
    std::string version;                     // Paddock's version, reported by GET /
    CompatMetrics* compatMetrics = nullptr;  // refreshed by GET /metrics when set; must outlive the Router
};

// /healthz, /metrics, /openapi.json, /docs, /static/swagger-ui/{file}, /redoc, /static/redoc/{file},
// /api/v1/plugins, /api/v1/sites
void addSystemRoutes(Router& router, const RouteContext& context);
// /api/v1/vms...
void addVmRoutes(Router& router, const RouteContext& context);
// A VM's snapshots and backups: /api/v1/vms/{name}/snapshots..., /api/v1/vms/{name}/backups...
void addStateRoutes(Router& router, const RouteContext& context);
// Watching VMs: /api/v1/vms/{name}/watch, .../heartbeat, .../revert-request, .../idle-reset, and
// with exhibit.vm set the exhibition controller's routes (GET /, /api/v1/status, /api/v1/heartbeat,
// /api/v1/vm/..., /api/v1/snapshot..., /api/v1/revert/..., /api/v1/idle/reset).
void addWatchRoutes(Router& router, const RouteContext& context);
// The earlier Python tools' routes (COMPAT.md): / (unless the exhibit profile answers it), /vms/...
void addCompatRoutes(Router& router, const RouteContext& context);
// Words the errors of every compatibility route of the earlier VM manager (/, /vms/..., /pool/...,
// /ws/vm/...) as FastAPI did: {"detail": "<message>"}. Call it once every route is registered.
void answerCompatErrorsAsFastApi(Router& router);
// /api/v1/pools..., /api/v1/leases..., and the compat /pool/status, /pool/allocate.
// Allocations that may wait (wait_slots.hpp) take a slot of `waits`, which must outlive the Router.
class WaitSlots;
void addPoolRoutes(Router& router, const RouteContext& context, WaitSlots& waits);
// Operations: GET /api/v1/operations, GET|DELETE /api/v1/operations/{id}, GET .../{id}/output.
void addOperationRoutes(Router& router, const RouteContext& context);
// Provisioning: POST /api/v1/vms/{name}/provision, GET /api/v1/provisioner, GET|POST|DELETE
// /api/v1/provisioner/secret, and the old POST /ansible/auth, POST /ansible/clear.
void addProvisionRoutes(Router& router, const RouteContext& context);
// Recorded terminal sessions: GET /api/v1/sessions, GET /api/v1/sessions/{id}/cast, the replay page
// GET /sessions/{id} and its asciinema-player assets /static/asciinema-player/{file}.
void addSessionRoutes(Router& router, const RouteContext& context);

// The streams WebSocket routes hand their sockets to; both must outlive the Router.
struct StreamContext {
    StatusStreams& status;
    EventStream& events;
};
// WS /api/v1/vms/{name}/status, WS /api/v1/events and the compat WS /ws/vm/{name}/status.
void addWebSocketRoutes(Router& router, const RouteContext& context, const StreamContext& streams);

// Browser terminals: POST /api/v1/vms/{name}/console (one-time ticket), WS /api/v1/vms/{name}/terminal,
// the compat WS /ws/vm/{name}/terminal, the console page GET /console/{name} and its xterm.js assets.
// `urls` builds the absolute console_url and websocket_url (public_urls.hpp).
struct TerminalContext {
    TerminalBridge& bridge;
    ConsoleTickets& tickets;
    const PublicUrls& urls;
};
void addTerminalRoutes(Router& router, const RouteContext& context, const TerminalContext& terminal);

// Owner tokens (token_store.hpp): POST/GET /api/v1/tokens, DELETE /api/v1/tokens/{id}, admins only;
// and GET /api/v1/whoami (any valid token: its own name, role and owner).
class TokenStore;
struct TokenContext {
    TokenStore& store;
    bool enabled;  // auth.mode token: minting under mode none is refused (409)
};
void addTokenRoutes(Router& router, const RouteContext& context, const TokenContext& tokens);
// Staff pages: GET /ui (and /ui/: the control panel, web/panel/index.html), its assets
// GET /ui/assets/{file} (web/panel/), and GET /ui/exhibit (exhibit.html, the exhibit panel of a
// watched VM).
void addUiRoutes(Router& router, const RouteContext& context);

// Marks the routes owner-scoped tokens may call (Route::ownerTokens); call it once every route
// is registered. Every other route answers such a token 403.
void openRoutesToOwnerTokens(Router& router);

// Paths that never need a token whatever the config says: the docs and what they load.
// The console page holds no secret: its WebSocket needs a ticket or token. Nor do the replay
// page and the /ui/ pages: they fetch with a token.
inline constexpr const char* kAlwaysPublicPaths[] = {"/docs",      "/redoc",      "/openapi.json", "/static/*",
                                                     "/console/*", "/sessions/*", "/ui",          "/ui/*"};

}  // namespace paddock::server
