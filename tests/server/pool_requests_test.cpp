#include "paddock/server/pool_requests.hpp"

#include "paddock/core/limits.hpp"

#include "result_checks.hpp"

#include <catch2/catch.hpp>

using namespace paddock;
using namespace paddock::server;

TEST_CASE("parseAllocateBody reads owner and ttl_s; an empty body asks for nothing", "[json][pool]") {
    auto empty = parseAllocateBody("");
    REQUIRE(empty.ok());
    CHECK_FALSE(empty->owner);
    CHECK_FALSE(empty->ttl_s);

    auto full = parseAllocateBody(R"({"owner":"alice","ttl_s":120})");
    REQUIRE(full.ok());
    CHECK(full->owner == "alice");
    CHECK(full->ttl_s == 120u);

    auto nulls = parseAllocateBody(R"({"owner":null,"ttl_s":null})");
    REQUIRE(nulls.ok());
    CHECK_FALSE(nulls->owner);
    CHECK_FALSE(nulls->ttl_s);
}

TEST_CASE("parseAllocateBody: unknown fields and wrong values are refused", "[json][pool]") {
    CHECK_THAT(failure(parseAllocateBody(R"({"owner":"bob","color":"red"})")).message, Catch::Contains("'color'"));
    CHECK_THAT(failure(parseAllocateBody(R"({"ttl_s":0})")).message, Catch::Contains("'ttl_s'"));
    CHECK_THAT(failure(parseAllocateBody(R"({"owner":7})")).message, Catch::Contains("'owner'"));
    CHECK(failure(parseAllocateBody("[]")).code == ErrorCode::InvalidArgument);
    const std::string tooLong = R"({"ttl_s":)" + std::to_string(limits::kMaxLeaseTtlSeconds + 1) + "}";
    CHECK(failure(parseAllocateBody(tooLong)).code == ErrorCode::InvalidArgument);
}

TEST_CASE("parseExtendBody requires ttl_s and nothing else", "[json][pool]") {
    auto ttl = parseExtendBody(R"({"ttl_s":100000})");
    REQUIRE(ttl.ok());
    CHECK(ttl.value() == 100000u);
    CHECK_THAT(failure(parseExtendBody("{}")).message, Catch::Contains("field 'ttl_s' is required"));
    CHECK_THAT(failure(parseExtendBody("")).message, Catch::Contains("empty"));
    CHECK_THAT(failure(parseExtendBody(R"({"ttl_s":5,"owner":"x"})")).message, Catch::Contains("'owner'"));
}
