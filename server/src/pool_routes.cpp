// Hot pools and leases (/api/v1/pools, /api/v1/leases, /api/v1/operations) and the earlier
// Python tool's /pool/status and /pool/allocate, now backed by real leases (COMPAT.md).
#include "paddock/server/compat_requests.hpp"
#include "paddock/server/error_mapping.hpp"
#include "paddock/server/pool_requests.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/vm_views.hpp"
#include "paddock/server/wait_slots.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

namespace paddock::server {

namespace {

constexpr const char* kCompatOwner = "anonymous";

// The template a pool's VMs are made from, as its (first) site resolves it: a pool spanning
// sites names the same template on each (config.cpp checks).
std::string templateOf(Runtime& runtime, const PoolStatus& status) {
    if (status.members.empty()) return status.config.template_name;
    auto tmpl = runtime.site(status.members.front().site).and_then([&](Site* site) {
        return site->resolveTemplate(status.config.template_name);
    });
    return tmpl && tmpl.value() != nullptr ? tmpl.value()->name : std::string();
}

void writeCounts(JsonWriter& json, const PoolCounts& c) {
    json.field("idle", c.idle).field("allocated", c.allocated).field("booting", c.booting).field("total", c.total);
}

void writePool(JsonWriter& json, Runtime& runtime, const PoolStatus& s) {
    json.beginObject().field("name", s.config.name);
    // A pool spanning sites has no one site: `sites` and `members` say where its VMs are.
    json.key("site").stringOrNull(s.site);
    json.key("sites").beginArray();
    for (const auto& m : s.members) json.value(m.site);
    json.endArray();
    json.field("mode", s.config.mode)
        .field("template", templateOf(runtime, s))
        .field("min_idle", s.config.min_idle)
        .field("max_total", s.config.max_total)
        .field("max_per_owner", s.config.max_per_owner)
        .field("on_empty", s.config.on_empty)
        .field("default_ttl_s", s.config.default_ttl_s)
        .field("max_ttl_s", s.config.max_ttl_s);
    writeCounts(json, s.counts);
    json.field("recovered", s.recovered);
    json.key("last_error").stringOrNull(s.last_error);
    json.key("members").beginArray();
    for (const auto& m : s.members) {
        json.beginObject().field("site", m.site).field("connected", m.connected).field("target_idle", m.target_idle);
        writeCounts(json, m.counts);
        json.field("recovered", m.recovered);
        json.key("last_error").stringOrNull(m.last_error);
        json.key("template_unusable").stringOrNull(m.template_unusable);
        json.endObject();
    }
    json.endArray();
    json.endObject();
}

Response leaseResponse(int status, const Lease& lease) {
    JsonWriter json;
    writeLease(json, lease);
    return jsonResponse(status, json.str());
}

Result<Response> listPools(Runtime& runtime) {
    JsonWriter json;
    json.beginObject().key("pools").beginArray();
    for (auto* pool : runtime.pools()) writePool(json, runtime, pool->status());
    json.endArray().endObject();
    return jsonResponse(200, json.str());
}

Result<Response> getPool(Runtime& runtime, const Request& request) {
    auto pool = runtime.pool(request.param("pool"));
    if (!pool) return std::move(pool).error();
    JsonWriter json;
    writePool(json, runtime, pool.value()->status());
    return jsonResponse(200, json.str());
}

// A wait slot when this allocation may block its worker (a VM to start or restore and wait for,
// or a retry waiting for its Idempotency-Key twin), none when it cannot (a running-mode pool
// hands out a ready VM at once); Unavailable when every slot is taken.
Result<std::optional<WaitSlots::Slot>> waitSlotFor(WaitSlots& waits, const HotPool& pool, const Request& request) {
    if (pool.config().mode == PoolMode::Running && !request.header("idempotency-key"))
        return std::optional<WaitSlots::Slot>();
    return waits.enter().map([](WaitSlots::Slot slot) { return std::optional<WaitSlots::Slot>(std::move(slot)); });
}

Result<Response> allocate(Runtime& runtime, WaitSlots& waits, const Request& request) {
    auto pool = runtime.pool(request.param("pool"));
    if (!pool) return std::move(pool).error();
    auto body = parseAllocateBody(request.body);
    if (!body) return std::move(body).error();

    auto slot = waitSlotFor(waits, *pool.value(), request);
    if (!slot) return std::move(slot).error();
    AllocateRequest allocation;
    const std::string& bound = request.identity.owner;
    if (!bound.empty() && body->owner && *body->owner != bound)
        return makeError(ErrorCode::Forbidden,
                         "'" + request.identity.name + "' allocates for owner '" + bound + "' only");
    allocation.owner = body->owner.value_or(bound.empty() ? request.identity.name : bound);
    allocation.ttl_s = body->ttl_s;
    allocation.idempotency_key = request.header("idempotency-key").value_or("");
    allocation.actor = request.identity.name;
    auto done = pool.value()->allocate(allocation);
    if (!done) return std::move(done).error();
    JsonWriter json;
    Response response;
    if (done->operation) {
        writeOperation(json, *done->operation);
        response = jsonResponse(202, json.str());
        response.headers.emplace_back("Location", "/api/v1/operations/" + done->operation->id);
    } else {
        response = leaseResponse(200, *done->lease);
    }
    if (done->replayed) response.headers.emplace_back("Idempotent-Replayed", "true");
    return response;
}

Result<Response> listLeases(Runtime& runtime, const Request& request) {
    std::vector<HotPool*> pools;
    if (const auto name = request.queryValue("pool")) {
        auto pool = runtime.pool(*name);
        if (!pool) return std::move(pool).error();
        pools.push_back(pool.value());
    } else {
        pools = runtime.pools();
    }
    // An owner-scoped token lists its owner's leases; asking for another owner's finds none.
    auto owner = request.queryValue("owner");
    if (!request.identity.owner.empty()) {
        if (owner && *owner != request.identity.owner) pools.clear();
        owner = request.identity.owner;
    }
    JsonWriter json;
    json.beginObject().key("leases").beginArray();
    for (auto* pool : pools)
        for (const auto& lease : pool->leases(owner)) writeLease(json, lease);
    json.endArray().endObject();
    return jsonResponse(200, json.str());
}

// The pool holding lease `id`, when the caller may reach that lease: another owner's lease is
// as unknown to an owner-scoped token as one that does not exist.
Result<HotPool*> poolOfReachableLease(Runtime& runtime, const Request& request, const std::string& id) {
    auto pool = runtime.poolOfLease(id);
    if (!pool) return pool;
    const auto lease = pool.value()->lease(id);
    if (!lease || !request.identity.mayReach(lease->owner))
        return makeError(ErrorCode::NotFound, "unknown lease '" + id + "'");
    return pool;
}

Result<Response> getLease(Runtime& runtime, const Request& request) {
    const std::string& id = request.param("id");
    auto pool = poolOfReachableLease(runtime, request, id);
    if (!pool) return std::move(pool).error();
    auto lease = pool.value()->lease(id);
    if (!lease) return makeError(ErrorCode::NotFound, "unknown lease '" + id + "'");
    return leaseResponse(200, *lease);
}

Result<Response> extendLease(Runtime& runtime, const Request& request) {
    const std::string& id = request.param("id");
    auto ttl = parseExtendBody(request.body);
    if (!ttl) return std::move(ttl).error();
    auto pool = poolOfReachableLease(runtime, request, id);
    if (!pool) return std::move(pool).error();
    auto lease = pool.value()->extend(id, ttl.value(), request.identity.name);
    if (!lease) return std::move(lease).error();
    return leaseResponse(200, lease.value());
}

Result<Response> releaseLease(Runtime& runtime, const Request& request) {
    const std::string& id = request.param("id");
    auto pool = poolOfReachableLease(runtime, request, id);
    if (!pool) return std::move(pool).error();
    if (auto released = pool.value()->release(id, request.identity.name); !released) return std::move(released).error();
    JsonWriter json;
    json.beginObject().field("status", "released").field("id", id).endObject();
    return jsonResponse(200, json.str());
}

// ---- compatibility (COMPAT.md): the first pool of the first site ----------------------------

HotPool* compatPool(Runtime& runtime) {
    const auto& sites = runtime.config().sites;
    if (sites.empty() || sites.front().pools.empty()) return nullptr;
    auto pool = runtime.pool(sites.front().pools.front().name);
    return pool ? pool.value() : nullptr;
}

Result<Response> compatStatus(Runtime& runtime) {
    JsonWriter json;
    json.beginArray();
    if (HotPool* pool = compatPool(runtime)) {
        auto vms = runtime.vms(pool->sites().front()).and_then([](VmService* service) { return service->list(); });
        if (!vms) return std::move(vms).error();
        for (const auto& name : pool->vmNames()) {
            const auto it =
                std::find_if(vms->begin(), vms->end(), [&](const VmView& v) { return v.domain.name == name; });
            json.beginObject().field("name", name);
            if (it == vms->end()) {
                json.key("state_code").null().field("state", "not_found");
            } else {
                json.field("state_code", static_cast<int>(it->domain.state))
                    .field("state", compatStateWord(it->domain.state));
            }
            json.endObject();
        }
    }
    json.endArray();
    return jsonResponse(200, json.str());
}

Result<Response> compatAllocate(Runtime& runtime, WaitSlots& waits, const Request& request) {
    // FastAPI checked the body before the handler ran.
    auto body = readCompatAllocate(request.body);
    if (!body.value) return validationErrorResponse(body.issues);
    HotPool* pool = compatPool(runtime);
    if (pool == nullptr) return makeError(ErrorCode::Unavailable, "no pool is configured (sites[0].pools)");
    auto slot = waitSlotFor(waits, *pool, request);
    if (!slot) return std::move(slot).error();

    AllocateRequest allocation;
    allocation.owner = body.value->owner.value_or(kCompatOwner);
    // The old clients never named an owner and allocated as often as they liked.
    allocation.enforce_owner_cap = body.value->owner.has_value();
    // Nor did they extend: they delete the VM when done. Without ttl_s the lease lasts until then.
    allocation.ttl_s = body.value->ttl_s;
    allocation.expires = body.value->ttl_s.has_value();
    allocation.idempotency_key = request.header("idempotency-key").value_or("");
    allocation.actor = request.identity.name;
    allocation.allow_cold = false;
    auto done = pool->allocate(allocation);
    if (!done) return std::move(done).error();
    JsonWriter json;
    json.beginObject().field("vm_name", done->lease->vm).endObject();
    return jsonResponse(200, json.str());
}

}  // namespace

void addPoolRoutes(Router& router, const RouteContext& context, WaitSlots& waits) {
    Runtime& rt = context.runtime;
    router.add("GET", "/api/v1/pools", [&rt](Request&) { return listPools(rt); });
    router.add("GET", "/api/v1/pools/{pool}", [&rt](Request& r) { return getPool(rt, r); });
    router.add("POST", "/api/v1/pools/{pool}/allocate", [&rt, &waits](Request& r) { return allocate(rt, waits, r); });
    router.add("GET", "/api/v1/leases", [&rt](Request& r) { return listLeases(rt, r); });
    router.add("GET", "/api/v1/leases/{id}", [&rt](Request& r) { return getLease(rt, r); });
    router.add("POST", "/api/v1/leases/{id}/extend", [&rt](Request& r) { return extendLease(rt, r); });
    router.add("DELETE", "/api/v1/leases/{id}", [&rt](Request& r) { return releaseLease(rt, r); });
    router.add("GET", "/pool/status", [&rt](Request&) { return compatStatus(rt); });
    router.add("POST", "/pool/allocate", [&rt, &waits](Request& r) { return compatAllocate(rt, waits, r); });
}

}  // namespace paddock::server
