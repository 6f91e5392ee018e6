// Random identifiers for leases, operations, tickets and pool VM names.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace paddock {

// `prefix` followed by `hexDigits` lower-case hex digits from the OS's random source (ids
// double as capabilities in URLs, so they must not be guessable).
std::string randomId(std::string_view prefix, size_t hexDigits);

}  // namespace paddock
