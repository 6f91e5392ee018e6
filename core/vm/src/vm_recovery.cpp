#include "paddock/core/vm_recovery.hpp"

namespace paddock {

VmRecovery::VmRecovery(VmService& vms, Options options) : vms_(vms), options_(options) {}

VmRecovery::~VmRecovery() { stop(); }

void VmRecovery::start() {
    if (thread_.joinable()) return;
    const std::string site = vms_.site().name();
    subscription_ = vms_.site().events()->subscribe([this, site](const VmEvent& e) {
        if (e.site != site || e.kind != "connection" || e.event != "connected") return;
        {
            std::lock_guard lock(mutex_);
            wakeRequested_ = true;
        }
        wake_.notify_one();
    });
    thread_ = std::thread([this] { run(); });
}

void VmRecovery::stop() {
    subscription_.reset();
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

uint64_t VmRecovery::passes() const {
    std::lock_guard lock(mutex_);
    return passes_;
}

std::string VmRecovery::lastError() const {
    std::lock_guard lock(mutex_);
    return lastError_;
}

void VmRecovery::run() {
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, options_.interval, [this] { return stopping_ || wakeRequested_; });
            if (stopping_) return;
            wakeRequested_ = false;
        }
        auto pass = vms_.recoverInterrupted(options_.foreign_grace);
        std::lock_guard lock(mutex_);
        // An unreachable hypervisor is no pass: the reconnect event brings the next one.
        if (!pass && pass.error().code == ErrorCode::Unavailable) continue;
        ++passes_;
        lastError_ = pass ? std::string() : pass.error().message;
    }
}

}  // namespace paddock
