#include "paddock/core/vm_locks.hpp"

namespace paddock {

VmLocks::Guard::Guard(VmLocks& locks, const std::string& name) : locks_(locks), name_(name) {
    {
        std::lock_guard lock(locks_.mutex_);
        auto& slot = locks_.slots_[name_];
        if (!slot) slot = std::make_unique<Slot>();
        ++slot->users;
        slot_ = slot.get();
    }
    // Outside the map's mutex: waiting for one VM must not block lookups of the others.
    slot_->mutex.lock();
}

VmLocks::Guard::~Guard() {
    slot_->mutex.unlock();
    std::lock_guard lock(locks_.mutex_);
    if (--slot_->users == 0) locks_.slots_.erase(name_);
}

size_t VmLocks::size() const {
    std::lock_guard lock(mutex_);
    return slots_.size();
}

}  // namespace paddock
