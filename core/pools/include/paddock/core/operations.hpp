// Operations: work that outlives the request that asked for it, polled by id
// (GET /api/v1/operations/{id}), listed (GET /api/v1/operations?vm=&state=) and, when the work
// allows it, cancelled (DELETE). Kinds: "pool_allocate" (a cold allocation booting a VM for a
// lease; its result is the lease), "vm_backup" and "vm_restore" (backup_service.hpp; their
// result is a JSON object under a key of their own: "backup", "restored_vm"), "provision"
// (provision_service.hpp; result "result": the recipe's counts; cancellable; with output),
// "vm_create" (create_queue.hpp: a create answered before its start; result "created_vm").
// The shape is the general one: id, kind, state (queued, running, succeeded, failed,
// cancelled), created/started/finished times, and a result or an error. Operations of no pool
// (pool "") left pending by an earlier process fail as interrupted at the next start.
//
// Output: an operation may collect output lines (appendOutput), kept in memory up to
// kOperationOutputBytes (the oldest lines go first beyond that, counted in output_dropped) and
// readable by offset while the work goes on (output, waitOutput). Only its last
// kOperationOutputTailBytes (output_tail) are written to the file: after a restart that tail is
// all there is.
//
// Persistence: after persistTo(path) every operation is kept in a small JSON file in the state
// directory, rewritten atomically (temp file, fsync, rename) on every change, so that polling
// an id answers after a restart of paddockd as before it. The work itself cannot survive a
// restart (the pool's recovery destroys a half-made VM), so an operation an earlier process
// left pending is settled by its pool's first recovery pass (settleInterrupted): done, when its
// lease reached libvirt before the crash, else failed "interrupted by a restart of paddockd".
// A file rather than libvirt metadata, because an operation outlives its VM: a failed one has
// none left to carry its record. Bounded: at most `capacity` finished operations (the oldest are
// forgotten first) plus the pending ones, about 0.5 KB each.
//
// Thread-safe.
#pragma once

#include "paddock/core/iso_time.hpp"
#include "paddock/core/lease.hpp"
#include "paddock/core/result.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace paddock {

struct Operation {
    // Pending is "queued" before started_at is set and "running" after (operationStateName).
    enum class Status { Pending, Done, Failed, Cancelled };
    std::string id;
    std::string kind;  // "pool_allocate"
    std::string site;  // may be empty (pool operations name their pool)
    std::string pool;
    std::string owner;
    std::string vm;  // the VM it works on (or makes)
    Status status = Status::Pending;
    bool cancellable = false;       // DELETE /api/v1/operations/{id} may stop it
    bool cancel_requested = false;  // asked to stop; the work has not noticed yet
    std::string progress;           // what it is doing now, e.g. the task being run; may be empty
    std::string output_tail;        // the last kOperationOutputTailBytes of its output
    std::optional<Lease> lease;  // Done only ("pool_allocate")
    std::string result_key;      // Done operations of other kinds: what their result is ("backup", "restored_vm")
    std::string result_json;     // and the result itself, a JSON object
    std::optional<Error> error;  // Failed and Cancelled only
    SystemTime created_at{};
    std::optional<SystemTime> started_at;   // when work on it began
    std::optional<SystemTime> finished_at;  // Done or Failed
};

inline constexpr const char* kOperationPoolAllocate = "pool_allocate";
inline constexpr const char* kOperationVmBackup = "vm_backup";
inline constexpr const char* kOperationVmRestore = "vm_restore";
inline constexpr const char* kOperationProvision = "provision";
inline constexpr size_t kOperationOutputBytes = 1024 * 1024;
inline constexpr size_t kOperationOutputTailBytes = 4096;
// The error of an operation whose paddockd was restarted before it finished.
inline constexpr const char* kInterruptedByRestart = "interrupted by a restart of paddockd";

// "pending", "done", "failed", "cancelled": the wire's `status` since the first operations.
std::string_view operationStatusName(Operation::Status status) noexcept;
// "queued", "running", "succeeded", "failed", "cancelled".
std::string_view operationStateName(const Operation& op) noexcept;
// Whether `op` is in the named state; isOperationStateName tells the names apart from typos.
bool operationInState(const Operation& op, std::string_view state) noexcept;
inline bool isOperationStateName(std::string_view state) noexcept {
    return state == "queued" || state == "running" || state == "succeeded" || state == "failed" || state == "cancelled";
}

// What begin() registers.
struct OperationSpec {
    std::string kind;
    std::string site;
    std::string pool;
    std::string owner;
    std::string vm;
    bool cancellable = false;
};

// A piece of an operation's output: `text` from byte `offset` of everything it ever produced
// (output dropped from memory is skipped: `offset` then starts past it), `next` to ask from next.
struct OperationOutput {
    std::string text;
    uint64_t offset = 0;
    uint64_t next = 0;
    bool finished = false;  // the operation ended: no more will come
};

// Which operations list() returns; empty fields match everything.
struct OperationFilter {
    std::string vm;
    std::string state;  // operationStateName
    std::string kind;
    std::string owner;  // set: only that owner's
    size_t limit = 100;
};

// Called after every change of an operation's status (queued, running, and its end), outside
// the registry's lock, on the thread that made the change. Must not call back into the
// registry's writers; may read.
using OperationObserver = std::function<void(const Operation& op)>;

class OperationRegistry {
public:
    explicit OperationRegistry(size_t capacity = 1000) : capacity_(capacity) {}

    // Loads what an earlier process left in `path` (its pending operations become
    // interrupted: see settleInterrupted) and writes every later change there (mode 0600). A
    // missing file is an empty start. An unreadable or malformed one is moved aside to
    // `<path>.corrupt` and returned as the error; the registry then starts empty and persists
    // all the same. Call once, before the registry is shared.
    Status persistTo(const std::string& path);

    // Registers a new pending operation. When persistent, it is on disk before this returns;
    // Unavailable (and nothing registered) when it cannot be written.
    Result<Operation> begin(const std::string& kind, const std::string& pool, const std::string& owner,
                            const std::string& vm);
    Result<Operation> begin(const OperationSpec& spec);
    void start(const std::string& id);
    // Cancels: a queued operation ends cancelled at once; a running one is marked
    // cancel_requested for its work to notice (cancelRequested) and end with cancelled().
    // Conflict for one that finished or cannot be cancelled; NotFound for an unknown id.
    Result<Operation> cancel(const std::string& id, const std::string& actor);
    bool cancelRequested(const std::string& id) const;
    // Ends it cancelled with `error` (Conflict "cancelled by ..." when none is given).
    void cancelled(const std::string& id, std::optional<Error> error = std::nullopt);
    void setProgress(const std::string& id, std::string progress);
    // Appends one line (a line break is added) to its output.
    void appendOutput(const std::string& id, std::string_view line);
    // Its output from `offset` on, at most `maxBytes`. NotFound for an unknown id.
    Result<OperationOutput> output(const std::string& id, uint64_t offset, size_t maxBytes) const;
    // Waits until it has output past `offset` or has ended, or `timeout` passed.
    void waitOutput(const std::string& id, uint64_t offset, std::chrono::milliseconds timeout) const;
    // Newest first.
    std::vector<Operation> list(const OperationFilter& filter) const;
    // Set once, before the registry is shared.
    void setObserver(OperationObserver observer) { observer_ = std::move(observer); }
    void finish(const std::string& id, Lease lease);
    void finish(const std::string& id, std::string resultKey, std::string resultJson);
    void fail(const std::string& id, Error error);
    Result<Operation> get(const std::string& id) const;

    // Settles the operations of `pool` on `site` (and those that name no site) an earlier
    // process left pending: done with the lease `leaseOf(vm)` finds, else failed (Unavailable,
    // kInterruptedByRestart). A pool spanning sites settles per site, each from its own VMs.
    void settleInterrupted(const std::string& pool, const std::string& site,
                           const std::function<std::optional<Lease>(const std::string& vm)>& leaseOf);
    // Fails the left-over pending operations of every pool not in `pools` (none will settle them).
    void failInterruptedOutside(const std::set<std::string>& pools);

    // The last failure to write the file, "" when the last write succeeded (or none is kept).
    std::string persistError() const;

private:
    // Applies `outcome` (done or failed) to the operation `id`, if known, and persists.
    void settle(const std::string& id, const std::function<void(Operation&)>& outcome);
    void notify(const std::string& id) const;
    void finishLocked(Operation& op);
    void pruneLocked();
    std::string serializeLocked() const;
    // Writes the current state when persistent. Never called with mutex_ held.
    Status persist();

    size_t capacity_;
    mutable std::mutex mutex_;
    std::map<std::string, Operation> operations_;
    struct OutputBuffer {
        std::string text;       // what is kept, the newest part
        uint64_t dropped = 0;   // bytes dropped from its front
    };
    std::map<std::string, OutputBuffer> output_;  // in memory only
    mutable std::condition_variable outputChanged_;
    OperationObserver observer_;
    std::vector<std::string> finished_;  // ids in the order they finished
    std::set<std::string> interrupted_;  // pending ones loaded from the file
    std::string path_;                   // empty: memory only
    std::mutex writeMutex_;              // one write at a time, in order of the changes
    std::string persistError_;
};

}  // namespace paddock
