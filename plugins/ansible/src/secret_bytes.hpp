// Storage for bytes that may hold the become secret (the variables document, the redaction
// patterns, raw output lines): every buffer is wiped with explicit_bzero before it is freed,
// including the old buffer a growing vector leaves behind. A vector, not a std::string, because
// a short std::string keeps its bytes inside the object, where no allocator sees them.
#pragma once

#include <cstddef>
#include <new>
#include <string_view>
#include <vector>

#include <string.h>

namespace paddock::ansible {

template <class T>
struct WipingAllocator {
    using value_type = T;
    WipingAllocator() = default;
    template <class U>
    WipingAllocator(const WipingAllocator<U>&) noexcept {}
    T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
    void deallocate(T* p, size_t n) noexcept {
        ::explicit_bzero(p, n * sizeof(T));
        ::operator delete(p);
    }
    template <class U>
    bool operator==(const WipingAllocator<U>&) const noexcept {
        return true;
    }
};

using SecretBytes = std::vector<char, WipingAllocator<char>>;

inline std::string_view view(const SecretBytes& bytes) noexcept { return {bytes.data(), bytes.size()}; }

inline void append(SecretBytes& to, std::string_view bytes) { to.insert(to.end(), bytes.begin(), bytes.end()); }

}  // namespace paddock::ansible
