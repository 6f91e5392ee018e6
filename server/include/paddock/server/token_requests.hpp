// Reading the body of POST /api/v1/tokens (token_routes.cpp) apart from the store it goes to:
// a pure function of the body text, tested and fuzzed alone. Every failure is an
// InvalidArgument naming the field.
#pragma once

#include "paddock/core/result.hpp"
#include "paddock/core/role.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace paddock::server {

struct MintTokenBody {
    std::string owner;               // required; a valid owner (names.hpp)
    std::string name;                // "" when absent
    std::chrono::seconds ttl{3600};  // TokenStore::kMinTtl..kMaxTtl; default TokenStore::kDefaultTtl
    Role role = Role::Operator;      // operator or viewer, never admin
};

// {owner, name?, ttl_s?, role?}; unknown fields are refused.
Result<MintTokenBody> parseMintTokenBody(std::string_view body);

}  // namespace paddock::server
