// Watching VMs (watch_service.hpp): the native routes /api/v1/vms/{name}/watch, .../heartbeat,
// .../revert-request, .../idle-reset, and the earlier exhibition controller's routes, which act
// on the configured exhibit VM (COMPAT.md, "Exhibition controller"). Guest-facing routes admit
// token-less guests from watch.heartbeat_sources speaking for their own VM.
#include "paddock/server/json.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/vm_views.hpp"
#include "paddock/server/watch_requests.hpp"

#include <algorithm>
#include <cmath>

namespace paddock::server {

namespace {

double roundedSeconds(double s) { return std::round(s * 1000.0) / 1000.0; }

void writeOptionalTime(JsonWriter& json, const char* key, const std::optional<SystemTime>& t) {
    json.key(key);
    if (t)
        json.value(isoTimeMillis(*t));
    else
        json.null();
}

void writeOptionalSeconds(JsonWriter& json, const char* key, const std::optional<double>& s) {
    json.key(key);
    if (s)
        json.value(roundedSeconds(*s));
    else
        json.null();
}

void writePolicy(JsonWriter& json, const WatchPolicy& p) {
    json.beginObject()
        .field("snapshot", p.snapshot)
        .field("heartbeat_timeout_s", p.heartbeat_timeout_ms / 1000.0)
        .field("check_interval_s", p.check_interval_ms / 1000.0)
        .field("startup_grace_s", p.startup_grace_ms / 1000.0)
        .field("startup_max_wait_s", p.startup_max_wait_ms / 1000.0)
        .field("probe", p.probe)
        .field("auto_revert", p.auto_revert)
        .field("revert_on_start", p.revert_on_start)
        .endObject();
}

// The native watch object (documented as Watch in openapi.json).
void writeWatch(JsonWriter& json, const WatchView& v) {
    json.beginObject().field("vm", v.vm).field("site", v.site).field("watched", v.watched);
    json.key("source").stringOrNull(v.source);
    json.key("settings");
    if (v.watched)
        writePolicy(json, v.policy);
    else
        json.null();
    json.key("state").stringOrNull(v.watched ? watchStateName(v.state) : std::string_view());
    json.field("auto_revert", v.watched && v.policy.auto_revert).field("healthy", v.healthy);
    writeOptionalTime(json, "last_heartbeat", v.last_heartbeat);
    writeOptionalSeconds(json, "seconds_since_last", v.seconds_since_last);
    json.key("last_status").stringOrNull(v.last_status);
    json.key("last_message").stringOrNull(v.last_message);
    json.field("failures", v.failures).field("reverts", v.reverts);
    writeOptionalSeconds(json, "revert_in_s", v.revert_in_s);
    json.key("heartbeats").beginArray();
    for (const auto& h : v.heartbeats) {
        json.beginObject().field("at", isoTimeMillis(h.at));
        json.key("status").stringOrNull(h.status);
        json.endObject();
    }
    json.endArray().key("decisions").beginArray();
    for (const auto& d : v.decisions)
        json.beginObject().field("at", isoTimeMillis(d.at)).field("action", d.action).field("reason", d.reason).endObject();
    json.endArray().endObject();
}

// The old controller's heartbeat object.
void writeCompatHeartbeat(JsonWriter& json, const WatchView& v) {
    const bool enabled = v.watched && v.state != WatchState::Stopped && v.state != WatchState::Reverting;
    json.beginObject().field("enabled", enabled);
    writeOptionalTime(json, "last_heartbeat", v.last_heartbeat);
    writeOptionalSeconds(json, "seconds_since_last", v.seconds_since_last);
    json.field("is_healthy", v.healthy).field("timeout", v.policy.heartbeat_timeout_ms / 1000.0).endObject();
}

// A guest without a token speaks only for the VM at its own address.
Status checkGuest(Runtime& rt, const Request& request, const LocatedVm& located) {
    if (!request.identity.guest) return {};
    return rt.watch().guestMayAct(located.site->name(), located.vm.domain.name, request.peer);
}

// A guest's heartbeat for the located VM (query or body), after the guest check.
Result<HeartbeatReceipt> receiveHeartbeat(Runtime& rt, const Request& request, const LocatedVm& located) {
    auto input = parseHeartbeat(request.query, request.body);
    if (!input) return std::move(input).error();
    if (auto allowed = checkGuest(rt, request, located); !allowed) return std::move(allowed).error();
    return rt.watch().heartbeat(located.site->name(), located.vm.domain.name, input->status, input->message);
}

// A guest's revert request (native and the old controller's): {"status": "accepted", ...}.
Result<Response> answerRevertRequest(Runtime& rt, const Request& request, const LocatedVm& located, int status) {
    auto input = parseRevertRequest(request.body);
    if (!input) return std::move(input).error();
    if (auto allowed = checkGuest(rt, request, located); !allowed) return std::move(allowed).error();
    auto in = rt.watch().requestRevert(located.site->name(), located.vm.domain.name, input->reason, input->severity,
                                       std::chrono::seconds(input->delay_s), request.identity.name);
    if (!in) return std::move(in).error();
    JsonWriter json;
    json.beginObject()
        .field("status", "accepted")
        .field("message", "Revert queued")
        .field("will_revert_in_seconds", static_cast<int64_t>(in->count()))
        .endObject();
    return jsonResponse(status, json.str());
}

// A guest's idle reset; the old controller's answer has no will_revert_in_seconds.
Result<Response> answerIdleReset(Runtime& rt, const Request& request, const LocatedVm& located, int status,
                                 bool withSeconds) {
    auto idle = parseIdleReset(request.body);
    if (!idle) return std::move(idle).error();
    if (auto allowed = checkGuest(rt, request, located); !allowed) return std::move(allowed).error();
    auto in = rt.watch().idleReset(located.site->name(), located.vm.domain.name, idle.value(), request.identity.name);
    if (!in) return std::move(in).error();
    JsonWriter json;
    json.beginObject().field("status", "accepted").field("message", "Idle reset triggered");
    if (withSeconds) json.field("will_revert_in_seconds", static_cast<int64_t>(in->count()));
    json.endObject();
    return jsonResponse(status, json.str());
}

Response watchResponse(int status, const WatchView& view) {
    JsonWriter json;
    writeWatch(json, view);
    return jsonResponse(status, json.str());
}

// ---- native --------------------------------------------------------------------------------

void addNativeRoutes(Router& router, Runtime& rt) {
    router.add("GET", "/api/v1/vms/{name}/watch", [&rt](Request& r) -> Result<Response> {
        auto located = locateRequestedVm(rt, r);
        if (!located) return std::move(located).error();
        auto view = rt.watch().view(located->site->name(), r.param("name"));
        if (!view) return std::move(view).error();
        return watchResponse(200, view.value());
    });
    router.add("POST", "/api/v1/vms/{name}/watch", [&rt](Request& r) -> Result<Response> {
        auto patch = parseWatchBody(r.body);
        if (!patch) return std::move(patch).error();
        auto located = locateRequestedVm(rt, r);
        if (!located) return std::move(located).error();
        auto view = rt.watch().watch(located->site->name(), r.param("name"), patch.value(), r.identity.name);
        if (!view) return std::move(view).error();
        return watchResponse(200, view.value());
    });
    router.add("DELETE", "/api/v1/vms/{name}/watch", [&rt](Request& r) -> Result<Response> {
        auto located = locateRequestedVm(rt, r);
        if (!located) return std::move(located).error();
        auto view = rt.watch().unwatch(located->site->name(), r.param("name"), r.identity.name);
        if (!view) return std::move(view).error();
        return watchResponse(200, view.value());
    });
    const auto heartbeat = [&rt](Request& r) -> Result<Response> {
        auto located = locateRequestedVm(rt, r);
        if (!located) return std::move(located).error();
        auto receipt = receiveHeartbeat(rt, r, located.value());
        if (!receipt) return std::move(receipt).error();
        JsonWriter json;
        json.beginObject()
            .field("vm", r.param("name"))
            .field("received_at", isoTimeMillis(receipt->at))
            .field("state", watchStateName(receipt->state));
        writeOptionalSeconds(json, "seconds_since_previous", receipt->seconds_since_previous);
        json.endObject();
        return jsonResponse(200, json.str());
    };
    router.add("GET", "/api/v1/vms/{name}/heartbeat", heartbeat, Role::Operator);
    router.add("POST", "/api/v1/vms/{name}/heartbeat", heartbeat);
    router.add("POST", "/api/v1/vms/{name}/revert-request", [&rt](Request& r) -> Result<Response> {
        auto located = locateRequestedVm(rt, r);
        if (!located) return std::move(located).error();
        return answerRevertRequest(rt, r, located.value(), 202);
    });
    router.add("POST", "/api/v1/vms/{name}/idle-reset", [&rt](Request& r) -> Result<Response> {
        auto located = locateRequestedVm(rt, r);
        if (!located) return std::move(located).error();
        return answerIdleReset(rt, r, located.value(), 202, true);
    });
    for (const char* method : {"GET", "POST"}) router.admitGuests(method, "/api/v1/vms/{name}/heartbeat");
    router.admitGuests("POST", "/api/v1/vms/{name}/revert-request");
    router.admitGuests("POST", "/api/v1/vms/{name}/idle-reset");
}

// ---- the exhibition controller's routes ---------------------------------------------------

struct Exhibit {
    Runtime& rt;
    std::string site;
    std::string vm;

    Result<LocatedVm> locate(const Identity& caller) const { return locateVm(rt, caller, site, vm); }
    Result<WatchView> watch() const { return rt.watch().view(site, vm); }
    std::string snapshot(const WatchView& v) const {
        if (v.watched) return v.policy.snapshot;
        return WatchPolicy{}.snapshot;
    }
};

Response message(int status, const std::string& text, const std::string& detailsJson = {}) {
    JsonWriter json;
    json.beginObject().field("message", text).key("details");
    if (detailsJson.empty())
        json.null();
    else
        json.raw(detailsJson);
    json.endObject();
    return jsonResponse(status, json.str());
}

std::string vmDetails(const std::string& vm, const std::string& snapshot, const VmView* view) {
    JsonWriter json;
    json.beginObject().field("vm_name", vm).field("snapshot_name", snapshot);
    if (view != nullptr) json.field("vm_state", domainStateName(view->domain.state));
    json.endObject();
    return json.str();
}

void addExhibitRoutes(Router& router, Runtime& rt, const std::string& version) {
    const ExhibitConfig& config = rt.config().exhibit;
    auto site = rt.site(config.site);
    if (!site) return;  // checked with the configuration
    const auto ex = std::make_shared<Exhibit>(Exhibit{rt, site.value()->name(), config.vm});
    std::vector<std::pair<std::string, std::string>> routes;
    const auto add = [&](const char* method, const std::string& pattern, Handler handler,
                         std::optional<Role> role = std::nullopt) {
        router.add(method, pattern, std::move(handler), role);
        routes.emplace_back(method, pattern);
    };
    const auto both = [&](const std::string& pattern, Handler handler) {
        add("GET", pattern, handler, Role::Operator);
        add("POST", pattern, std::move(handler));
    };

    add("GET", "/", [ex, version](Request&) -> Result<Response> {
        JsonWriter json;
        json.beginObject().field("vm_name", ex->vm).field("version", version).field("docs", "/docs").endObject();
        return message(200, "Paddock exhibition controller API", json.str());
    });
    add("GET", "/api/v1/status", [ex](Request& r) -> Result<Response> {
        auto located = ex->locate(r.identity);
        if (!located) return std::move(located).error();
        auto view = ex->watch();
        if (!view) return std::move(view).error();
        const std::string snapshot = ex->snapshot(view.value());
        auto snapshots = located->vms->snapshots(ex->vm);
        if (!snapshots) return std::move(snapshots).error();
        const bool exists = std::any_of(snapshots->begin(), snapshots->end(),
                                        [&](const SnapshotInfo& s) { return s.name == snapshot; });
        JsonWriter json;
        json.beginObject()
            .field("vm_name", ex->vm)
            .field("vm_state", domainStateName(located->vm.domain.state))
            .field("vm_is_running", located->vm.domain.state == DomainState::Running)
            .field("snapshot_name", snapshot)
            .field("snapshot_exists", exists)
            .key("heartbeat");
        writeCompatHeartbeat(json, view.value());
        json.field("auto_revert_enabled", view->watched && view->policy.auto_revert).endObject();
        return jsonResponse(200, json.str());
    });
    add("GET", "/api/v1/heartbeat/status", [ex](Request& r) -> Result<Response> {
        if (auto located = ex->locate(r.identity); !located) return std::move(located).error();
        auto view = ex->watch();
        if (!view) return std::move(view).error();
        JsonWriter json;
        writeCompatHeartbeat(json, view.value());
        return jsonResponse(200, json.str());
    });
    both("/api/v1/heartbeat", [ex](Request& r) -> Result<Response> {
        auto located = ex->locate(r.identity);
        if (!located) return std::move(located).error();
        if (auto receipt = receiveHeartbeat(ex->rt, r, located.value()); !receipt) return std::move(receipt).error();
        auto view = ex->watch();
        if (!view) return std::move(view).error();
        JsonWriter details;
        writeCompatHeartbeat(details, view.value());
        return message(200, "Heartbeat received", details.str());
    });
    const auto revertAndStart = [ex](const char* done) {
        return [ex, done](Request& r) -> Result<Response> {
            auto located = ex->locate(r.identity);
            if (!located) return std::move(located).error();
            if (auto allowed = checkGuest(ex->rt, r, located.value()); !allowed) return std::move(allowed).error();
            auto view = ex->watch();
            if (!view) return std::move(view).error();
            const std::string snapshot = ex->snapshot(view.value());
            auto vm = located->vms->revertSnapshot(ex->vm, snapshot, true, r.identity.name);
            if (!vm) return std::move(vm).error();
            return message(200, std::string(done) + " from snapshot '" + snapshot + "'",
                           vmDetails(ex->vm, snapshot, &vm.value()));
        };
    };
    both("/api/v1/vm/start", revertAndStart("VM started"));
    both("/api/v1/vm/restart", revertAndStart("VM restarted"));
    both("/api/v1/vm/stop", [ex](Request& r) -> Result<Response> {
        auto located = ex->locate(r.identity);
        if (!located) return std::move(located).error();
        if (auto stopped = located->vms->forceStop(ex->vm, r.identity.name); !stopped) return std::move(stopped).error();
        auto view = ex->watch();
        return message(200, "VM stopped", vmDetails(ex->vm, view ? ex->snapshot(view.value()) : "", nullptr));
    });
    add("GET", "/api/v1/snapshots", [ex](Request& r) -> Result<Response> {
        auto located = ex->locate(r.identity);
        if (!located) return std::move(located).error();
        auto snapshots = located->vms->snapshots(ex->vm);
        if (!snapshots) return std::move(snapshots).error();
        JsonWriter json;
        json.beginObject().field("vm_name", ex->vm).key("snapshots").beginArray();
        for (const auto& s : snapshots.value()) json.value(s.name);
        json.endArray().endObject();
        return jsonResponse(200, json.str());
    });
    both("/api/v1/snapshot/create", [ex](Request& r) -> Result<Response> {
        auto located = ex->locate(r.identity);
        if (!located) return std::move(located).error();
        auto view = ex->watch();
        if (!view) return std::move(view).error();
        const std::string name = r.queryValue("snapshot_name").value_or(ex->snapshot(view.value()));
        auto made = located->vms->createSnapshot(ex->vm, SnapshotRequest{name, "", true}, r.identity.name);
        if (!made) return std::move(made).error();
        return message(200, "Snapshot '" + made->name + "' created", vmDetails(ex->vm, made->name, &located->vm));
    });
    const auto deleteSnapshot = [ex](Request& r) -> Result<Response> {
        auto located = ex->locate(r.identity);
        if (!located) return std::move(located).error();
        const std::string& name = r.param("snapshot_name");
        if (auto gone = located->vms->deleteSnapshot(ex->vm, name, r.identity.name); !gone)
            return std::move(gone).error();
        return message(200, "Snapshot '" + name + "' deleted", vmDetails(ex->vm, name, nullptr));
    };
    add("DELETE", "/api/v1/snapshot/{snapshot_name}", deleteSnapshot);
    add("GET", "/api/v1/snapshot/delete/{snapshot_name}", deleteSnapshot, Role::Operator);
    for (const bool on : {true, false}) {
        both(on ? "/api/v1/revert/enable" : "/api/v1/revert/disable", [ex, on](Request& r) -> Result<Response> {
            if (auto located = ex->locate(r.identity); !located) return std::move(located).error();
            auto view = ex->rt.watch().setAutoRevert(ex->site, ex->vm, on, r.identity.name);
            if (!view) return std::move(view).error();
            JsonWriter json;
            json.beginObject().field("auto_revert_enabled", view->policy.auto_revert).endObject();
            return message(200, on ? "Auto-revert enabled" : "Auto-revert disabled (maintenance mode)", json.str());
        });
    }
    add("POST", "/api/v1/revert/request", [ex](Request& r) -> Result<Response> {
        auto located = ex->locate(r.identity);
        if (!located) return std::move(located).error();
        return answerRevertRequest(ex->rt, r, located.value(), 200);
    });
    add("POST", "/api/v1/idle/reset", [ex](Request& r) -> Result<Response> {
        auto located = ex->locate(r.identity);
        if (!located) return std::move(located).error();
        return answerIdleReset(ex->rt, r, located.value(), 200, false);
    });
    for (const auto& [method, pattern] : routes) router.answerErrorsAs(ErrorStyle::FastApi, method, pattern);
    for (const char* method : {"GET", "POST"}) {
        router.admitGuests(method, "/api/v1/heartbeat");
        router.admitGuests(method, "/api/v1/vm/restart");
    }
    router.admitGuests("POST", "/api/v1/revert/request");
    router.admitGuests("POST", "/api/v1/idle/reset");
}

}  // namespace

void addWatchRoutes(Router& router, const RouteContext& context) {
    addNativeRoutes(router, context.runtime);
    if (!context.runtime.config().exhibit.vm.empty()) addExhibitRoutes(router, context.runtime, context.version);
}

}  // namespace paddock::server
