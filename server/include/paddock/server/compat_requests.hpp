// Reading the compatibility routes' bodies as the earlier VM manager's pydantic models read them
// (FastAPI, pydantic 2 in its default lax mode): every problem of a body is collected and
// answered at once as a 422 {"detail": [{type, loc, msg, input?, ctx?}, ...]}, so its web app
// shows the messages it always showed. Lax means what pydantic accepts: an int field takes
// 512, 512.0, "512" and true (1); a str field takes strings only. Unknown fields are ignored.
// Pure functions of the body text, so they are tested and fuzzed alone (COMPAT.md).
#pragma once

#include "paddock/core/domain_plan.hpp"
#include "paddock/server/http_types.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace paddock::server {

// One failed check, as FastAPI reports it: `type` ("missing", "int_parsing",
// "greater_than_equal", ...), `loc` (["body", "memory_mb"]; a number is a position in the text
// for json_invalid), `msg`, and optionally `input` (the offending value) and `ctx` (the
// constraint), both as JSON text. `input` is left out for a missing field (pydantic would echo
// the whole body there).
struct ValidationIssue {
    std::string type;
    std::vector<std::variant<std::string, size_t>> loc;
    std::string msg;
    std::optional<std::string> input;  // JSON text
    std::optional<std::string> ctx;    // JSON text of an object
};

// Either the value read, or why not (never both).
template <class T>
struct Validated {
    std::optional<T> value;
    std::vector<ValidationIssue> issues;
};

// POST /vms/create: {name: str (required), memory_mb: int >= 256 (default 512), vcpus: int >= 1
// (default 1), owner: str or null}. Paddock's own limits (limits.hpp: at most 64 vCPUs, 256 GiB)
// are issues of the same kind ("less_than_equal"). The request always starts the VM and follows
// the legacy name rule (names.hpp validateLegacyName), which the VM service checks: a name
// pydantic accepts but Paddock does not is a 400, as the old service's own refusals were.
Validated<CreateVmRequest> readCompatCreate(std::string_view body);

// POST /pool/allocate (Paddock's addition to the old route): {owner: str or null, ttl_s: int in
// [1, limits::kMaxLeaseTtlSeconds] or null}, both optional; an empty body is an empty object.
// (In /vms/create a null size is an int_type issue: the old model's sizes were not Optional.)
struct CompatAllocateBody {
    std::optional<std::string> owner;
    std::optional<uint64_t> ttl_s;
};
Validated<CompatAllocateBody> readCompatAllocate(std::string_view body);

// 422 {"detail": [...]} for `issues` (not empty).
Response validationErrorResponse(const std::vector<ValidationIssue>& issues);

}  // namespace paddock::server
