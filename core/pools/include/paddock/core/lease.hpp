// Leases (a pool VM handed to one owner until it expires or is released) and operations (a
// cold allocation still booting). Plain values, plus the registry of operations.
// A lease's facts live in its VM's libvirt metadata (pool_manager.hpp); operations live only in
// memory: after a restart an unfinished one is gone (its half-made VM is destroyed) and polling
// its id answers NotFound.
#pragma once

#include "paddock/core/ids.hpp"
#include "paddock/core/iso_time.hpp"
#include "paddock/core/result.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace paddock {


struct Lease {
    std::string id;
    std::string pool;
    std::string site;
    std::string vm;
    std::string owner;
    SystemTime created_at{};
    SystemTime expires_at{};
    std::string idempotency_key;   // empty when the allocation carried none
    std::string ssh_host;          // empty when the site has no SSH target for the VM
    uint16_t ssh_port = 0;
    std::string ssh_user;
};

struct Operation {
    enum class Status { Pending, Done, Failed };
    std::string id;
    std::string pool;
    std::string owner;
    Status status = Status::Pending;
    std::optional<Lease> lease;    // Done only
    std::optional<Error> error;    // Failed only
    SystemTime created_at{};
};

std::string_view operationStatusName(Operation::Status status) noexcept;

// Every operation of the process, shared by all pools. Keeps at most `capacity` finished
// operations (the oldest are forgotten first). Thread-safe.
class OperationRegistry {
public:
    explicit OperationRegistry(size_t capacity = 1000) : capacity_(capacity) {}

    // Registers a new pending operation and returns it (with its id).
    Operation begin(const std::string& pool, const std::string& owner);
    void finish(const std::string& id, Lease lease);
    void fail(const std::string& id, Error error);
    Result<Operation> get(const std::string& id) const;

private:
    void pruneLocked();

    size_t capacity_;
    mutable std::mutex mutex_;
    std::map<std::string, Operation> operations_;
    std::vector<std::string> finished_;   // ids in the order they finished
};

}  // namespace paddock
