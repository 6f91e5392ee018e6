#include "paddock/server/json.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/vm_requests.hpp"
#include "paddock/server/vm_views.hpp"

namespace paddock::server {

namespace {

Response vmResponse(int status, const VmView& vm) {
    JsonWriter json;
    json.beginObject().key("vm");
    writeVm(json, vm);
    json.endObject();
    return jsonResponse(status, json.str());
}

// The VM on the site named by ?site=, or else on whichever site has it.
Result<LocatedVm> locate(Runtime& runtime, const Request& request, const std::string& name) {
    return locateVm(runtime, request.queryValue("site"), name);
}

Result<Response> listVms(Runtime& runtime, const Request& request) {
    std::vector<Site*> sites;
    if (const auto site = request.queryValue("site")) {
        auto one = runtime.site(*site);
        if (!one) return std::move(one).error();
        sites.push_back(one.value());
    } else {
        sites = runtime.sites();
    }
    JsonWriter json;
    json.beginObject().key("vms").beginArray();
    for (Site* site : sites) {
        auto vms = runtime.vms(site->name()).and_then([](VmService* service) { return service->list(); });
        if (!vms) return std::move(vms).error();
        for (const auto& vm : vms.value()) writeVm(json, vm);
    }
    json.endArray().endObject();
    return jsonResponse(200, json.str());
}

Result<Response> createVm(Runtime& runtime, const Request& request) {
    auto body = parseCreateBody(request.body, CreateDialect::Native);
    if (!body) return std::move(body).error();
    auto vms = runtime.vms(body->site.value_or(request.queryValue("site").value_or("")));
    if (!vms) return std::move(vms).error();
    auto vm = vms.value()->create(body->request, request.identity.name);
    if (!vm) return std::move(vm).error();
    Response response = vmResponse(201, vm.value());
    response.headers.emplace_back("Location", "/api/v1/vms/" + vm.value().domain.name);
    return response;
}

Result<bool> forceFlag(const Request& request) {
    const auto force = request.queryValue("force");
    if (!force || *force == "false" || *force == "0") return false;
    if (*force == "true" || *force == "1" || force->empty()) return true;
    return makeError(ErrorCode::InvalidArgument, "query parameter 'force' must be true or false");
}

std::string_view outcomeName(StopOutcome outcome) {
    switch (outcome) {
    case StopOutcome::Graceful: return "graceful";
    case StopOutcome::Forced: return "forced";
    case StopOutcome::AlreadyStopped: return "already_stopped";
    }
    return "graceful";
}

Result<Response> stopVm(Runtime& runtime, const Request& request) {
    const std::string& name = request.param("name");
    auto force = forceFlag(request);
    if (!force) return std::move(force).error();
    auto located = locate(runtime, request, name);
    if (!located) return std::move(located).error();
    VmService& service = *located.value().vms;

    StopOutcome outcome = StopOutcome::AlreadyStopped;
    if (force.value()) {
        if (located.value().vm.domain.state != DomainState::Shutoff) {
            if (auto stopped = service.forceStop(name, request.identity.name); !stopped) return std::move(stopped).error();
            outcome = StopOutcome::Forced;
        }
    } else {
        auto stopped = service.stop(name, request.identity.name);
        if (!stopped) return std::move(stopped).error();
        outcome = stopped.value();
    }
    auto vm = service.get(name);
    if (!vm) return std::move(vm).error();
    JsonWriter json;
    json.beginObject().key("vm");
    writeVm(json, vm.value());
    json.field("outcome", outcomeName(outcome)).endObject();
    return jsonResponse(200, json.str());
}

// start and restart: run the operation, answer with the VM as it is afterwards.
template <class Operation>
Result<Response> actOnVm(Runtime& runtime, const Request& request, Operation operation) {
    const std::string& name = request.param("name");
    auto located = locate(runtime, request, name);
    if (!located) return std::move(located).error();
    VmService& service = *located.value().vms;
    if (Status done = operation(service, name, request.identity.name); !done) return std::move(done).error();
    auto vm = service.get(name);
    if (!vm) return std::move(vm).error();
    return vmResponse(200, vm.value());
}

}  // namespace

void addVmRoutes(Router& router, const RouteContext& context) {
    Runtime& rt = context.runtime;
    router.add("GET", "/api/v1/vms", [&rt](Request& r) { return listVms(rt, r); });
    router.add("POST", "/api/v1/vms", [&rt](Request& r) { return createVm(rt, r); });
    router.add("GET", "/api/v1/vms/{name}", [&rt](Request& r) -> Result<Response> {
        auto located = locate(rt, r, r.param("name"));
        if (!located) return std::move(located).error();
        return vmResponse(200, located.value().vm);
    });
    router.add("DELETE", "/api/v1/vms/{name}", [&rt](Request& r) -> Result<Response> {
        const std::string& name = r.param("name");
        auto located = locate(rt, r, name);
        if (!located) return std::move(located).error();
        if (auto removed = located.value().vms->remove(name, r.identity.name); !removed)
            return std::move(removed).error();
        JsonWriter json;
        json.beginObject().field("status", "deleted").field("name", name).endObject();
        return jsonResponse(200, json.str());
    });
    router.add("POST", "/api/v1/vms/{name}/start", [&rt](Request& r) {
        return actOnVm(rt, r, [](VmService& s, const std::string& n, const std::string& a) { return s.start(n, a); });
    });
    router.add("POST", "/api/v1/vms/{name}/restart", [&rt](Request& r) {
        return actOnVm(rt, r, [](VmService& s, const std::string& n, const std::string& a) { return s.restart(n, a); });
    });
    router.add("POST", "/api/v1/vms/{name}/stop", [&rt](Request& r) { return stopVm(rt, r); });
}

}  // namespace paddock::server
