#include "paddock/core/lease.hpp"


namespace paddock {

std::string_view operationStatusName(Operation::Status status) noexcept {
    switch (status) {
    case Operation::Status::Pending: return "pending";
    case Operation::Status::Done: return "done";
    case Operation::Status::Failed: return "failed";
    }
    return "pending";
}

Operation OperationRegistry::begin(const std::string& pool, const std::string& owner) {
    Operation op;
    op.id = randomId("op-", 24);
    op.pool = pool;
    op.owner = owner;
    op.created_at = std::chrono::system_clock::now();
    std::lock_guard lock(mutex_);
    operations_[op.id] = op;
    return op;
}

void OperationRegistry::finish(const std::string& id, Lease lease) {
    std::lock_guard lock(mutex_);
    const auto it = operations_.find(id);
    if (it == operations_.end()) return;
    it->second.status = Operation::Status::Done;
    it->second.lease = std::move(lease);
    finished_.push_back(id);
    pruneLocked();
}

void OperationRegistry::fail(const std::string& id, Error error) {
    std::lock_guard lock(mutex_);
    const auto it = operations_.find(id);
    if (it == operations_.end()) return;
    it->second.status = Operation::Status::Failed;
    it->second.error = std::move(error);
    finished_.push_back(id);
    pruneLocked();
}

Result<Operation> OperationRegistry::get(const std::string& id) const {
    std::lock_guard lock(mutex_);
    const auto it = operations_.find(id);
    if (it == operations_.end()) return makeError(ErrorCode::NotFound, "unknown operation '" + id + "'");
    return it->second;
}

void OperationRegistry::pruneLocked() {
    while (finished_.size() > capacity_) {
        operations_.erase(finished_.front());
        finished_.erase(finished_.begin());
    }
}

}  // namespace paddock
