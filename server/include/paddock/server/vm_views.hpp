// How the server finds a VM and presents it, shared by the REST routes and the WebSocket
// streams so both show exactly the same object. Stateless; safe from any thread.
#pragma once

#include "paddock/core/runtime.hpp"
#include "paddock/server/http_types.hpp"
#include "paddock/server/json.hpp"

#include <optional>
#include <string>

namespace paddock::server {

struct LocatedVm {
    Site* site;
    VmService* vms;
    VmView vm;
};

// The VM on `site` when given, else on the first configured site that has it (configuration
// order), as `caller` may see it. NotFound when none has it, or when it belongs to another
// owner than an owner-scoped caller's; a site's other error (e.g. unreachable) when a site
// could not answer and none had the VM. Foreign domains count only with Scope::All.
Result<LocatedVm> locateVm(Runtime& runtime, const Identity& caller, const std::optional<std::string>& site,
                           const std::string& name, Scope scope = Scope::Managed);
// The VM of a /api/v1/vms/{name}... route: {name} on the site ?site= names (else any), as the
// request's identity may see it.
Result<LocatedVm> locateRequestedVm(Runtime& runtime, const Request& request, Scope scope = Scope::Managed);

// The native VM object of /api/v1/vms (documented as VM in openapi.json).
void writeVm(JsonWriter& json, const VmView& vm);

// A lease and an operation, as the pool, lease, operation and backup routes answer them.
void writeLease(JsonWriter& json, const Lease& lease);
void writeOperation(JsonWriter& json, const Operation& op);

// The earlier VM manager's object: {"name", ["id",] "state" (number), "max_memory", "memory",
// "vcpus", "cpu_time"}; "id" only in GET /vms/list, not in its status WebSocket.
void writeCompatVm(JsonWriter& json, const DomainInfo& domain, bool withId);

// A state as the earlier VM manager printed it in GET /pool/status: "no state", "running",
// "blocked", "paused", "shutting down", "shut off", "crashed", "pmsuspended" (COMPAT.md).
std::string_view compatStateWord(DomainState state) noexcept;

}  // namespace paddock::server
