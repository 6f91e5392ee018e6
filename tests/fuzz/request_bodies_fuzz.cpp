// server json + vm_requests + pool_requests + token_requests + compat_requests: a request body
// through every parser a route hands it to: parseJsonObject, parseCreateBody, parseAllocateBody,
// parseExtendBody, parseMintTokenBody, parseSnapshotBody, parseRevertBody, parseBackupBody,
// parseRestoreBody, the watch routes' parseWatchBody, parseHeartbeat (body and the same text as a
// query value), parseRevertRequest and parseIdleReset, the provisioning routes' withPasswordFromBody
// (the password read in place, the body zeroed after) and parseOperationQuery / parseOutputQuery
// (the same text as each query value), parseListingFilter (the text as ?owner= and as ?state=),
// and the compatibility routes' readCompatCreate and readCompatAllocate. Checked: what is accepted keeps the promises of json.hpp (an object,
// nesting bounded, no duplicate key, valid UTF-8) and the limits of limits.hpp; an accepted
// create body, written back with JsonWriter, parses to the same request; the compat readers
// give a value or issues, never both nor neither; every error answer (Paddock's error object,
// FastAPI's 422 list), written as the server writes it, is valid JSON.
#include "fuzz_support.hpp"

#include "paddock/core/limits.hpp"
#include "paddock/core/names.hpp"
#include "paddock/core/utf8.hpp"
#include "paddock/server/compat_requests.hpp"
#include "paddock/server/json.hpp"
#include "paddock/server/pool_requests.hpp"
#include "paddock/server/provision_requests.hpp"
#include "paddock/server/token_requests.hpp"
#include "paddock/server/token_store.hpp"
#include "paddock/server/vm_requests.hpp"
#include "paddock/server/watch_requests.hpp"

#include <rapidjson/document.h>

#include <map>
#include <set>

namespace {

using namespace paddock;
using namespace paddock::server;

// Depth of nested arrays/objects (1 for a flat object); no duplicate key in any object; every
// string valid UTF-8. Recursion is bounded by the depth limit parseJsonObject already enforced.
size_t checkValue(const rapidjson::Value& value) {
    size_t inner = 0;
    if (value.IsString()) FUZZ_CHECK(isValidUtf8({value.GetString(), value.GetStringLength()}));
    if (value.IsObject()) {
        std::set<std::string_view> keys;
        for (const auto& member : value.GetObject()) {
            const std::string_view key(member.name.GetString(), member.name.GetStringLength());
            FUZZ_CHECK(isValidUtf8(key));
            FUZZ_CHECK(keys.insert(key).second);
            inner = std::max(inner, checkValue(member.value));
        }
    }
    if (value.IsArray())
        for (const auto& item : value.GetArray()) inner = std::max(inner, checkValue(item));
    return value.IsObject() || value.IsArray() ? inner + 1 : 0;
}

// The answer a route gives for `error`, as error_mapping.cpp writes it, must be valid JSON.
void checkErrorAnswer(const Error& error) {
    FUZZ_CHECK(error.code == ErrorCode::InvalidArgument);
    JsonWriter json;
    json.beginObject().key("error").beginObject().field("code", "invalid_argument").field("message", error.message);
    json.endObject().endObject();
    rapidjson::Document parsed;
    const std::string text = json.str();
    parsed.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
    FUZZ_CHECK(!parsed.HasParseError());
}

template <class T>
void checkFailure(const Result<T>& result) {
    if (!result) checkErrorAnswer(result.error());
}

// A compat reader's outcome: exactly one of value and issues; the 422 it would answer is JSON
// with one entry per issue.
template <class T>
void checkValidated(const Validated<T>& read) {
    FUZZ_CHECK(read.value.has_value() != !read.issues.empty());
    if (read.issues.empty()) return;
    const Response answer = validationErrorResponse(read.issues);
    FUZZ_CHECK(answer.status == 422);
    rapidjson::Document parsed;
    parsed.Parse<rapidjson::kParseValidateEncodingFlag>(answer.body.data(), answer.body.size());
    FUZZ_CHECK(!parsed.HasParseError() && parsed.IsObject() && parsed["detail"].IsArray());
    FUZZ_CHECK(parsed["detail"].Size() == read.issues.size());
}

// A native create body with the fields of `request`, written as a client library would.
std::string writeCreateBody(const CreateBody& body) {
    const CreateVmRequest& r = body.request;
    JsonWriter json;
    json.beginObject().field("name", r.name).field("start", r.start);
    if (r.template_name) json.field("template", *r.template_name);
    if (r.vcpus) json.field("vcpus", *r.vcpus);
    if (r.memory_mb) json.field("memory_mb", *r.memory_mb);
    if (r.owner) json.field("owner", *r.owner);
    if (body.site) json.field("site", *body.site);
    json.endObject();
    return json.str();
}

void checkSizes(const CreateVmRequest& r, uint64_t minMemory) {
    if (r.vcpus) FUZZ_CHECK(*r.vcpus >= limits::kMinVcpus && *r.vcpus <= limits::kMaxVcpus);
    if (r.memory_mb) FUZZ_CHECK(*r.memory_mb >= minMemory && *r.memory_mb <= limits::kMaxMemoryMb);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view body = fuzz::asText(data, size);

    const auto strict = parseJsonObject(body);
    const auto lenient = parseJsonObject(body, true);
    checkFailure(strict);
    checkFailure(lenient);
    if (strict) FUZZ_CHECK(lenient.ok());
    if (lenient) {
        FUZZ_CHECK(lenient.value().IsObject());
        FUZZ_CHECK(checkValue(lenient.value()) <= kMaxJsonDepth);
    }

    const auto native = parseCreateBody(body);
    checkFailure(native);
    if (native) {
        FUZZ_CHECK(strict.ok());
        checkSizes(native->request, limits::kMinMemoryMb);
        const auto again = parseCreateBody(writeCreateBody(native.value()));
        FUZZ_CHECK(again.ok());
        const CreateVmRequest& a = native->request;
        const CreateVmRequest& b = again->request;
        FUZZ_CHECK(a.name == b.name && a.template_name == b.template_name && a.vcpus == b.vcpus &&
                   a.memory_mb == b.memory_mb && a.owner == b.owner && a.start == b.start);
        FUZZ_CHECK(native->site == again->site);
    }
    const auto compat = readCompatCreate(body);
    checkValidated(compat);
    if (compat.value) {
        // The old service always started the VM and always had sizes.
        FUZZ_CHECK(compat.value->start && compat.value->vcpus && compat.value->memory_mb && compat.value->legacy_name);
        checkSizes(*compat.value, limits::kCompatMinMemoryMb);
    }
    // Whatever the native route accepts, the compat one accepts unless memory_mb is below its floor
    // or a size is an explicit null (pydantic's int fields were not Optional).
    const auto isNull = [&](const char* field) {
        return lenient && lenient->HasMember(field) && (*lenient)[field].IsNull();
    };
    if (native && (!native->request.memory_mb || *native->request.memory_mb >= limits::kCompatMinMemoryMb) &&
        !isNull("vcpus") && !isNull("memory_mb"))
        FUZZ_CHECK(compat.value.has_value());

    const auto allocate = parseAllocateBody(body);
    checkFailure(allocate);
    if (allocate && allocate->ttl_s)
        FUZZ_CHECK(*allocate->ttl_s >= 1 && *allocate->ttl_s <= limits::kMaxLeaseTtlSeconds);
    if (allocate) FUZZ_CHECK(lenient.ok());
    const auto compatAllocate = readCompatAllocate(body);
    checkValidated(compatAllocate);
    if (compatAllocate.value && compatAllocate.value->ttl_s)
        FUZZ_CHECK(*compatAllocate.value->ttl_s >= 1 && *compatAllocate.value->ttl_s <= limits::kMaxLeaseTtlSeconds);
    if (allocate) FUZZ_CHECK(compatAllocate.value.has_value());
    const auto extend = parseExtendBody(body);
    checkFailure(extend);
    if (extend) FUZZ_CHECK(extend.value() >= 1 && extend.value() <= limits::kMaxLeaseTtlSeconds);

    const auto mint = parseMintTokenBody(body);
    checkFailure(mint);
    if (mint) {
        FUZZ_CHECK(strict.ok());
        FUZZ_CHECK(validateOwner(mint->owner, true).ok());
        FUZZ_CHECK(mint->ttl >= TokenStore::kMinTtl && mint->ttl <= TokenStore::kMaxTtl);
        FUZZ_CHECK(mint->role != Role::Admin);
    }

    // A VM's saved state: snapshot, revert, backup and restore bodies.
    const auto snapshot = parseSnapshotBody(body);
    checkFailure(snapshot);
    if (snapshot) FUZZ_CHECK(strict.ok() && isValidUtf8(snapshot->name) && isValidUtf8(snapshot->description));
    const auto revert = parseRevertBody(body);
    checkFailure(revert);
    if (revert) FUZZ_CHECK(lenient.ok());
    const auto backup = parseBackupBody(body);
    checkFailure(backup);
    if (backup) FUZZ_CHECK(lenient.ok() && lenient->MemberCount() == 0);
    const auto restore = parseRestoreBody(body);
    checkFailure(restore);
    if (restore) {
        FUZZ_CHECK(strict.ok() && isValidUtf8(restore->as));
        if (restore->owner) FUZZ_CHECK(validateOwner(*restore->owner, false).ok());
    }

    // Watching: settings, heartbeats, guest requests.
    const auto watch = parseWatchBody(body);
    checkFailure(watch);
    if (watch) {
        FUZZ_CHECK(lenient.ok());
        if (watch->snapshot) FUZZ_CHECK(validateName(*watch->snapshot, "snapshot name").ok());
        if (watch->heartbeat_timeout_ms) FUZZ_CHECK(*watch->heartbeat_timeout_ms >= 1000);
        if (watch->check_interval_ms) FUZZ_CHECK(*watch->check_interval_ms >= 100 && *watch->check_interval_ms <= 60000);
    }
    const auto beat = parseHeartbeat({{"status", std::string(body)}}, "");
    checkFailure(beat);
    if (beat) FUZZ_CHECK(beat->status.size() <= kMaxHeartbeatStatusBytes && isValidUtf8(beat->status));
    const auto beatBody = parseHeartbeat({}, body);
    checkFailure(beatBody);
    if (beatBody) FUZZ_CHECK(beatBody->message.size() <= kMaxHeartbeatMessageBytes && isValidUtf8(beatBody->message));
    const auto request = parseRevertRequest(body);
    checkFailure(request);
    if (request) FUZZ_CHECK(strict.ok() && request->delay_s <= kMaxRevertDelaySeconds && isValidUtf8(request->reason));
    const auto idle = parseIdleReset(body);
    checkFailure(idle);
    if (idle) FUZZ_CHECK(idle.value() >= 0 && idle.value() <= 1e9);

    // Provisioning: the request body is all zero bytes while `use` runs and after, whatever the
    // outcome; an accepted password came from a one-member object.
    std::string secretBody(body);
    std::string seen;
    const Status taken = withPasswordFromBody(secretBody, [&](std::string_view password) -> Status {
        FUZZ_CHECK(secretBody.find_first_not_of('\0') == std::string::npos);  // the request's copy is gone already
        FUZZ_CHECK(password.size() <= body.size());
        seen.assign(password);
        return {};
    });
    checkFailure(taken);
    FUZZ_CHECK(secretBody.size() == body.size());
    FUZZ_CHECK(secretBody.find_first_not_of('\0') == std::string::npos);
    if (taken) FUZZ_CHECK(lenient.ok() && lenient->MemberCount() == 1 && lenient->HasMember("password"));
    for (const char* key : {"vm", "state", "kind", "limit", "offset", "follow", "other"}) {
        const std::map<std::string, std::string> query{{key, std::string(body)}};
        const auto filter = parseOperationQuery(query);
        checkFailure(filter);
        if (filter) {
            FUZZ_CHECK(filter->limit >= 1 && filter->limit <= kMaxOperationListLimit);
            FUZZ_CHECK(filter->state.empty() || isOperationStateName(filter->state));
            FUZZ_CHECK(filter->vm.size() <= 128 && isValidUtf8(filter->vm));
        }
        checkFailure(parseOutputQuery(query));
    }
    // GET /api/v1/vms?owner=&state=: an accepted owner is a valid owner; an accepted state list
    // names as many states as it has comma-separated words, each one of the listing's spellings.
    const std::optional<std::string> text{std::string(body)};
    const auto byOwner = parseListingFilter(text, std::nullopt);
    checkFailure(byOwner);
    if (byOwner) FUZZ_CHECK(byOwner->owner == text && validateOwner(*text, true).ok() && byOwner->states.empty());
    const auto byState = parseListingFilter(std::nullopt, text);
    checkFailure(byState);
    if (byState) {
        FUZZ_CHECK(!byState->owner);
        FUZZ_CHECK(byState->states.size() == static_cast<size_t>(std::count(body.begin(), body.end(), ',')) + 1);
        for (const DomainState state : byState->states) {
            const auto name = domainStateName(state);
            FUZZ_CHECK(body.find(name) != std::string_view::npos || (state == DomainState::Shutoff &&
                                                                    body.find("shutoff") != std::string_view::npos));
            FUZZ_CHECK(byState->keeps("anyone", state));
        }
    }
    return 0;
}
