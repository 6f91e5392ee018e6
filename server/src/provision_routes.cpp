// Provisioning: running a VM's recipe (202 + operation), the provisioner's status, and the become
// password, which goes in and never comes out (only whether one is set). The old teaching tool's
// /ansible/auth and /ansible/clear answer in its shape.
#include "paddock/server/compat_requests.hpp"
#include "paddock/server/json.hpp"
#include "paddock/server/provision_requests.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/vm_views.hpp"

namespace paddock::server {

namespace {

Result<Response> provisionVm(Runtime& runtime, const Request& request) {
    if (!isBlank(request.body)) {
        auto body = parseJsonObject(request.body);
        if (!body) return std::move(body).error();
        if (auto known = rejectUnknownFields(body.value(), {}); !known) return std::move(known).error();
    }
    auto located = locateRequestedVm(runtime, request);
    if (!located) return std::move(located).error();
    auto op = runtime.provisioning().enqueue(located->site->name(), located->vm.domain.name, request.identity.name);
    if (!op) return std::move(op).error();
    JsonWriter json;
    json.beginObject().key("operation");
    writeOperation(json, op.value());
    json.endObject();
    Response response = jsonResponse(202, json.str());
    response.headers.emplace_back("Location", "/api/v1/operations/" + op->id);
    return response;
}

Result<Response> provisionerStatus(Runtime& runtime) {
    const ProvisionerStatus s = runtime.provisioning().status();
    JsonWriter json;
    json.beginObject();
    json.key("plugin").stringOrNull(s.plugin);
    json.field("loaded", s.loaded);
    json.key("version").stringOrNull(s.version);
    json.key("problem").stringOrNull(s.problem);
    json.field("secret_set", s.secret_set);
    json.field("queued", s.queued).field("running", s.running).field("max_parallel", s.max_parallel);
    json.endObject();
    return jsonResponse(200, json.str());
}

void writeSecretState(JsonWriter& json, const SecretStore& secret) {
    const auto at = secret.setAt();
    json.field("set", at.has_value());
    json.key("set_at").stringOrNull(at ? isoTime(*at) : std::string());
}

// The body is read in place and wiped (withPasswordFromBody): the request holds no copy after.
Status takePassword(Runtime& runtime, Request& request) {
    Status stored = withPasswordFromBody(request.body, [&](std::string_view password) { return runtime.secret().set(password); });
    (void)runtime.audit().record(request.identity.name, "", "", "provisioner_secret_set", stored);
    return stored;
}

Result<Response> setSecret(Runtime& runtime, Request& request) {
    if (Status stored = takePassword(runtime, request); !stored) return std::move(stored).error();
    JsonWriter json;
    json.beginObject();
    writeSecretState(json, runtime.secret());
    json.endObject();
    return jsonResponse(200, json.str());
}

Result<Response> clearSecret(Runtime& runtime, const Request& request) {
    const bool was = runtime.secret().clear();
    (void)runtime.audit().record(request.identity.name, "", "", "provisioner_secret_clear", Status{});
    JsonWriter json;
    json.beginObject();
    writeSecretState(json, runtime.secret());
    json.field("cleared", was).endObject();
    return jsonResponse(200, json.str());
}

Result<Response> secretState(Runtime& runtime) {
    JsonWriter json;
    json.beginObject();
    writeSecretState(json, runtime.secret());
    json.endObject();
    return jsonResponse(200, json.str());
}

Response compatOk(const std::string& message) {
    JsonWriter json;
    json.beginObject().field("status", "ok").field("message", message).endObject();
    return jsonResponse(200, json.str());
}

}  // namespace

void addProvisionRoutes(Router& router, const RouteContext& context) {
    Runtime& rt = context.runtime;
    router.add("POST", "/api/v1/vms/{name}/provision", [&rt](Request& r) { return provisionVm(rt, r); });
    router.add("GET", "/api/v1/provisioner", [&rt](Request&) { return provisionerStatus(rt); }, Role::Operator);
    router.add("GET", "/api/v1/provisioner/secret", [&rt](Request&) { return secretState(rt); }, Role::Admin);
    router.add("POST", "/api/v1/provisioner/secret", [&rt](Request& r) { return setSecret(rt, r); }, Role::Admin);
    router.add("DELETE", "/api/v1/provisioner/secret", [&rt](Request& r) { return clearSecret(rt, r); }, Role::Admin);
    router.add(
        "POST", "/ansible/auth",
        [&rt](Request& r) -> Result<Response> {
            if (Status stored = takePassword(rt, r); !stored) {
                // The old service's pydantic model refused a bad body with 422.
                if (stored.error().code != ErrorCode::InvalidArgument) return std::move(stored).error();
                return validationErrorResponse({{"value_error", {"body", "password"}, stored.error().message, {}, {}}});
            }
            return compatOk("Become password stored in memory");
        },
        Role::Admin);
    router.add(
        "POST", "/ansible/clear",
        [&rt](Request& r) -> Result<Response> {
            (void)clearSecret(rt, r);
            return compatOk("Become password cleared");
        },
        Role::Admin);
}

}  // namespace paddock::server
