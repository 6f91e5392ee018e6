// Owner-scoped tokens: minting, listing and revoking them (admins), and the one list of routes
// such a token may call at all; and GET /api/v1/whoami, how any caller learns what its own token
// may do.
#include "paddock/core/audit_log.hpp"
#include "paddock/server/json.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/token_requests.hpp"
#include "paddock/server/token_store.hpp"

namespace paddock::server {

namespace {

void writeToken(JsonWriter& json, const MintedToken& t) {
    json.field("id", t.id)
        .field("name", t.name)
        .field("owner", t.owner)
        .field("role", roleName(t.role))
        .field("created_by", t.created_by)
        .field("created_at", isoTime(t.created_at))
        .field("expires_at", isoTime(t.expires_at));
}

Result<Response> mintToken(const TokenContext& tokens, Runtime& rt, const Request& r) {
    if (!tokens.enabled)
        return makeError(ErrorCode::Conflict,
                         "auth.mode is none: every caller is admin, so an owner token would bind nobody");
    auto body = parseMintTokenBody(r.body);
    if (!body) return std::move(body).error();
    auto minted = tokens.store.mint(body->owner, body->name, body->role, body->ttl, r.identity.name);
    // The secret never reaches the audit log: the token's id (and owner, for a refusal) names it.
    const Status outcome = minted ? Status{} : Status(minted.error());
    (void)rt.audit().record(r.identity.name, "", minted ? minted->token.id : "owner " + body->owner, "token_mint",
                            outcome);
    if (!minted) return std::move(minted).error();
    JsonWriter json;
    json.beginObject();
    writeToken(json, minted->token);
    json.field("token", minted->secret).endObject();
    Response response = jsonResponse(201, json.str());
    response.headers.emplace_back("Cache-Control", "no-store");
    response.headers.emplace_back("Location", "/api/v1/tokens/" + minted->token.id);
    return response;
}

Result<Response> listTokens(const TokenContext& tokens, const Request& r) {
    JsonWriter json;
    json.beginObject().key("tokens").beginArray();
    for (const auto& t : tokens.store.list(r.queryValue("owner").value_or(""))) {
        json.beginObject();
        writeToken(json, t);
        json.endObject();
    }
    json.endArray().endObject();
    return jsonResponse(200, json.str());
}

Result<Response> revokeToken(const TokenContext& tokens, Runtime& rt, const Request& r) {
    const std::string& id = r.param("id");
    auto revoked = rt.audit().record(r.identity.name, "", id, "token_revoke", tokens.store.revoke(id));
    if (!revoked) return std::move(revoked).error();
    JsonWriter json;
    json.beginObject().field("status", "revoked");
    writeToken(json, revoked.value());
    json.endObject();
    return jsonResponse(200, json.str());
}

// Only what the caller already holds: the token's name, role and owner, never the secret.
Result<Response> whoami(const Request& r) {
    JsonWriter json;
    json.beginObject().field("name", r.identity.name).field("role", roleName(r.identity.role));
    json.key("owner").stringOrNull(r.identity.owner);
    json.field("token", r.identity.token).endObject();
    Response response = jsonResponse(200, json.str());
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
}

}  // namespace

void addTokenRoutes(Router& router, const RouteContext& context, const TokenContext& tokens) {
    Runtime& rt = context.runtime;
    router.add(
        "POST", "/api/v1/tokens", [&rt, tokens](Request& r) { return mintToken(tokens, rt, r); }, Role::Admin);
    router.add(
        "GET", "/api/v1/tokens", [tokens](Request& r) { return listTokens(tokens, r); }, Role::Admin);
    router.add(
        "DELETE", "/api/v1/tokens/{id}", [&rt, tokens](Request& r) { return revokeToken(tokens, rt, r); }, Role::Admin);
    router.add("GET", "/api/v1/whoami", [](Request& r) { return whoami(r); });
}

void openRoutesToOwnerTokens(Router& router) {
    // Each of these handlers shows and acts on the token's owner's objects only (the VM lookup
    // in locateVm, the lease, operation and session checks); keep it that way when adding one.
    static const std::pair<const char*, const char*> kRoutes[] = {
        {"GET", "/api/v1/vms"},
        {"GET", "/api/v1/vms/{name}"},
        {"POST", "/api/v1/vms/{name}/start"},
        {"POST", "/api/v1/vms/{name}/stop"},
        {"POST", "/api/v1/vms/{name}/restart"},
        {"POST", "/api/v1/vms/{name}/console"},
        {"GET", "/api/v1/vms/{name}/terminal"},
        {"GET", "/api/v1/vms/{name}/status"},
        {"GET", "/api/v1/vms/{name}/snapshots"},
        {"POST", "/api/v1/vms/{name}/snapshots"},
        {"POST", "/api/v1/vms/{name}/snapshots/{snap}/revert"},
        {"DELETE", "/api/v1/vms/{name}/snapshots/{snap}"},
        {"GET", "/api/v1/vms/{name}/backups"},
        {"POST", "/api/v1/vms/{name}/backups"},
        {"GET", "/api/v1/vms/{name}/backups/{id}"},
        {"DELETE", "/api/v1/vms/{name}/backups/{id}"},
        {"POST", "/api/v1/vms/{name}/backups/{id}/restore"},
        {"GET", "/api/v1/vms/{name}/watch"},
        {"POST", "/api/v1/vms/{name}/watch"},
        {"DELETE", "/api/v1/vms/{name}/watch"},
        {"GET", "/api/v1/vms/{name}/heartbeat"},
        {"POST", "/api/v1/vms/{name}/heartbeat"},
        {"POST", "/api/v1/vms/{name}/revert-request"},
        {"POST", "/api/v1/vms/{name}/idle-reset"},
        {"POST", "/api/v1/pools/{pool}/allocate"},
        {"GET", "/api/v1/leases"},
        {"GET", "/api/v1/leases/{id}"},
        {"POST", "/api/v1/leases/{id}/extend"},
        {"DELETE", "/api/v1/leases/{id}"},
        {"GET", "/api/v1/operations"},
        {"GET", "/api/v1/operations/{id}"},
        {"GET", "/api/v1/operations/{id}/output"},
        {"GET", "/api/v1/sessions"},
        {"GET", "/api/v1/sessions/{id}/cast"},
        {"GET", "/api/v1/whoami"},
    };
    for (const auto& [method, pattern] : kRoutes) router.permitOwnerTokens(method, pattern);
}

}  // namespace paddock::server
