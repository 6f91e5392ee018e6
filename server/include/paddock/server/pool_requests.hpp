// Reading the bodies of the pool and lease routes (pool_routes.cpp) apart from the Runtime they
// act on, as vm_requests.hpp does for VM creation: pure functions of the body text, so they are
// tested and fuzzed alone. Every failure is an InvalidArgument naming the field.
#pragma once

#include "paddock/core/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace paddock::server {

struct AllocateBody {
    std::optional<std::string> owner;
    std::optional<uint64_t> ttl_s;  // in [1, limits::kMaxLeaseTtlSeconds]
};

// POST /api/v1/pools/{pool}/allocate: {owner?, ttl_s?}; unknown fields are refused. An empty
// body is an empty request (every field absent). (The compat POST /pool/allocate reads its body
// with compat_requests.hpp.)
Result<AllocateBody> parseAllocateBody(std::string_view body);

// POST /api/v1/leases/{id}/extend: {ttl_s} (required, in [1, limits::kMaxLeaseTtlSeconds]).
Result<uint64_t> parseExtendBody(std::string_view body);

}  // namespace paddock::server
