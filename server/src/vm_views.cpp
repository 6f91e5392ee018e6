#include "paddock/server/vm_views.hpp"

#include "paddock/core/iso_time.hpp"
#include "paddock/server/error_mapping.hpp"

namespace paddock::server {

Result<LocatedVm> locateVm(Runtime& runtime, const Identity& caller, const std::optional<std::string>& site,
                           const std::string& name, Scope scope) {
    const auto lookIn = [&](Site* where) -> Result<LocatedVm> {
        auto vms = runtime.vms(where->name());
        if (!vms) return std::move(vms).error();
        auto vm = vms.value()->get(name, scope);
        if (!vm) return std::move(vm).error();
        // Another owner's VM is as absent as an unknown one: its name is not confirmed either.
        if (!caller.mayReach(vm->owner)) return makeError(ErrorCode::NotFound, "VM '" + name + "' not found");
        return LocatedVm{where, vms.value(), std::move(vm.value())};
    };
    if (site) return runtime.site(*site).and_then(lookIn);
    std::optional<Error> firstFailure;
    for (Site* candidate : runtime.sites()) {
        auto found = lookIn(candidate);
        if (found) return found;
        if (found.error().code != ErrorCode::NotFound && !firstFailure) firstFailure = found.error();
    }
    if (firstFailure) return *firstFailure;
    return makeError(ErrorCode::NotFound, "VM '" + name + "' not found");
}

Result<LocatedVm> locateRequestedVm(Runtime& runtime, const Request& request, Scope scope) {
    return locateVm(runtime, request.identity, request.queryValue("site"), request.param("name"), scope);
}

void writeVm(JsonWriter& json, const VmView& vm) {
    const DomainInfo& d = vm.domain;
    const ReadinessInfo& r = vm.readiness;
    json.beginObject()
        .field("name", d.name)
        .field("uuid", d.uuid)
        .field("site", vm.site)
        .field("state", domainStateName(d.state))
        .field("state_code", static_cast<int>(d.state))
        .field("id", d.id)
        .field("vcpus", d.vcpus)
        .field("memory_mb", vm.memory_mb())
        .field("max_memory_kib", d.max_memory_kib)
        .field("memory_kib", d.memory_kib)
        .field("cpu_time_ns", d.cpu_time_ns);
    json.key("owner").stringOrNull(vm.owner);
    json.key("template").stringOrNull(vm.template_name);
    json.field("image", vm.image).field("disk", vm.disk).field("has_managed_save", d.has_managed_save);
    json.field("managed", vm.managed);
    json.field("readiness", readinessName(r.state)).field("ready", r.state == Readiness::Ready);
    json.key("readiness_error").stringOrNull(r.error);
    json.key("seconds_to_ready");
    if (r.state == Readiness::Ready)
        json.value(r.seconds_to_ready);
    else
        json.null();
    json.key("ssh");
    if (vm.ssh_host.empty() || vm.ssh_port == 0) {
        json.null();
    } else {
        json.beginObject().field("host", vm.ssh_host).field("port", vm.ssh_port);
        json.key("user").stringOrNull(vm.ssh_user);
        json.endObject();
    }
    json.key("host_key");
    if (r.host_key.type.empty() && r.host_key.fingerprint.empty())
        json.null();
    else
        json.beginObject().field("type", r.host_key.type).field("fingerprint", r.host_key.fingerprint).endObject();
    json.key("provisioning");
    if (vm.provisioning.empty()) {
        json.null();
    } else {
        json.beginObject().field("state", vm.provisioning);
        json.key("error").stringOrNull(vm.provisioning_error);
        json.key("operation").stringOrNull(vm.provisioning_operation);
        json.endObject();
    }
    json.endObject();
}

void writeCompatVm(JsonWriter& json, const DomainInfo& d, bool withId) {
    json.beginObject().field("name", d.name);
    if (withId) json.field("id", d.id);
    json.field("state", static_cast<int>(d.state))
        .field("max_memory", d.max_memory_kib)
        .field("memory", d.memory_kib)
        .field("vcpus", d.vcpus)
        .field("cpu_time", d.cpu_time_ns)
        .endObject();
}

std::string_view compatStateWord(DomainState state) noexcept {
    switch (state) {
        case DomainState::NoState: return "no state";
        case DomainState::Running: return "running";
        case DomainState::Blocked: return "blocked";
        case DomainState::Paused: return "paused";
        case DomainState::Shutdown: return "shutting down";
        case DomainState::Shutoff: return "shut off";
        case DomainState::Crashed: return "crashed";
        case DomainState::PmSuspended: return "pmsuspended";
    }
    return "no state";
}

void writeLease(JsonWriter& json, const Lease& lease) {
    const auto remaining =
        std::chrono::duration_cast<std::chrono::seconds>(lease.expires_at - std::chrono::system_clock::now());
    json.beginObject()
        .field("id", lease.id)
        .field("pool", lease.pool)
        .field("site", lease.site)
        .field("vm", lease.vm)
        .field("owner", lease.owner)
        // unavailable: its site is down; the lease is kept and comes back with the site.
        .field("state", lease.available ? "active" : "unavailable")
        .field("created_at", isoTime(lease.created_at));
    // A lease that never expires (a compatibility allocation without ttl_s) has neither.
    if (lease.expires)
        json.field("expires_at", isoTime(lease.expires_at)).field("ttl_s", std::max<int64_t>(0, remaining.count()));
    else
        json.key("expires_at").null().key("ttl_s").null();
    json.key("ssh");
    if (lease.ssh_host.empty()) {
        json.null();
    } else {
        json.beginObject()
            .field("host", lease.ssh_host)
            .field("port", lease.ssh_port)
            .field("user", lease.ssh_user)
            .endObject();
    }
    json.endObject();
}

void writeOperation(JsonWriter& json, const Operation& op) {
    json.beginObject()
        .field("id", op.id)
        .field("kind", op.kind)
        .field("state", operationStateName(op))
        .field("status", operationStatusName(op.status))
        .field("site", op.site)
        .field("pool", op.pool)
        .field("owner", op.owner)
        .field("created_at", isoTime(op.created_at));
    json.key("started_at").stringOrNull(op.started_at ? isoTime(*op.started_at) : std::string());
    json.key("finished_at").stringOrNull(op.finished_at ? isoTime(*op.finished_at) : std::string());
    json.field("cancellable", op.cancellable && op.status == Operation::Status::Pending);
    json.key("progress").stringOrNull(op.progress);
    json.field("output_tail", op.output_tail);
    if (!op.vm.empty()) json.field("vm", op.vm);
    if (op.lease) {
        json.key("lease");
        writeLease(json, *op.lease);
    }
    if (!op.result_key.empty()) json.key(op.result_key).raw(op.result_json);
    if (op.error) {
        json.key("error");
        writeErrorObject(json, *op.error);
    }
    json.endObject();
}

}  // namespace paddock::server
