#include "paddock/server/compat_metrics.hpp"
#include "paddock/server/error_mapping.hpp"
#include "paddock/server/http_metrics.hpp"
#include "paddock/server/json.hpp"
#include "paddock/server/openapi.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/static_files.hpp"

#include <paddock/core/iso_time.hpp>
#include <paddock/core/placement.hpp>

#include <algorithm>

namespace paddock::server {

namespace {

Result<Response> healthz(Runtime& runtime) {
    std::vector<std::pair<std::string, bool>> reachability;
    bool allReachable = true;
    for (Site* site : runtime.sites()) {
        reachability.emplace_back(site->name(), site->reachable());
        allReachable = allReachable && reachability.back().second;
    }
    JsonWriter json;
    json.beginObject().field("status", allReachable ? "ok" : "degraded").key("sites").beginArray();
    for (const auto& [name, reachable] : reachability)
        json.beginObject().field("name", name).field("reachable", reachable).endObject();
    json.endArray().endObject();
    return jsonResponse(allReachable ? 200 : 503, json.str());
}

Result<Response> plugins(Runtime& runtime) {
    JsonWriter json;
    json.beginObject().key("plugins").beginArray();
    for (const auto& plugin : runtime.plugins().plugins()) {
        const auto& info = plugin->info();
        json.beginObject()
            .field("id", info.id)
            .field("name", info.name)
            .field("version", info.version)
            .field("description", info.description)
            .field("kind", pluginKindName(info.kind))
            .field("abi_version", std::to_string(info.abi_major) + "." + std::to_string(info.abi_minor))
            .field("path", info.path);
        json.key("capabilities");
        json.values(info.capabilities);
        json.key("operations");
        json.values(info.operations);
        json.endObject();
    }
    json.endArray().key("failures").beginArray();
    for (const auto& failure : runtime.plugins().failures())
        json.beginObject().field("path", failure.path).field("message", failure.message).endObject();
    json.endArray().endObject();
    return jsonResponse(200, json.str());
}

// major*1e6 + minor*1e3 + release (libvirt's encoding) as "major.minor.release".
std::string versionString(uint64_t encoded) {
    return std::to_string(encoded / 1000000) + "." + std::to_string(encoded / 1000 % 1000) + "." +
           std::to_string(encoded % 1000);
}

void writeResources(JsonWriter& json, const SiteResources& resources) {
    json.key("resources");
    if (!resources.host) {
        json.null();
        return;
    }
    constexpr uint64_t kMiB = 1024 * 1024;
    json.beginObject()
        .field("memory_total_mb", resources.host->memory_total_bytes / kMiB)
        .field("memory_free_mb", resources.host->memory_free_bytes / kMiB)
        .field("cpus", resources.host->cpus)
        .field("checked_at", isoTime(resources.checked_at));
    json.key("error").stringOrNull(resources.error);
    json.endObject();
}

// One site as GET /api/v1/sites lists it; `detailed` adds what GET /api/v1/sites/{name} shows.
void writeSite(JsonWriter& json, Runtime& runtime, Site& where, bool detailed) {
    const SiteConfig& site = where.config();
    const SiteStatus status = where.status();
    json.beginObject()
        .field("name", site.name)
        .field("backend", site.backend)
        .field("uri", site.uri)
        .field("state", status.reachable ? "connected" : "unavailable")
        .field("reachable", status.reachable);
    json.key("reason");
    if (status.reachable)
        json.null();
    else
        json.value(status.error);
    json.key("events");
    if (status.reachable)
        json.value(status.pushes_events ? "push" : "poll");
    else
        json.null();
    json.field("poll_interval_s", site.poll_interval_ms / 1000.0)
        .field("domain_type", site.domain_type)
        .field("storage_pool", site.storage_pool)
        .field("network_mode", site.network_mode)
        .field("network_name", site.network_name)
        .field("default_vcpus", site.default_vcpus)
        .field("default_memory_mb", site.default_memory_mb)
        .field("stop_timeout_s", site.stop_timeout_s);
    json.key("default_template").stringOrNull(site.default_template);
    const std::vector<TemplateCheck> checks = where.templateChecks();
    json.key("templates").beginArray();
    for (const auto& t : site.templates) {
        if (!detailed) {
            json.value(t.name);
            continue;
        }
        const auto check = std::find_if(checks.begin(), checks.end(), [&](const auto& c) { return c.name == t.name; });
        const bool known = check != checks.end();
        json.beginObject().field("name", t.name).field("usable", !known || check->usable);
        json.key("reason").stringOrNull(known ? check->reason : std::string("not checked yet"));
        json.key("checked_at");
        if (known && check->checked)
            json.value(isoTime(check->checked_at));
        else
            json.null();
        json.key("base_image").stringOrNull(t.base_image);
        json.field("memory_mb", templateMemoryMb(site, &t))
            .field("vcpus", t.vcpus != 0 ? t.vcpus : site.default_vcpus)
            .endObject();
    }
    json.endArray();
    json.key("hypervisor");
    if (status.reachable) {
        const HostInfo& host = status.host;
        json.beginObject().field("type", host.hypervisor);
        json.key("version");
        if (host.hypervisor_version != 0)
            json.value(versionString(host.hypervisor_version));
        else
            json.null();
        json.key("library_version");
        if (host.library_version != 0)
            json.value(versionString(host.library_version));
        else
            json.null();
        json.endObject();
        json.key("host")
            .beginObject()
            .field("hypervisor", host.hypervisor)
            .field("hostname", host.hostname)
            .field("auto_domain_type", host.auto_domain_type)
            .field("library_version", host.library_version)
            .field("hypervisor_version", host.hypervisor_version)
            .endObject();
    } else {
        json.null();
        json.key("host").null();
    }
    // Last-known figures (read every few seconds off the request path), shown while the site is
    // down too: they say what the host had when it was last seen.
    writeResources(json, where.resources());
    // From the plugin, not the connection, so an unreachable site still shows them.
    auto backend = runtime.plugins().backend(site.backend);
    json.key("capabilities");
    if (backend)
        json.values(backend.value()->info().capabilities);
    else
        json.beginArray().endArray();
    json.key("operations");
    if (backend)
        json.values(backend.value()->info().operations);
    else
        json.beginArray().endArray();
    if (detailed) {
        json.key("labels").beginObject();
        for (const auto& [key, value] : site.labels) json.field(key, value);
        json.endObject();
        // What placement counts (a listing only before the view's first one is indexed).
        const PlacementCandidate load = placementCandidate(site, where.load(), "", 0);
        json.key("capacity").beginObject();
        json.key("max_vms");
        if (site.max_vms != 0)
            json.value(site.max_vms);
        else
            json.null();
        json.key("max_memory_mb");
        if (site.max_memory_mb != 0)
            json.value(site.max_memory_mb);
        else
            json.null();
        json.key("vms");
        if (load.up)
            json.value(load.vm_count);
        else
            json.null();
        json.key("memory_mb");
        if (load.up)
            json.value(load.committed_memory_mb);
        else
            json.null();
        json.endObject();
        json.key("pools").beginArray();
        for (HotPool* pool : runtime.pools()) {
            const auto where = pool->sites();
            if (std::find(where.begin(), where.end(), site.name) != where.end()) json.value(pool->config().name);
        }
        json.endArray();
    }
    json.endObject();
}

Result<Response> sites(Runtime& runtime) {
    JsonWriter json;
    json.beginObject().key("sites").beginArray();
    for (Site* where : runtime.sites()) writeSite(json, runtime, *where, false);
    json.endArray().endObject();
    return jsonResponse(200, json.str());
}

Result<Response> siteDetail(Runtime& runtime, const std::string& name) {
    auto where = runtime.site(name);
    // An empty name would mean "the first site" to Runtime::site; the route never matches one,
    // but the lookup must not depend on that.
    if (name.empty() || !where) return makeError(ErrorCode::NotFound, name.empty() ? "no site ''" : where.error().message);
    JsonWriter json;
    writeSite(json, runtime, *where.value(), true);
    return jsonResponse(200, json.str());
}

}  // namespace

void addSystemRoutes(Router& router, const RouteContext& context) {
    Runtime& runtime = context.runtime;
    const std::string webDir = context.webDir;

    router.add("GET", "/healthz", [&runtime](Request&) { return healthz(runtime); });
    router.add("GET", "/metrics", [&runtime, compat = context.compatMetrics](Request&) -> Result<Response> {
        if (compat != nullptr) compat->refresh();
        for (Site* site : runtime.sites()) site->publishConnectionState();
        Response response;
        response.contentType = kMetricsContentType;
        response.body = serializeMetrics(*runtime.metrics().registry());
        return response;
    });
    router.add("GET", "/openapi.json",
               [](Request&) -> Result<Response> { return jsonResponse(200, std::string(openApiDocument())); });
    router.add("GET", "/docs", [webDir](Request&) { return serveFile(webDir, "docs.html"); });
    addAssetRoute(router, "/static/swagger-ui", webDir, {"swagger-ui-dist"}, "Swagger UI");
    // The earlier VM manager (FastAPI) had ReDoc beside Swagger UI.
    router.add("GET", "/redoc", [webDir](Request&) { return serveFile(webDir, "redoc.html"); });
    addAssetRoute(router, "/static/redoc", webDir, {"redoc/bundles"}, "ReDoc");
    // What runs where (hosts, URIs, plugin paths) is for admins.
    router.add(
        "GET", "/api/v1/plugins", [&runtime](Request&) { return plugins(runtime); }, Role::Admin);
    router.add(
        "GET", "/api/v1/sites", [&runtime](Request&) { return sites(runtime); }, Role::Admin);
    router.add(
        "GET", "/api/v1/sites/{site}", [&runtime](Request& r) { return siteDetail(runtime, r.param("site")); },
        Role::Admin);
}

}  // namespace paddock::server
