// Finishes, in the background, the VM creates and deletes that a crash of paddockd left
// unfinished on one site (VmService::recoverInterrupted): a pass as soon as the site is
// reachable, again after every reconnect, and every `interval` (for another instance's records
// once they are old enough, and removals that failed). Pool VMs are their PoolManager's.
//
// Threads: one, started by start(); stop() (and the destructor) wakes and joins it, waiting
// at most for the pass in progress. The VmService (and its Site) must outlive it.
#pragma once

#include "paddock/core/events.hpp"
#include "paddock/core/vm_service.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace paddock {

class VmRecovery {
public:
    struct Options {
        std::chrono::milliseconds interval{60000};
        // No create or delete takes this long: another instance's record this old is left over.
        std::chrono::seconds foreign_grace{600};
    };

    VmRecovery(VmService& vms, Options options);
    explicit VmRecovery(VmService& vms) : VmRecovery(vms, Options{}) {}
    ~VmRecovery();
    VmRecovery(const VmRecovery&) = delete;
    VmRecovery& operator=(const VmRecovery&) = delete;

    void start();
    void stop();
    // Passes that reached the hypervisor so far, and the last one's error ("" when none).
    uint64_t passes() const;
    std::string lastError() const;

private:
    void run();

    VmService& vms_;
    Options options_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool wakeRequested_ = true;  // the first pass runs at once
    bool stopping_ = false;
    uint64_t passes_ = 0;
    std::string lastError_;
    EventHub::Subscription subscription_;
    std::thread thread_;
};

}  // namespace paddock
