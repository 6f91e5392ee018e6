#include "paddock/core/names.hpp"
#include "paddock/server/auth.hpp"
#include "paddock/server/json.hpp"
#include "paddock/server/listing_cache.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/vm_requests.hpp"
#include "paddock/server/vm_views.hpp"

#include <vector>

namespace paddock::server {

namespace {

Response vmResponse(int status, const VmView& vm) {
    JsonWriter json;
    json.beginObject().key("vm");
    writeVm(json, vm);
    json.endObject();
    return jsonResponse(status, json.str());
}

// Whether the request asks for foreign domains too (?all=true): admins only.
Result<Scope> scopeOf(const Request& request) {
    auto all = request.queryFlag("all");
    if (!all) return std::move(all).error();
    if (!all.value()) return Scope::Managed;
    if (auto admin = authorize(request.identity, Role::Admin); !admin)
        return makeError(ErrorCode::Forbidden, "?all=true (domains Paddock does not manage) is for admins");
    return Scope::All;
}

// The listing's JSON for `sites` as `identity` may see it, with what `filter` keeps.
Result<std::string> listingBody(Runtime& runtime, const std::vector<Site*>& sites, Scope scope,
                                const Identity& identity, const ListingFilter& filter = {}) {
    JsonWriter json;
    json.beginObject().key("vms").beginArray();
    for (Site* site : sites) {
        auto vms = runtime.vms(site->name()).and_then([&](VmService* service) { return service->list(scope); });
        if (!vms) return std::move(vms).error();
        for (const auto& vm : vms.value())
            if (identity.mayReach(vm.owner) && filter.keeps(vm.owner, vm.domain.state)) writeVm(json, vm);
    }
    json.endArray().endObject();
    return json.str();
}

// The unfiltered listing (every site, managed VMs, a caller who may see every owner) is served
// from `cache`; any filter, ?all=true or an owner token builds its own answer (tagged all the same).
Result<Response> listVms(Runtime& runtime, ListingCache& cache, const Request& request) {
    auto scope = scopeOf(request);
    if (!scope) return std::move(scope).error();
    auto filter = parseListingFilter(request.queryValue("owner"), request.queryValue("state"));
    if (!filter) return std::move(filter).error();
    std::vector<Site*> sites;
    const auto site = request.queryValue("site");
    if (site) {
        auto one = runtime.site(*site);
        if (!one) return std::move(one).error();
        sites.push_back(one.value());
    } else {
        sites = runtime.sites();
    }
    if (!site && scope.value() == Scope::Managed && request.identity.owner.empty() && filter->empty())
        return cache.serve(request, sites,
                           [&] { return listingBody(runtime, sites, Scope::Managed, request.identity); });
    auto body = listingBody(runtime, sites, scope.value(), request.identity, filter.value());
    if (!body) return std::move(body).error();
    return taggedJson(request, std::move(body).value());
}

void writePlacement(JsonWriter& json, const PlacementDecision& placement) {
    json.key("placement")
        .beginObject()
        .field("site", placement.site)
        .field("policy", placement.policy)
        .field("reason", placement.reason)
        .endObject();
}

Result<Response> createVm(Runtime& runtime, const Request& request) {
    auto body = parseCreateBody(request.body);
    if (!body) return std::move(body).error();
    const std::string site = body->site.value_or(request.queryValue("site").value_or(""));
    // A value that cannot be a site name (config validates them the same way) is bad input,
    // and is not echoed whole.
    if (!site.empty())
        if (auto valid = validateName(site, "site"); !valid) return std::move(valid).error();
    // No site: placement chooses one (config placement.policy); the ticket holds the name and
    // the site's room until the create has returned.
    auto placed = runtime.placeCreate(body->request, site);
    if (!placed) return std::move(placed).error();
    VmService* vms = placed->vms;
    ProvisionService& provisioning = runtime.provisioning();
    const std::string templateName = body->request.template_name.value_or("");
    const TemplateConfig* tmpl = findTemplate(vms->site().config(), templateName);
    const bool provision = body->provision.value_or(provisioning.provisionsOnCreate(tmpl) && body->request.start);
    // Asked for explicitly: refused before anything is made when it cannot happen.
    if (body->provision.value_or(false) && (tmpl == nullptr || !tmpl->provision))
        return makeError(ErrorCode::Conflict, "template '" + (tmpl ? tmpl->name : templateName) +
                                                  "' has no provision: section; nothing to provision with");
    // Prefer: respond-async: answered once the VM is defined; its overlay and start follow on
    // the create queue, told by the operation (a create that provisions answers when started).
    if (body->request.start && !provision && request.prefers("respond-async")) {
        auto submitted = runtime.creates().submit(*vms, body->request, request.identity.name);
        if (!submitted) return std::move(submitted).error();
        JsonWriter json;
        json.beginObject().key("vm");
        writeVm(json, submitted->vm);
        writePlacement(json, placed->decision);
        json.key("operation");
        writeOperation(json, submitted->operation);
        json.key("provision_error").null();
        json.endObject();
        Response response = jsonResponse(202, json.str());
        response.headers.emplace_back("Location", "/api/v1/operations/" + submitted->operation.id);
        response.headers.emplace_back("Preference-Applied", "respond-async");
        return response;
    }
    auto vm = vms->create(body->request, request.identity.name);
    if (!vm) return std::move(vm).error();
    const std::string location = "/api/v1/vms/" + vm.value().domain.name;
    if (!provision) {
        JsonWriter json;
        json.beginObject().key("vm");
        writeVm(json, vm.value());
        writePlacement(json, placed->decision);
        json.endObject();
        Response response = jsonResponse(201, json.str());
        response.headers.emplace_back("Location", location);
        return response;
    }
    // The VM exists either way; the operation tells how its provisioning goes (or why it could
    // not even be queued, in its place).
    auto op = provisioning.enqueue(vm->site, vm->domain.name, request.identity.name);
    auto view = vms->get(vm->domain.name);
    JsonWriter json;
    json.beginObject().key("vm");
    writeVm(json, view ? view.value() : vm.value());
    writePlacement(json, placed->decision);
    json.key("operation");
    if (op)
        writeOperation(json, op.value());
    else
        json.null();
    json.key("provision_error");
    if (op)
        json.null();
    else
        writeErrorObject(json, op.error());
    json.endObject();
    Response response = jsonResponse(op ? 202 : 201, json.str());
    response.headers.emplace_back("Location", op ? "/api/v1/operations/" + op->id : location);
    return response;
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
    auto force = request.queryFlag("force");
    if (!force) return std::move(force).error();
    auto located = locateRequestedVm(runtime, request);
    if (!located) return std::move(located).error();
    VmService& service = *located.value().vms;

    StopReport report;
    if (force.value()) {
        if (located.value().vm.domain.state != DomainState::Shutoff) {
            if (auto stopped = service.forceStop(name, request.identity.name); !stopped)
                return std::move(stopped).error();
            report.outcome = StopOutcome::Forced;
        }
    } else {
        auto stopped = service.stop(name, request.identity.name);
        if (!stopped) return std::move(stopped).error();
        report = std::move(stopped).value();
    }
    auto vm = service.get(name);
    if (!vm) return std::move(vm).error();
    JsonWriter json;
    json.beginObject().key("vm");
    writeVm(json, vm.value());
    json.field("outcome", outcomeName(report.outcome));
    // The template's snapshot_on_stop: what it took, or why it could not (the VM stopped anyway).
    json.key("snapshot");
    if (!report.snapshot) {
        json.null();
    } else {
        const StopSnapshot& snap = *report.snapshot;
        json.beginObject().field("taken", !snap.error).key("name").stringOrNull(snap.error ? "" : snap.name);
        json.key("error");
        if (snap.error)
            writeErrorObject(json, *snap.error);
        else
            json.null();
        json.key("pruned").values(snap.pruned);
        json.endObject();
    }
    json.endObject();
    return jsonResponse(200, json.str());
}

// start and restart: run the operation, answer with the VM as it is afterwards.
template <class Operation>
Result<Response> actOnVm(Runtime& runtime, const Request& request, Operation operation) {
    const std::string& name = request.param("name");
    auto located = locateRequestedVm(runtime, request);
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
    auto listings = std::make_shared<ListingCache>();
    router.add("GET", "/api/v1/vms", [&rt, listings](Request& r) { return listVms(rt, *listings, r); });
    router.add("POST", "/api/v1/vms", [&rt](Request& r) { return createVm(rt, r); });
    router.add("GET", "/api/v1/vms/{name}", [&rt](Request& r) -> Result<Response> {
        auto scope = scopeOf(r);
        if (!scope) return std::move(scope).error();
        auto located = locateRequestedVm(rt, r, scope.value());
        if (!located) return std::move(located).error();
        return vmResponse(200, located.value().vm);
    });
    router.add(
        "POST", "/api/v1/vms/{name}/adopt",
        [&rt](Request& r) -> Result<Response> {
            auto document = parseJsonObject(r.body, true);
            if (!document) return std::move(document).error();
            if (auto known = rejectUnknownFields(document.value(), {"owner"}); !known) return std::move(known).error();
            auto owner = optionalString(document.value(), "owner");
            if (!owner) return std::move(owner).error();
            auto located = locateRequestedVm(rt, r, Scope::All);
            if (!located) return std::move(located).error();
            auto adopted = located->vms->adopt(r.param("name"), owner.value().value_or(""), r.identity.name);
            if (!adopted) return std::move(adopted).error();
            return vmResponse(200, adopted.value());
        },
        Role::Admin);
    router.add("DELETE", "/api/v1/vms/{name}", [&rt](Request& r) -> Result<Response> {
        const std::string& name = r.param("name");
        auto located = locateRequestedVm(rt, r);
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
