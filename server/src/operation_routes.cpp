// Operations (core's OperationRegistry): one by id, the listing, cancelling, and the output of
// those that produce some (provisioning), streamed while they run. Owner-scoped tokens see their
// owner's operations only; others' are as absent as unknown ids.
#include "paddock/server/provision_requests.hpp"
#include "paddock/server/routes.hpp"
#include "paddock/server/vm_views.hpp"

#include <atomic>
#include <memory>

namespace paddock::server {

namespace {

// Followers of a running operation's output hold a worker thread each while they wait.
constexpr int kMaxOutputFollowers = 8;
constexpr std::chrono::seconds kOutputWaitSlice{15};

Result<Operation> reachableOperation(Runtime& runtime, const Request& request) {
    const std::string& id = request.param("id");
    auto op = runtime.operations().get(id);
    if (!op || !request.identity.mayReach(op->owner))
        return makeError(ErrorCode::NotFound, "unknown operation '" + id.substr(0, 128) + "'");
    return op;
}

Response operationResponse(int status, const Operation& op) {
    JsonWriter json;
    writeOperation(json, op);
    return jsonResponse(status, json.str());
}

Result<Response> getOperation(Runtime& runtime, const Request& request) {
    auto op = reachableOperation(runtime, request);
    if (!op) return std::move(op).error();
    return operationResponse(200, op.value());
}

Result<Response> listOperations(Runtime& runtime, const Request& request) {
    auto filter = parseOperationQuery(request.query);
    if (!filter) return std::move(filter).error();
    filter->owner = request.identity.owner;
    JsonWriter json;
    json.beginObject().key("operations").beginArray();
    for (const Operation& op : runtime.operations().list(filter.value())) writeOperation(json, op);
    json.endArray().endObject();
    return jsonResponse(200, json.str());
}

Result<Response> cancelOperation(Runtime& runtime, const Request& request) {
    auto op = reachableOperation(runtime, request);
    if (!op) return std::move(op).error();
    auto cancelled = runtime.operations().cancel(op->id, request.identity.name);
    if (!cancelled) return std::move(cancelled).error();
    // Still running: the work stops at its next look at the flag (202); queued: ended now (200).
    return operationResponse(cancelled->status == Operation::Status::Pending ? 202 : 200, cancelled.value());
}

Result<Response> operationOutput(Runtime& runtime, const Request& request, const std::shared_ptr<std::atomic<int>>& followers) {
    auto op = reachableOperation(runtime, request);
    if (!op) return std::move(op).error();
    auto query = parseOutputQuery(request.query);
    if (!query) return std::move(query).error();
    OperationRegistry& registry = runtime.operations();
    const std::string id = op->id;
    Response response;
    response.contentType = "text/plain; charset=utf-8";
    response.headers.emplace_back("Cache-Control", "no-store");
    if (!query->follow || op->status != Operation::Status::Pending) {
        auto piece = registry.output(id, query->offset, kOperationOutputBytes);
        if (!piece) return std::move(piece).error();
        response.headers.emplace_back("X-Output-Offset", std::to_string(piece->offset));
        response.headers.emplace_back("X-Output-Next", std::to_string(piece->next));
        response.body = std::move(piece->text);
        return response;
    }
    if (followers->fetch_add(1) >= kMaxOutputFollowers) {
        followers->fetch_sub(1);
        return makeError(ErrorCode::TooManyRequests, "too many clients follow operation output; retry with follow=false");
    }
    // Released when the last copy of the stream goes, however the response ends.
    auto slot = std::shared_ptr<void>(nullptr, [followers](void*) { followers->fetch_sub(1); });
    response.stream = [&registry, id, offset = query->offset, slot](std::string& out) mutable -> Result<bool> {
        for (;;) {
            auto piece = registry.output(id, offset, kBodyPieceBytes);
            if (!piece) return std::move(piece).error();
            offset = piece->next;
            if (!piece->text.empty()) {
                out += piece->text;
                return true;
            }
            if (piece->finished) return false;
            registry.waitOutput(id, offset, kOutputWaitSlice);
        }
    };
    return response;
}

}  // namespace

void addOperationRoutes(Router& router, const RouteContext& context) {
    Runtime& rt = context.runtime;
    auto followers = std::make_shared<std::atomic<int>>(0);
    router.add("GET", "/api/v1/operations", [&rt](Request& r) { return listOperations(rt, r); });
    router.add("GET", "/api/v1/operations/{id}", [&rt](Request& r) { return getOperation(rt, r); });
    router.add("DELETE", "/api/v1/operations/{id}", [&rt](Request& r) { return cancelOperation(rt, r); });
    router.add("GET", "/api/v1/operations/{id}/output",
               [&rt, followers](Request& r) { return operationOutput(rt, r, followers); });
}

}  // namespace paddock::server
