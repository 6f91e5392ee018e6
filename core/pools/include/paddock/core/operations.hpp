// Operations: work that outlives the request that asked for it, polled by id
// (GET /api/v1/operations/{id}). Kinds: "pool_allocate" (a cold allocation booting a VM for a
// lease; its result is the lease), "vm_backup" and "vm_restore" (backup_service.hpp; their
// result is a JSON object under a key of their own: "backup", "restored_vm"). The shape is the general one: id, kind,
// status, created/started/finished times, and a result or an error. Operations of no pool
// (pool "") left pending by an earlier process fail as interrupted at the next start.
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
    enum class Status { Pending, Done, Failed };
    std::string id;
    std::string kind;  // "pool_allocate"
    std::string pool;
    std::string owner;
    std::string vm;  // the VM being made for it
    Status status = Status::Pending;
    std::optional<Lease> lease;  // Done only ("pool_allocate")
    std::string result_key;      // Done operations of other kinds: what their result is ("backup", "restored_vm")
    std::string result_json;     // and the result itself, a JSON object
    std::optional<Error> error;  // Failed only
    SystemTime created_at{};
    std::optional<SystemTime> started_at;   // when work on it began
    std::optional<SystemTime> finished_at;  // Done or Failed
};

inline constexpr const char* kOperationPoolAllocate = "pool_allocate";
inline constexpr const char* kOperationVmBackup = "vm_backup";
inline constexpr const char* kOperationVmRestore = "vm_restore";
// The error of an operation whose paddockd was restarted before it finished.
inline constexpr const char* kInterruptedByRestart = "interrupted by a restart of paddockd";

std::string_view operationStatusName(Operation::Status status) noexcept;

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
    void start(const std::string& id);
    void finish(const std::string& id, Lease lease);
    void finish(const std::string& id, std::string resultKey, std::string resultJson);
    void fail(const std::string& id, Error error);
    Result<Operation> get(const std::string& id) const;

    // Settles the operations of `pool` an earlier process left pending: done with the lease
    // `leaseOf(vm)` finds, else failed (Unavailable, kInterruptedByRestart).
    void settleInterrupted(const std::string& pool,
                           const std::function<std::optional<Lease>(const std::string& vm)>& leaseOf);
    // Fails the left-over pending operations of every pool not in `pools` (none will settle them).
    void failInterruptedOutside(const std::set<std::string>& pools);

    // The last failure to write the file, "" when the last write succeeded (or none is kept).
    std::string persistError() const;

private:
    // Applies `outcome` (done or failed) to the operation `id`, if known, and persists.
    void settle(const std::string& id, const std::function<void(Operation&)>& outcome);
    void finishLocked(Operation& op);
    void pruneLocked();
    std::string serializeLocked() const;
    // Writes the current state when persistent. Never called with mutex_ held.
    Status persist();

    size_t capacity_;
    mutable std::mutex mutex_;
    std::map<std::string, Operation> operations_;
    std::vector<std::string> finished_;  // ids in the order they finished
    std::set<std::string> interrupted_;  // pending ones loaded from the file
    std::string path_;                   // empty: memory only
    std::mutex writeMutex_;              // one write at a time, in order of the changes
    std::string persistError_;
};

}  // namespace paddock
