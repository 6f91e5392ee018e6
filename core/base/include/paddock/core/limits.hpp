// Numeric rules every front end shares: configuration validation, the native API, the
// compatibility routes and the VM service read them from here and nowhere else.
#pragma once

#include "paddock/core/result.hpp"

#include <cstdint>

namespace paddock::limits {

// Sizes of one VM.
inline constexpr uint32_t kMinVcpus = 1;
inline constexpr uint32_t kMaxVcpus = 64;
inline constexpr uint64_t kMinMemoryMb = 64;
inline constexpr uint64_t kMaxMemoryMb = 262144;  // 256 GiB

// The earlier VM manager refused less than this (its clients rely on the 4xx); the
// compatibility route keeps that floor on top of kMinMemoryMb.
inline constexpr uint64_t kCompatMinMemoryMb = 256;

// The longest a lease may be asked for, and the longest a pool may allow (one year).
inline constexpr uint64_t kMaxLeaseTtlSeconds = 31536000;

// InvalidArgument naming the field when vcpus or memory_mb is outside the limits above.
Status checkVmSize(uint64_t vcpus, uint64_t memoryMb);

}  // namespace paddock::limits
