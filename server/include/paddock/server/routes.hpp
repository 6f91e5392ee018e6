// The route families. Each adds its routes to a Router; handlers keep references to the
// Runtime, which must outlive the Router. Handlers run concurrently on the HTTP worker threads;
// a slow VM operation occupies only its own thread.
#pragma once

#include "paddock/core/runtime.hpp"
#include "paddock/server/router.hpp"

#include <string>

namespace paddock::server {

struct RouteContext {
    Runtime& runtime;
    std::string webDir;      // absolute; holds docs.html and node_modules/
    std::string version;     // Paddock's version, reported by GET /
};

// /healthz, /metrics, /openapi.json, /docs, /static/swagger-ui/{file}, /api/v1/plugins, /api/v1/sites
void addSystemRoutes(Router& router, const RouteContext& context);
// /api/v1/vms...
void addVmRoutes(Router& router, const RouteContext& context);
// The earlier Python tools' routes (COMPAT.md): /, /vms/...
void addCompatRoutes(Router& router, const RouteContext& context);

// Paths that never need a token whatever the config says: the docs and what they load.
inline constexpr const char* kAlwaysPublicPaths[] = {"/docs", "/openapi.json", "/static/*"};

}  // namespace paddock::server
