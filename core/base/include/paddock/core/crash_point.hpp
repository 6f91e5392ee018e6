// Kill points for crash-consistency tests. `crashPoint("vm.create.after_define")` marks a step
// after which paddockd may die; when the environment armed that point at startup
// (PADDOCK_CRASH_POINT=<name>[:<n>], see armCrashPointFromEnvironment), the n-th time it is
// reached (default: the first) the process sends itself SIGKILL: no destructor runs, nothing is
// flushed, exactly as if the machine had lost power at that step (one line naming the point
// goes to stderr first, unbuffered, so a test log shows where it died).
//
// Unarmed (always, outside tests) a crash point costs one relaxed atomic load.
// Every point is listed in kCrashPoints, once; crashPoint() accepts only those names (checked
// at compile time), so a test iterating over the list reaches every point there is, and a
// misspelt name can neither compile nor be armed.
#pragma once

#include "paddock/core/result.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace paddock {

// Where paddockd may be killed, by operation. Each name says which step has just completed.
inline constexpr std::array<std::string_view, 20> kCrashPoints = {
    // VmService::create (also every pool fill and cold allocation): the domain is defined
    // (naming its overlay, marked "creating"), the overlay exists, it runs, the mark is gone.
    "vm.create.after_define",
    "vm.create.after_overlay",
    "vm.create.after_start",
    "vm.create.after_metadata",
    // VmService::remove (also release, expiry and pool replacements): marked "deleting",
    // powered off, its overlay deleted, undefined.
    "vm.delete.after_mark",
    "vm.delete.after_destroy",
    "vm.delete.after_volume_delete",
    "vm.delete.after_undefine",
    // Pool refill: the VM is made (pool_state filling), marked idle, managed-saved (saved mode).
    "pool.fill.after_create",
    "pool.fill.after_idle_mark",
    "pool.fill.after_save",
    // Allocation from an idle VM: claimed in memory, started/restored (when the mode needs it),
    // the lease written to the VM's metadata (the 200 not yet sent).
    "pool.allocate.after_claim",
    "pool.allocate.after_start",
    "pool.allocate.after_lease",
    // Release and expiry: the VM is marked pool_state releasing (its removal follows).
    "pool.release.after_mark",
    "pool.expire.after_mark",
    // Cold allocation: the operation is registered (and persisted; the 202 not yet sent), its
    // VM is made, the lease is written, the operation is recorded as done.
    "pool.cold.after_register",
    "pool.cold.after_create",
    "pool.cold.after_lease",
    "pool.cold.after_finish",
};

constexpr bool isCrashPoint(std::string_view name) {
    for (const auto point : kCrashPoints)
        if (point == name) return true;
    return false;
}

// A name from kCrashPoints; anything else does not compile.
class CrashPointName {
public:
    consteval CrashPointName(const char* name) : name_(name) {
        if (!isCrashPoint(name_)) throw "not a crash point: add it to kCrashPoints";
    }
    constexpr std::string_view view() const noexcept { return name_; }

private:
    std::string_view name_;
};

namespace detail {
extern std::atomic<bool> crashPointArmed;
void reachCrashPoint(std::string_view name) noexcept;
}  // namespace detail

inline void crashPoint(CrashPointName name) noexcept {
    if (detail::crashPointArmed.load(std::memory_order_relaxed)) [[unlikely]]
        detail::reachCrashPoint(name.view());
}

// Arms from `spec` ("<name>" or "<name>:<n>", n >= 1); an empty spec disarms. InvalidArgument
// naming the known points for an unknown name or a bad count. Call before other threads reach
// crash points (paddockd: at startup).
Status armCrashPoint(std::string_view spec);
// armCrashPoint(PADDOCK_CRASH_POINT), once at startup; unset or empty leaves it unarmed.
Status armCrashPointFromEnvironment();
// The armed point's name; empty when unarmed.
std::string armedCrashPoint();

}  // namespace paddock
