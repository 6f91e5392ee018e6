// The provisioner's become (sudo) password, in RAM only: set and cleared by an admin
// (POST/DELETE /api/v1/provisioner/secret), never returned by anything, never written anywhere.
// The bytes live in one fixed buffer locked into memory (mlock, best effort: without the
// privilege it still works, but may be swapped) and are overwritten on clear, on replacement and
// at destruction. A run takes a SecretBytes copy, wiped when the run ends.
//
// Thread-safe.
#pragma once

#include "paddock/core/iso_time.hpp"
#include "paddock/core/result.hpp"

#include <array>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>

namespace paddock {

// Overwrites `size` bytes at `data` in a way the compiler cannot drop.
void wipeBytes(void* data, size_t size) noexcept;

// A copy of a secret that wipes itself. Move-only.
class SecretBytes {
public:
    SecretBytes() = default;
    explicit SecretBytes(std::span<const unsigned char> bytes);
    ~SecretBytes();
    SecretBytes(SecretBytes&& other) noexcept;
    SecretBytes& operator=(SecretBytes&& other) noexcept;
    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;

    bool empty() const noexcept { return size_ == 0; }
    std::span<const unsigned char> bytes() const noexcept { return {data_.get(), size_}; }
    std::string_view view() const noexcept { return {reinterpret_cast<const char*>(data_.get()), size_}; }

private:
    void wipe() noexcept;
    std::unique_ptr<unsigned char[]> data_;
    size_t size_ = 0;
};

class SecretStore {
public:
    static constexpr size_t kMaxBytes = 1024;

    SecretStore();
    ~SecretStore();
    SecretStore(const SecretStore&) = delete;
    SecretStore& operator=(const SecretStore&) = delete;

    // Replaces the secret. InvalidArgument (naming no byte of it) when it is empty, longer than
    // kMaxBytes, holds a NUL or a line break, or is not valid UTF-8.
    Status set(std::string_view secret);
    // Overwrites and forgets it. Returns whether one was set.
    bool clear() noexcept;
    bool isSet() const;
    std::optional<SystemTime> setAt() const;
    // A copy for one run; empty when none is set.
    SecretBytes copy() const;

private:
    mutable std::mutex mutex_;
    std::array<unsigned char, kMaxBytes> buffer_{};
    size_t size_ = 0;
    std::optional<SystemTime> setAt_;
    bool locked_ = false;
};

// `line` with every occurrence of `secret` replaced by "********" (also its JSON-escaped
// spelling, as a tool printing a JSON document would show it). An empty secret changes nothing.
std::string redactSecret(std::string_view line, std::string_view secret);

}  // namespace paddock
