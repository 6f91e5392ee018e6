// Checks on core Results for tests. In namespace paddock so that argument-dependent lookup finds
// failure() for any paddock::Result.
#pragma once

#include <catch2/catch.hpp>

#include <utility>

namespace paddock {

// The error of a result that must be a failure. REQUIREs the failure first, so a call that
// succeeds by mistake fails the test instead of being judged by whatever error() would say.
template <class R>
auto failure(R&& result) {
    REQUIRE_FALSE(result.ok());
    return std::forward<R>(result).error();
}

}  // namespace paddock
