// A VM's saved state: snapshots (/api/v1/vms/{name}/snapshots...) and backups
// (/api/v1/vms/{name}/backups...). Snapshots answer when done (about a second); backups and
// restores run as operations (202 + Location of the operation).
#include "paddock/server/auth.hpp"
#include "paddock/server/json.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/vm_requests.hpp"
#include "paddock/server/vm_views.hpp"

#include <ctime>

namespace paddock::server {

namespace {

void writeSnapshot(JsonWriter& json, const SnapshotInfo& s) {
    json.beginObject().field("name", s.name).field("description", s.description);
    json.key("created_at").stringOrNull(
        s.created_at > 0 ? isoTime(std::chrono::system_clock::from_time_t(static_cast<std::time_t>(s.created_at)))
                         : std::string());
    json.field("kind", s.has_memory ? "memory+disk" : "disk");
    json.key("vm_state").stringOrNull(s.state == DomainState::NoState ? std::string_view() : domainStateName(s.state));
    json.key("parent").stringOrNull(s.parent);
    json.key("size_bytes");
    if (s.size_bytes)
        json.value(*s.size_bytes);
    else
        json.null();
    json.field("current", s.is_current)
        .field("automatic", s.name.rfind(kStopSnapshotPrefix, 0) == 0)
        .endObject();
}

Result<Response> listSnapshots(Runtime& runtime, const Request& request) {
    auto located = locateRequestedVm(runtime, request);
    if (!located) return std::move(located).error();
    const std::string& name = request.param("name");
    auto snapshots = located->vms->snapshots(name);
    if (!snapshots) return std::move(snapshots).error();
    JsonWriter json;
    json.beginObject().field("vm", name).key("snapshots").beginArray();
    for (const auto& s : snapshots.value()) writeSnapshot(json, s);
    json.endArray().endObject();
    return jsonResponse(200, json.str());
}

Result<Response> createSnapshot(Runtime& runtime, const Request& request) {
    auto body = parseSnapshotBody(request.body);
    if (!body) return std::move(body).error();
    auto located = locateRequestedVm(runtime, request);
    if (!located) return std::move(located).error();
    const std::string& name = request.param("name");
    SnapshotRequest snapshot{body->name, body->description, body->replace};
    auto made = located->vms->createSnapshot(name, snapshot, request.identity.name);
    if (!made) return std::move(made).error();
    JsonWriter json;
    writeSnapshot(json, made.value());
    Response response = jsonResponse(201, json.str());
    response.headers.emplace_back("Location", "/api/v1/vms/" + name + "/snapshots/" + made->name);
    return response;
}

Result<Response> revertSnapshot(Runtime& runtime, const Request& request) {
    auto start = parseRevertBody(request.body);
    if (!start) return std::move(start).error();
    auto located = locateRequestedVm(runtime, request);
    if (!located) return std::move(located).error();
    auto vm = located->vms->revertSnapshot(request.param("name"), request.param("snap"), start.value(),
                                           request.identity.name);
    if (!vm) return std::move(vm).error();
    JsonWriter json;
    json.beginObject().key("vm");
    writeVm(json, vm.value());
    json.field("snapshot", request.param("snap")).endObject();
    return jsonResponse(200, json.str());
}

Result<Response> deleteSnapshot(Runtime& runtime, const Request& request) {
    auto located = locateRequestedVm(runtime, request);
    if (!located) return std::move(located).error();
    if (auto gone = located->vms->deleteSnapshot(request.param("name"), request.param("snap"), request.identity.name);
        !gone)
        return std::move(gone).error();
    JsonWriter json;
    json.beginObject()
        .field("status", "deleted")
        .field("vm", request.param("name"))
        .field("snapshot", request.param("snap"))
        .endObject();
    return jsonResponse(200, json.str());
}

Response operationResponse(const Operation& op) {
    JsonWriter json;
    writeOperation(json, op);
    Response response = jsonResponse(202, json.str());
    response.headers.emplace_back("Location", "/api/v1/operations/" + op.id);
    return response;
}

Result<Response> beginBackup(Runtime& runtime, const Request& request) {
    if (auto body = parseBackupBody(request.body); !body) return std::move(body).error();
    auto located = locateRequestedVm(runtime, request);
    if (!located) return std::move(located).error();
    auto op = runtime.backups().beginBackup(*located->vms, request.param("name"), located->vm.owner,
                                            request.identity.name);
    if (!op) return std::move(op).error();
    return operationResponse(op.value());
}

// The backups of VM {name} the caller may see. The VM need not exist any more (that is what
// backups are for); then the backups' own owner decides, and a caller who may see none of a
// VM that does not exist learns nothing (404, as for any unknown VM).
Result<std::vector<BackupRecord>> reachableBackups(Runtime& runtime, const Request& request) {
    const std::string& name = request.param("name");
    auto all = runtime.backups().list(name);
    if (!all) return std::move(all).error();
    std::vector<BackupRecord> mine;
    for (auto& r : all.value())
        if (request.identity.mayReach(r.owner)) mine.push_back(std::move(r));
    if (mine.empty()) {
        auto located = locateRequestedVm(runtime, request);
        if (!located) return std::move(located).error();
    }
    return mine;
}

Result<BackupRecord> reachableBackup(Runtime& runtime, const Request& request) {
    auto mine = reachableBackups(runtime, request);
    if (!mine) return std::move(mine).error();
    for (auto& r : mine.value())
        if (r.id == request.param("id")) return std::move(r);
    return makeError(ErrorCode::NotFound,
                     "VM '" + request.param("name") + "' has no backup '" + request.param("id") + "'");
}

Result<Response> listBackups(Runtime& runtime, const Request& request) {
    auto mine = reachableBackups(runtime, request);
    if (!mine) return std::move(mine).error();
    JsonWriter json;
    json.beginObject().field("vm", request.param("name")).key("backups").beginArray();
    for (const auto& r : mine.value()) json.raw(backupJson(r));
    json.endArray().endObject();
    return jsonResponse(200, json.str());
}

Result<Response> getBackup(Runtime& runtime, const Request& request) {
    auto backup = reachableBackup(runtime, request);
    if (!backup) return std::move(backup).error();
    return jsonResponse(200, backupJson(backup.value()));
}

Result<Response> deleteBackup(Runtime& runtime, const Request& request) {
    auto chain = request.queryFlag("chain");
    if (!chain) return std::move(chain).error();
    auto backup = reachableBackup(runtime, request);
    if (!backup) return std::move(backup).error();
    // The VM's site, when the VM is still there, so its checkpoints go too.
    VmService* vms = nullptr;
    if (auto located = locateRequestedVm(runtime, request); located) vms = located->vms;
    auto gone = runtime.backups().remove(vms, request.param("name"), backup->id, chain.value(), request.identity.name);
    if (!gone) return std::move(gone).error();
    JsonWriter json;
    json.beginObject().field("status", "deleted").field("vm", request.param("name")).key("deleted").values(gone.value());
    json.endObject();
    return jsonResponse(200, json.str());
}

Result<Response> restoreBackup(Runtime& runtime, const Request& request) {
    auto body = parseRestoreBody(request.body);
    if (!body) return std::move(body).error();
    auto backup = reachableBackup(runtime, request);
    if (!backup) return std::move(backup).error();
    // An owner-scoped token restores for its owner only.
    const std::string& bound = request.identity.owner;
    if (!bound.empty() && body->owner && *body->owner != bound)
        return makeError(ErrorCode::Forbidden, "'" + request.identity.name + "' restores for owner '" + bound + "' only");
    RestoreRequest restore{body->as, body->start, body->owner, body->template_name};
    if (!bound.empty()) restore.owner = bound;
    auto target = runtime.vms(request.queryValue("site").value_or(backup->site));
    if (!target) return std::move(target).error();
    auto op = runtime.backups().beginRestore(*target.value(), request.param("name"), backup->id, restore,
                                             restore.owner.value_or(backup->owner), request.identity.name,
                                             [](const VmView& vm) {
                                                 JsonWriter json;
                                                 writeVm(json, vm);
                                                 return json.str();
                                             });
    if (!op) return std::move(op).error();
    return operationResponse(op.value());
}

}  // namespace

void addStateRoutes(Router& router, const RouteContext& context) {
    Runtime& rt = context.runtime;
    router.add("GET", "/api/v1/vms/{name}/snapshots", [&rt](Request& r) { return listSnapshots(rt, r); });
    router.add("POST", "/api/v1/vms/{name}/snapshots", [&rt](Request& r) { return createSnapshot(rt, r); });
    router.add("POST", "/api/v1/vms/{name}/snapshots/{snap}/revert", [&rt](Request& r) { return revertSnapshot(rt, r); });
    router.add("DELETE", "/api/v1/vms/{name}/snapshots/{snap}", [&rt](Request& r) { return deleteSnapshot(rt, r); });
    router.add("GET", "/api/v1/vms/{name}/backups", [&rt](Request& r) { return listBackups(rt, r); });
    router.add("POST", "/api/v1/vms/{name}/backups", [&rt](Request& r) { return beginBackup(rt, r); });
    router.add("GET", "/api/v1/vms/{name}/backups/{id}", [&rt](Request& r) { return getBackup(rt, r); });
    router.add("DELETE", "/api/v1/vms/{name}/backups/{id}", [&rt](Request& r) { return deleteBackup(rt, r); });
    router.add("POST", "/api/v1/vms/{name}/backups/{id}/restore", [&rt](Request& r) { return restoreBackup(rt, r); });
}

}  // namespace paddock::server
