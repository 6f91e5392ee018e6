// Shapes here are fixed by the earlier Python services' clients (shared/COMPAT.md); do not
// "improve" them. Errors are FastAPI's {"detail": ...} (answerCompatErrorsAsFastApi), bodies are
// read as the old pydantic models read them (compat_requests.hpp), and existing domains are
// found by any name libvirt accepted that is safe to handle (names.hpp validateExistingName).
#include "paddock/server/compat_requests.hpp"
#include "paddock/server/json.hpp"
#include "paddock/server/listing_cache.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/vm_views.hpp"

#include <chrono>
#include <optional>
#include <utility>

namespace paddock::server {

namespace {

Response statusResponse(int status, std::string_view word, const std::string& name) {
    JsonWriter json;
    json.beginObject().field("status", word).field("vm_name", name).endObject();
    return jsonResponse(status, json.str());
}

Result<Response> create(Runtime& runtime, const Request& request) {
    auto body = readCompatCreate(request.body);
    if (!body.value) return validationErrorResponse(body.issues);
    // Old clients name no site: placement chooses (config placement.policy); the answer keeps
    // the old shape, without the native API's `placement`.
    auto placed = runtime.placeCreate(*body.value, "");
    if (!placed) return std::move(placed).error();
    auto vm = placed->vms->create(*body.value, request.identity.name);
    if (!vm) return std::move(vm).error();
    const VmView& v = vm.value();

    // As the old service did: provisioning runs before the answer, and its failure leaves the VM.
    std::optional<std::string> provisionError;
    if (runtime.provisioning().provisionsOnCreate(placed->vms->templateOf(v.domain))) {
        auto ran = runtime.provisioning().runNow(v.site, v.domain.name, request.identity.name);
        if (!ran)
            provisionError = ran.error().message;
        else if (ran->status != Operation::Status::Done)
            provisionError = ran->error ? ran->error->message : std::string("provisioning did not succeed");
    }
    JsonWriter json;
    json.beginObject()
        .field("status", provisionError ? "created_with_ansible_error" : "created")
        .key("vm")
        .beginObject()
        .field("name", v.domain.name)
        .field("uuid", v.domain.uuid)
        // The old service reported the VM's own disk image here.
        .field("image", v.disk.empty() ? v.image : v.disk)
        .field("memory_mb", v.memory_mb())
        .field("vcpus", v.domain.vcpus);
    json.key("owner").stringOrNull(v.owner);
    json.endObject();
    if (provisionError) json.field("ansible_error", *provisionError);
    json.endObject();
    return jsonResponse(201, json.str());
}

// The lease a pool of `site` holds on `vm`, and that pool.
std::optional<std::pair<HotPool*, Lease>> leaseOf(Runtime& runtime, const std::string& site, const std::string& vm) {
    for (HotPool* pool : runtime.pools()) {
        for (auto& lease : pool->leases())
            if (lease.site == site && lease.vm == vm) return std::make_pair(pool, std::move(lease));
    }
    return std::nullopt;
}

// Served from `cache` while the default site's view is unchanged (listing_cache.hpp).
Result<Response> list(Runtime& runtime, ListingCache& cache, const Request& request) {
    auto vms = runtime.vms();
    if (!vms) return std::move(vms).error();
    VmService* service = vms.value();
    return cache.serve(request, {&service->site()}, [service]() -> Result<std::string> {
        auto listed = service->list();
        if (!listed) return std::move(listed).error();
        JsonWriter json;
        json.beginObject().key("vms").beginArray();
        for (const auto& vm : listed.value()) writeCompatVm(json, vm.domain, true);
        json.endArray().endObject();
        return json.str();
    });
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

// The old app allocates and then starts: its pool handed out shut-off VMs. Paddock's hands out
// running ones (whatever the pool's mode), so a start of a running VM that a pool lease holds is
// that start, already done.
Status startVm(Runtime& runtime, VmService& vms, const std::string& name, const std::string& actor) {
    Status started = vms.start(name, actor);
    if (started || started.error().code != ErrorCode::Conflict) return started;
    auto vm = vms.get(name);
    if (vm && domainIsActive(vm->domain.state) && leaseOf(runtime, vms.site().name(), name)) return {};
    return started;
}

// Deleting a pool VM ends its lease: the pool destroys the VM and refills (the old app deletes
// the VMs it was given when done, and never releases them otherwise).
Status deleteVm(Runtime& runtime, VmService& vms, const std::string& name, const std::string& actor) {
    if (auto held = leaseOf(runtime, vms.site().name(), name)) return held->first->release(held->second.id, actor);
    return vms.remove(name, actor);
}

}  // namespace

void answerCompatErrorsAsFastApi(Router& router) {
    static const std::pair<const char*, const char*> kRoutes[] = {
        {"GET", "/"},
        {"POST", "/vms/create"},
        {"GET", "/vms/list"},
        {"POST", "/vms/start/{name}"},
        {"POST", "/vms/stop/{name}"},
        {"DELETE", "/vms/delete/{name}"},
        {"GET", "/pool/status"},
        {"POST", "/pool/allocate"},
        {"GET", "/ws/vm/{name}/status"},
        {"GET", "/ws/vm/{name}/terminal"},
        {"POST", "/ansible/auth"},
        {"POST", "/ansible/clear"},
    };
    for (const auto& [method, pattern] : kRoutes) router.answerErrorsAs(ErrorStyle::FastApi, method, pattern);
}

void addCompatRoutes(Router& router, const RouteContext& context) {
    Runtime& rt = context.runtime;
    const std::string version = context.version;
    if (rt.config().exhibit.vm.empty()) {  // else the exhibition controller's GET / (watch_routes.cpp)
        router.add("GET", "/", [version](Request&) -> Result<Response> {
            JsonWriter json;
            json.beginObject().field("message", "Paddock VM manager API").field("version", version).endObject();
            return jsonResponse(200, json.str());
        });
    }
    router.add("POST", "/vms/create", [&rt](Request& r) { return create(rt, r); });
    auto listings = std::make_shared<ListingCache>();
    router.add("GET", "/vms/list", [&rt, listings](Request& r) { return list(rt, *listings, r); });
    router.add("POST", "/vms/start/{name}", [&rt](Request& r) {
        return act(rt, r, "started",
                   [&rt](VmService& s, const std::string& n, const std::string& a) { return startVm(rt, s, n, a); });
    });
    const auto stopTimeout = std::chrono::seconds(rt.config().compat.stop_timeout_s);
    router.add("POST", "/vms/stop/{name}", [&rt, stopTimeout](Request& r) {
        return act(rt, r, "stopped", [stopTimeout](VmService& s, const std::string& n, const std::string& a) -> Status {
            auto outcome = s.stop(n, a, stopTimeout);
            if (!outcome) return std::move(outcome).error();
            return {};
        });
    });
    router.add("DELETE", "/vms/delete/{name}", [&rt](Request& r) {
        return act(rt, r, "deleted",
                   [&rt](VmService& s, const std::string& n, const std::string& a) { return deleteVm(rt, s, n, a); });
    });
}

}  // namespace paddock::server
