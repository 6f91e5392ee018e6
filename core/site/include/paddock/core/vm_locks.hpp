// One mutex per VM name, so that operations on one VM are serialised while different VMs
// proceed in parallel. An entry exists only while someone holds or waits for it: the map does
// not grow with every name ever asked about (404s included). Thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace paddock {

class VmLocks {
    struct Slot {
        std::mutex mutex;
        size_t users = 0;  // holders and waiters; guarded by VmLocks::mutex_
    };

public:
    // Holds the VM's mutex from construction to destruction.
    class Guard {
    public:
        Guard(VmLocks& locks, const std::string& name);
        ~Guard();
        Guard(const Guard&) = delete;
        Guard& operator=(const Guard&) = delete;

    private:
        VmLocks& locks_;
        std::string name_;
        Slot* slot_;
    };

    [[nodiscard]] Guard lock(const std::string& name) { return Guard(*this, name); }
    // Names with a holder or waiter now (for tests and metrics).
    size_t size() const;

private:
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::unique_ptr<Slot>> slots_;
};

}  // namespace paddock
