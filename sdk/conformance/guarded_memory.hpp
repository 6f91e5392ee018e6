// Memory for struct-size checks. An input struct is placed so that it ends exactly where an
// inaccessible page begins: a plugin reading past the struct_size it was given faults, and
// guarded() turns that fault into a reported failure instead of a crash. An output struct is
// followed by guard bytes that must still hold their pattern after the call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace paddock::conformance {

class GuardedPage {
public:
    GuardedPage();
    ~GuardedPage();
    GuardedPage(const GuardedPage&) = delete;
    GuardedPage& operator=(const GuardedPage&) = delete;

    // `size` bytes (a multiple of 8) ending at the guard page, zeroed.
    void* place(size_t size);

private:
    char* base_ = nullptr;
    size_t page_ = 0;
};

// Runs `call` (single-threaded); false when it touched a guard page (it was abandoned there).
bool guarded(const std::function<void()>& call);

inline constexpr unsigned char kGuardByte = 0xA5;

// A caller-owned output of `size` bytes followed by guard bytes up to `capacity`.
class GuardedOutput {
public:
    GuardedOutput(uint32_t structSize, size_t capacity);
    template <class T>
    T* as() {
        return reinterpret_cast<T*>(bytes_);
    }
    bool guardIntact() const;
    uint32_t structSize() const;  // what the struct says after the call

private:
    alignas(16) unsigned char bytes_[2048];
    uint32_t size_;
    size_t capacity_;
};

}  // namespace paddock::conformance
