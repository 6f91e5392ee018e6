#include "paddock/server/body_limit.hpp"

#include "result_checks.hpp"

#include <catch2/catch.hpp>

#include <sstream>

using namespace paddock;
using namespace paddock::server;

TEST_CASE("a declared Content-Length over the limit is refused before reading", "[body_limit]") {
    CHECK(checkDeclaredLength(std::nullopt, 10).ok());
    CHECK(checkDeclaredLength(10, 10).ok());
    auto tooBig = checkDeclaredLength(11, 10);
    REQUIRE_FALSE(tooBig.ok());
    CHECK(failure(tooBig).code == ErrorCode::PayloadTooLarge);
    CHECK_THAT(failure(tooBig).message, Catch::Contains("10 bytes"));
}

TEST_CASE("bodies are read up to the limit and cut off beyond it", "[body_limit]") {
    std::istringstream exact(std::string(20000, 'x'));
    auto body = readLimitedBody(exact, 20000);
    REQUIRE(body.ok());
    CHECK(body.value().size() == 20000);

    std::istringstream over(std::string(20001, 'x'));
    auto tooBig = readLimitedBody(over, 20000);
    REQUIRE_FALSE(tooBig.ok());
    CHECK(failure(tooBig).code == ErrorCode::PayloadTooLarge);

    std::istringstream empty("");
    CHECK(readLimitedBody(empty, 0).value().empty());
    std::istringstream one("a");
    CHECK_FALSE(readLimitedBody(one, 0).ok());
}

TEST_CASE("discardBody reports whether the whole body was drained", "[body_limit]") {
    std::istringstream small(std::string(100, 'x'));
    CHECK(discardBody(small, 100));
    std::istringstream large(std::string(101, 'x'));
    CHECK_FALSE(discardBody(large, 100));
    std::istringstream none("");
    CHECK(discardBody(none, 0));
}
