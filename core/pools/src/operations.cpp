#include "paddock/core/operations.hpp"

#include "paddock/core/atomic_file.hpp"
#include "paddock/core/ids.hpp"
#include "paddock/core/json_fields.hpp"
#include "paddock/core/json_writer.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cstdio>

namespace paddock {

namespace {

// 2 added site, cancellable, progress, output_tail and the status "cancelled"; 1 is read too.
constexpr int kFormatVersion = 2;
constexpr size_t kFinishedOutputsKept = 32;

void writeTime(JsonWriter& json, std::string_view key, const std::optional<SystemTime>& t) {
    json.key(key);
    if (t)
        json.value(isoTime(*t));
    else
        json.null();
}

void writeLeaseRecord(JsonWriter& json, const Lease& l) {
    json.beginObject()
        .field("id", l.id)
        .field("pool", l.pool)
        .field("site", l.site)
        .field("vm", l.vm)
        .field("owner", l.owner)
        .field("created_at", isoTime(l.created_at))
        .key("expires_at")
        .stringOrNull(l.expires ? isoTime(l.expires_at) : std::string())
        .field("idempotency_key", l.idempotency_key)
        .field("ssh_host", l.ssh_host)
        .field("ssh_port", l.ssh_port)
        .field("ssh_user", l.ssh_user)
        .endObject();
}

// The readers (json_fields.hpp) throw on a malformed record; so do these, with the same error,
// which persistTo turns into the Result.
using json_fields::member;
using json_fields::optionalTime;
using json_fields::text;
using json_fields::time;
using Malformed = json_fields::JsonFieldError;

Lease readLease(const rapidjson::Value& v) {
    Lease l;
    l.id = text(v, "id");
    l.pool = text(v, "pool");
    l.site = text(v, "site");
    l.vm = text(v, "vm");
    l.owner = text(v, "owner");
    l.created_at = time(v, "created_at");
    l.expires = !member(v, "expires_at").IsNull();
    if (l.expires) l.expires_at = time(v, "expires_at");
    l.idempotency_key = text(v, "idempotency_key");
    l.ssh_host = text(v, "ssh_host");
    const auto& port = member(v, "ssh_port");
    if (!port.IsUint() || port.GetUint() > 65535) throw Malformed{"'ssh_port' is not a port"};
    l.ssh_port = static_cast<uint16_t>(port.GetUint());
    l.ssh_user = text(v, "ssh_user");
    return l;
}

Operation readOperation(const rapidjson::Value& v) {
    Operation op;
    op.id = text(v, "id");
    op.kind = text(v, "kind");
    op.pool = text(v, "pool");
    op.owner = text(v, "owner");
    op.vm = text(v, "vm");
    if (v.HasMember("site")) op.site = text(v, "site");
    if (v.HasMember("progress")) op.progress = text(v, "progress");
    if (v.HasMember("output_tail")) op.output_tail = text(v, "output_tail");
    if (v.HasMember("cancellable")) {
        const auto& c = member(v, "cancellable");
        if (!c.IsBool()) throw Malformed{"'cancellable' is not a boolean"};
        op.cancellable = c.GetBool();
    }
    const std::string status = text(v, "status");
    if (status == "pending")
        op.status = Operation::Status::Pending;
    else if (status == "done")
        op.status = Operation::Status::Done;
    else if (status == "failed")
        op.status = Operation::Status::Failed;
    else if (status == "cancelled")
        op.status = Operation::Status::Cancelled;
    else
        throw Malformed{"unknown status '" + status + "'"};
    op.created_at = time(v, "created_at");
    op.started_at = optionalTime(v, "started_at");
    op.finished_at = optionalTime(v, "finished_at");
    if (const auto& lease = member(v, "lease"); !lease.IsNull()) op.lease = readLease(lease);
    if (v.HasMember("result")) {
        const auto& result = member(v, "result");
        op.result_key = text(result, "key");
        op.result_json = text(result, "json");
        if (op.result_key.empty()) throw Malformed{"operation " + op.id + " has a result without a key"};
    }
    if (const auto& error = member(v, "error"); !error.IsNull()) {
        const auto code = errorCodeFromId(text(error, "code"));
        if (!code) throw Malformed{"unknown error code '" + text(error, "code") + "'"};
        op.error = makeError(*code, text(error, "message"));
    }
    const bool hasResult = op.lease.has_value() || !op.result_key.empty();
    const bool ended = op.status == Operation::Status::Failed || op.status == Operation::Status::Cancelled;
    if ((op.status == Operation::Status::Done) != hasResult || ended != op.error.has_value())
        throw Malformed{"operation " + op.id + " is " + status + " but has " + (hasResult ? "a result" : "no result") +
                        " and " + (op.error ? "an error" : "no error")};
    return op;
}

}  // namespace

std::string_view operationStatusName(Operation::Status status) noexcept {
    switch (status) {
        case Operation::Status::Pending: return "pending";
        case Operation::Status::Done: return "done";
        case Operation::Status::Failed: return "failed";
        case Operation::Status::Cancelled: return "cancelled";
    }
    return "pending";
}

std::string_view operationStateName(const Operation& op) noexcept {
    switch (op.status) {
        case Operation::Status::Pending: return op.started_at ? "running" : "queued";
        case Operation::Status::Done: return "succeeded";
        case Operation::Status::Failed: return "failed";
        case Operation::Status::Cancelled: return "cancelled";
    }
    return "queued";
}

bool operationInState(const Operation& op, std::string_view state) noexcept { return operationStateName(op) == state; }

Status OperationRegistry::persistTo(const std::string& path) {
    Status loaded = [&]() -> Status {
        auto content = readWholeFile(path);
        if (!content)
            return content.error().code == ErrorCode::NotFound ? Status{} : Status(std::move(content).error());
        rapidjson::Document doc;
        doc.Parse(content->data(), content->size());
        if (doc.HasParseError()) return makeError(ErrorCode::InvalidArgument, path + " is not JSON");
        std::map<std::string, Operation> operations;
        std::vector<std::string> finished;
        std::set<std::string> interrupted;
        try {
            const auto& version = member(doc, "version");
            if (!version.IsInt() || version.GetInt() < 1 || version.GetInt() > kFormatVersion)
                throw Malformed{"unknown version (this paddockd writes " + std::to_string(kFormatVersion) + ")"};
            const auto& list = member(doc, "operations");
            if (!list.IsArray()) throw Malformed{"'operations' is not a list"};
            for (const auto& item : list.GetArray()) {
                Operation op = readOperation(item);
                if (op.status == Operation::Status::Pending)
                    interrupted.insert(op.id);
                else
                    finished.push_back(op.id);
                operations[op.id] = std::move(op);
            }
        } catch (const Malformed& m) {
            return makeError(ErrorCode::InvalidArgument, path + ": " + m.what);
        }
        std::lock_guard lock(mutex_);
        operations_ = std::move(operations);
        finished_ = std::move(finished);
        interrupted_ = std::move(interrupted);
        pruneLocked();
        return {};
    }();
    if (!loaded && loaded.error().code == ErrorCode::Unavailable) return loaded;  // unreadable: not ours to replace
    std::optional<Error> corrupt;
    if (!loaded) {
        // Kept for a human to look at; a fresh file takes its place.
        corrupt = std::move(loaded).error();
        if (std::rename(path.c_str(), (path + ".corrupt").c_str()) != 0) {
            corrupt->message += " (and it could not be moved aside)";
            return *corrupt;
        }
        corrupt->message += "; moved aside to " + path + ".corrupt, starting without earlier operations";
    }
    {
        std::lock_guard lock(mutex_);
        path_ = path;
    }
    if (Status written = persist(); !written) return written;
    if (corrupt) return *corrupt;
    return {};
}

Result<Operation> OperationRegistry::begin(const std::string& kind, const std::string& pool, const std::string& owner,
                                           const std::string& vm) {
    return begin(OperationSpec{kind, "", pool, owner, vm, false});
}

Result<Operation> OperationRegistry::begin(const OperationSpec& spec) {
    Operation op;
    op.id = randomId("op-", 24);
    op.kind = spec.kind;
    op.site = spec.site;
    op.pool = spec.pool;
    op.owner = spec.owner;
    op.vm = spec.vm;
    op.cancellable = spec.cancellable;
    op.created_at = std::chrono::system_clock::now();
    {
        std::lock_guard lock(mutex_);
        operations_[op.id] = op;
    }
    if (Status written = persist(); !written) {
        std::lock_guard lock(mutex_);
        operations_.erase(op.id);
        Error e = std::move(written).error();
        e.message = "cannot record the operation: " + e.message;
        return e;
    }
    notify(op.id);
    return op;
}

void OperationRegistry::start(const std::string& id) {
    // Not written by itself: a crash before the operation ends makes it interrupted anyway.
    {
        std::lock_guard lock(mutex_);
        const auto it = operations_.find(id);
        if (it == operations_.end() || it->second.status != Operation::Status::Pending) return;
        it->second.started_at = std::chrono::system_clock::now();
    }
    notify(id);
}

Result<Operation> OperationRegistry::cancel(const std::string& id, const std::string& actor) {
    bool ended = false;
    {
        std::lock_guard lock(mutex_);
        const auto it = operations_.find(id);
        if (it == operations_.end()) return makeError(ErrorCode::NotFound, "unknown operation '" + id + "'");
        Operation& op = it->second;
        if (op.status != Operation::Status::Pending)
            return makeError(ErrorCode::Conflict,
                             "operation " + id + " has ended (" + std::string(operationStateName(op)) + ")");
        if (!op.cancellable)
            return makeError(ErrorCode::Conflict, "a " + op.kind + " operation cannot be cancelled");
        if (op.started_at) {
            op.cancel_requested = true;
            return op;
        }
        op.status = Operation::Status::Cancelled;
        op.error = makeError(ErrorCode::Conflict, "cancelled by " + actor + " before it started");
        finishLocked(op);
        ended = true;
    }
    if (ended) {
        (void)persist();
        notify(id);
    }
    return get(id);
}

bool OperationRegistry::cancelRequested(const std::string& id) const {
    std::lock_guard lock(mutex_);
    const auto it = operations_.find(id);
    return it != operations_.end() && it->second.cancel_requested;
}

void OperationRegistry::cancelled(const std::string& id, std::optional<Error> error) {
    settle(id, [&](Operation& op) {
        op.status = Operation::Status::Cancelled;
        op.error = error ? std::move(*error) : makeError(ErrorCode::Conflict, "cancelled");
    });
}

void OperationRegistry::setProgress(const std::string& id, std::string progress) {
    std::lock_guard lock(mutex_);
    if (const auto it = operations_.find(id); it != operations_.end()) it->second.progress = std::move(progress);
}

void OperationRegistry::appendOutput(const std::string& id, std::string_view line) {
    {
        std::lock_guard lock(mutex_);
        const auto it = operations_.find(id);
        if (it == operations_.end() || it->second.status != Operation::Status::Pending) return;
        OutputBuffer& out = output_[id];
        out.text.append(line).push_back('\n');
        if (out.text.size() > kOperationOutputBytes) {
            // Whole lines go, so a reader never starts mid-line.
            size_t cut = out.text.size() - kOperationOutputBytes;
            const size_t eol = out.text.find('\n', cut);
            cut = eol == std::string::npos ? out.text.size() : eol + 1;
            out.text.erase(0, cut);
            out.dropped += cut;
        }
        std::string& tail = it->second.output_tail;
        const size_t keep = std::min(out.text.size(), kOperationOutputTailBytes);
        tail.assign(out.text, out.text.size() - keep, keep);
    }
    outputChanged_.notify_all();
}

Result<OperationOutput> OperationRegistry::output(const std::string& id, uint64_t offset, size_t maxBytes) const {
    std::lock_guard lock(mutex_);
    const auto it = operations_.find(id);
    if (it == operations_.end()) return makeError(ErrorCode::NotFound, "unknown operation '" + id + "'");
    OperationOutput piece;
    piece.finished = it->second.status != Operation::Status::Pending;
    const auto buffered = output_.find(id);
    if (buffered == output_.end()) {
        // Nothing in memory (a restart since, or no output at all): the persisted tail is all.
        const std::string& tail = it->second.output_tail;
        piece.offset = std::min<uint64_t>(offset, tail.size());
        piece.text = tail.substr(piece.offset, maxBytes);
        piece.next = piece.offset + piece.text.size();
        return piece;
    }
    const OutputBuffer& out = buffered->second;
    piece.offset = std::max<uint64_t>(offset, out.dropped);
    const uint64_t end = out.dropped + out.text.size();
    if (piece.offset > end) piece.offset = end;
    piece.text = out.text.substr(piece.offset - out.dropped, maxBytes);
    piece.next = piece.offset + piece.text.size();
    return piece;
}

void OperationRegistry::waitOutput(const std::string& id, uint64_t offset, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    outputChanged_.wait_for(lock, timeout, [&] {
        const auto it = operations_.find(id);
        if (it == operations_.end() || it->second.status != Operation::Status::Pending) return true;
        const auto out = output_.find(id);
        return out != output_.end() && out->second.dropped + out->second.text.size() > offset;
    });
}

std::vector<Operation> OperationRegistry::list(const OperationFilter& filter) const {
    std::vector<Operation> found;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, op] : operations_) {
            if (!filter.vm.empty() && op.vm != filter.vm) continue;
            if (!filter.kind.empty() && op.kind != filter.kind) continue;
            if (!filter.owner.empty() && op.owner != filter.owner) continue;
            if (!filter.state.empty() && !operationInState(op, filter.state)) continue;
            found.push_back(op);
        }
    }
    std::sort(found.begin(), found.end(), [](const Operation& a, const Operation& b) {
        return a.created_at != b.created_at ? a.created_at > b.created_at : a.id > b.id;
    });
    if (found.size() > filter.limit) found.resize(filter.limit);
    return found;
}

void OperationRegistry::notify(const std::string& id) const {
    outputChanged_.notify_all();
    if (!observer_) return;
    auto op = get(id);
    if (op) observer_(op.value());
}

void OperationRegistry::finish(const std::string& id, Lease lease) {
    settle(id, [&](Operation& op) {
        op.status = Operation::Status::Done;
        op.lease = std::move(lease);
    });
}

void OperationRegistry::finish(const std::string& id, std::string resultKey, std::string resultJson) {
    settle(id, [&](Operation& op) {
        op.status = Operation::Status::Done;
        op.result_key = std::move(resultKey);
        op.result_json = std::move(resultJson);
    });
}

void OperationRegistry::fail(const std::string& id, Error error) {
    settle(id, [&](Operation& op) {
        op.status = Operation::Status::Failed;
        op.error = std::move(error);
    });
}

void OperationRegistry::settle(const std::string& id, const std::function<void(Operation&)>& outcome) {
    {
        std::lock_guard lock(mutex_);
        const auto it = operations_.find(id);
        if (it == operations_.end()) return;
        if (it->second.status != Operation::Status::Pending) return;  // settled once only
        outcome(it->second);
        finishLocked(it->second);
    }
    (void)persist();
    notify(id);
}

Result<Operation> OperationRegistry::get(const std::string& id) const {
    std::lock_guard lock(mutex_);
    const auto it = operations_.find(id);
    if (it == operations_.end()) return makeError(ErrorCode::NotFound, "unknown operation '" + id + "'");
    return it->second;
}

void OperationRegistry::settleInterrupted(const std::string& pool, const std::string& site,
                                          const std::function<std::optional<Lease>(const std::string& vm)>& leaseOf) {
    std::vector<std::pair<std::string, std::string>> mine;  // id, vm
    {
        std::lock_guard lock(mutex_);
        for (const auto& id : interrupted_) {
            const auto it = operations_.find(id);
            if (it != operations_.end() && it->second.pool == pool && (it->second.site.empty() || it->second.site == site))
                mine.emplace_back(id, it->second.vm);
        }
    }
    if (mine.empty()) return;
    // Asked outside the lock: the caller may take its own locks, which also call in here.
    std::map<std::string, std::optional<Lease>> leases;
    for (const auto& [id, vm] : mine) leases[id] = leaseOf(vm);
    {
        std::lock_guard lock(mutex_);
        for (auto& [id, lease] : leases) {
            interrupted_.erase(id);
            const auto it = operations_.find(id);
            if (it == operations_.end() || it->second.status != Operation::Status::Pending) continue;
            Operation& op = it->second;
            if (lease) {
                op.status = Operation::Status::Done;
                op.lease = std::move(*lease);
            } else {
                op.status = Operation::Status::Failed;
                op.error = makeError(ErrorCode::Unavailable, kInterruptedByRestart);
            }
            finishLocked(op);
        }
    }
    (void)persist();
}

void OperationRegistry::failInterruptedOutside(const std::set<std::string>& pools) {
    bool changed = false;
    {
        std::lock_guard lock(mutex_);
        for (auto id = interrupted_.begin(); id != interrupted_.end();) {
            const auto it = operations_.find(*id);
            if (it != operations_.end() && pools.count(it->second.pool) != 0) {
                ++id;
                continue;
            }
            if (it != operations_.end()) {
                it->second.status = Operation::Status::Failed;
                it->second.error = makeError(ErrorCode::Unavailable,
                                             it->second.pool.empty() ? std::string(kInterruptedByRestart)
                                                                     : std::string(kInterruptedByRestart) + " (pool " +
                                                                           it->second.pool + " is no longer configured)");
                finishLocked(it->second);
                changed = true;
            }
            id = interrupted_.erase(id);
        }
    }
    if (changed) (void)persist();
}

std::string OperationRegistry::persistError() const {
    std::lock_guard lock(mutex_);
    return persistError_;
}

void OperationRegistry::finishLocked(Operation& op) {
    op.finished_at = std::chrono::system_clock::now();
    op.cancel_requested = false;
    finished_.push_back(op.id);
    pruneLocked();
}

void OperationRegistry::pruneLocked() {
    while (finished_.size() > capacity_) {
        operations_.erase(finished_.front());
        output_.erase(finished_.front());
        finished_.erase(finished_.begin());
    }
    // Full output stays in memory for the newest finished operations only; older ones keep
    // their tail, as after a restart.
    if (finished_.size() > kFinishedOutputsKept) {
        for (auto id = finished_.rbegin() + kFinishedOutputsKept; id != finished_.rend(); ++id) output_.erase(*id);
    }
}

std::string OperationRegistry::serializeLocked() const {
    JsonWriter json;
    json.beginObject().field("version", kFormatVersion).key("operations").beginArray();
    // Finished ones in the order they finished (which pruning follows after a reload), then pending.
    std::vector<const Operation*> ordered;
    for (const auto& id : finished_)
        if (const auto it = operations_.find(id); it != operations_.end()) ordered.push_back(&it->second);
    for (const auto& [id, op] : operations_)
        if (op.status == Operation::Status::Pending) ordered.push_back(&op);
    for (const Operation* p : ordered) {
        const Operation& op = *p;
        json.beginObject()
            .field("id", op.id)
            .field("kind", op.kind)
            .field("pool", op.pool)
            .field("owner", op.owner)
            .field("vm", op.vm)
            .field("site", op.site)
            .field("cancellable", op.cancellable)
            .field("progress", op.progress)
            .field("output_tail", op.output_tail)
            .field("status", operationStatusName(op.status))
            .field("created_at", isoTime(op.created_at));
        writeTime(json, "started_at", op.started_at);
        writeTime(json, "finished_at", op.finished_at);
        json.key("lease");
        if (op.lease)
            writeLeaseRecord(json, *op.lease);
        else
            json.null();
        if (!op.result_key.empty())
            json.key("result").beginObject().field("key", op.result_key).field("json", op.result_json).endObject();
        json.key("error");
        if (op.error)
            json.beginObject()
                .field("code", errorCodeId(op.error->code))
                .field("message", op.error->message)
                .endObject();
        else
            json.null();
        json.endObject();
    }
    json.endArray().endObject();
    return json.str();
}

Status OperationRegistry::persist() {
    std::lock_guard write(writeMutex_);
    std::string content;
    std::string path;
    {
        std::lock_guard lock(mutex_);
        if (path_.empty()) return {};
        path = path_;
        content = serializeLocked();
    }
    Status written = writeFileAtomically(path, content, 0600);
    std::lock_guard lock(mutex_);
    persistError_ = written ? std::string() : written.error().message;
    return written;
}

}  // namespace paddock
