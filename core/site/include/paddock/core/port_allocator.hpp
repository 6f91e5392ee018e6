// Hands out host ports for guests' SSH forwards (127.0.0.1:PORT -> guest:22) from a range.
// A port is never handed out while a live VM records it in its metadata (the caller says which,
// per candidate port, so that nobody lists every domain to find out) or while another create
// holds a reservation. Thread-safe.
#pragma once

#include "paddock/core/result.hpp"

#include <cstdint>
#include <functional>
#include <mutex>
#include <set>

namespace paddock {

class PortAllocator {
public:
    PortAllocator(uint16_t first, uint16_t last) : first_(first), last_(last), next_(first) {}

    // A port in range, not `inUse`, not reserved, and bindable on 127.0.0.1 right now.
    // Unavailable when the range is exhausted. The reservation lasts until release().
    // `inUse` is asked about candidate ports only, from the round-robin start on, under this
    // allocator's mutex (it must not call back into the allocator).
    Result<uint16_t> reserveUnless(const std::function<bool(uint16_t)>& inUse);
    Result<uint16_t> reserve(const std::set<uint16_t>& inUse) {
        return reserveUnless([&inUse](uint16_t port) { return inUse.count(port) != 0; });
    }
    void release(uint16_t port);

private:
    uint16_t first_;
    uint16_t last_;
    uint16_t next_;  // round-robin start, so a just-freed port is not reused at once
    std::mutex mutex_;
    std::set<uint16_t> reserved_;
};

}  // namespace paddock
