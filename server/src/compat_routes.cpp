// Shapes here are fixed by the earlier Python services' clients (/work/shared/COMPAT.md); do
// not "improve" them. Unknown body fields are ignored, as the old services did.
#include "paddock/server/json.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/vm_requests.hpp"
#include "paddock/server/vm_views.hpp"

namespace paddock::server {

namespace {

Response statusResponse(int status, std::string_view word, const std::string& name) {
    JsonWriter json;
    json.beginObject().field("status", word).field("vm_name", name).endObject();
    return jsonResponse(status, json.str());
}

Result<Response> create(Runtime& runtime, const Request& request) {
    auto body = parseCreateBody(request.body, CreateDialect::Compat);
    if (!body) return std::move(body).error();
    auto vms = runtime.vms();
    if (!vms) return std::move(vms).error();
    auto vm = vms.value()->create(body->request, request.identity.name);
    if (!vm) return std::move(vm).error();

    const VmView& v = vm.value();
    JsonWriter json;
    json.beginObject()
        .field("status", "created")
        .key("vm")
        .beginObject()
        .field("name", v.domain.name)
        .field("uuid", v.domain.uuid)
        // The old service reported the VM's own disk image here.
        .field("image", v.disk.empty() ? v.image : v.disk)
        .field("memory_mb", v.memory_mb())
        .field("vcpus", v.domain.vcpus);
    json.key("owner").stringOrNull(v.owner);
    json.endObject().endObject();
    return jsonResponse(201, json.str());
}

Result<Response> list(Runtime& runtime) {
    auto vms = runtime.vms().and_then([](VmService* service) { return service->list(); });
    if (!vms) return std::move(vms).error();
    JsonWriter json;
    json.beginObject().key("vms").beginArray();
    for (const auto& vm : vms.value()) {
        writeCompatVm(json, vm.domain, true);
    }
    json.endArray().endObject();
    return jsonResponse(200, json.str());
}

// start/stop/delete on the default site; `owner` in the query is accepted and not checked,
// like the old service (authorisation is the bearer token's job now).
template <class Operation>
Result<Response> act(Runtime& runtime, const Request& request, std::string_view word, Operation operation) {
    auto vms = runtime.vms();
    if (!vms) return std::move(vms).error();
    const std::string& name = request.param("name");
    if (Status done = operation(*vms.value(), name, request.identity.name); !done) return std::move(done).error();
    return statusResponse(200, word, name);
}

}  // namespace

void addCompatRoutes(Router& router, const RouteContext& context) {
    Runtime& rt = context.runtime;
    const std::string version = context.version;
    router.add("GET", "/", [version](Request&) -> Result<Response> {
        JsonWriter json;
        json.beginObject().field("message", "Paddock VM manager API").field("version", version).endObject();
        return jsonResponse(200, json.str());
    });
    router.add("POST", "/vms/create", [&rt](Request& r) { return create(rt, r); });
    router.add("GET", "/vms/list", [&rt](Request&) { return list(rt); });
    router.add("POST", "/vms/start/{name}", [&rt](Request& r) {
        return act(rt, r, "started",
                   [](VmService& s, const std::string& n, const std::string& a) { return s.start(n, a); });
    });
    router.add("POST", "/vms/stop/{name}", [&rt](Request& r) {
        return act(rt, r, "stopped", [](VmService& s, const std::string& n, const std::string& a) -> Status {
            auto outcome = s.stop(n, a);
            if (!outcome) return std::move(outcome).error();
            return {};
        });
    });
    router.add("DELETE", "/vms/delete/{name}", [&rt](Request& r) {
        return act(rt, r, "deleted",
                   [](VmService& s, const std::string& n, const std::string& a) { return s.remove(n, a); });
    });
}

}  // namespace paddock::server
