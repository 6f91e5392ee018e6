#include "paddock/server/token_requests.hpp"

#include "result_checks.hpp"

#include <catch2/catch.hpp>

using namespace paddock;
using namespace paddock::server;

TEST_CASE("mint bodies: owner required, lifetime bounded, never an admin token", "[tokens]") {
    auto full = parseMintTokenBody(R"({"owner":"alice","name":"alice's browser","ttl_s":600,"role":"viewer"})");
    REQUIRE(full.ok());
    CHECK(full->owner == "alice");
    CHECK(full->name == "alice's browser");
    CHECK(full->ttl == std::chrono::seconds(600));
    CHECK(full->role == Role::Viewer);
    auto least = parseMintTokenBody(R"({"owner":"bob"})");
    REQUIRE(least.ok());
    CHECK(least->ttl == std::chrono::seconds(3600));
    CHECK(least->role == Role::Operator);
    CHECK(least->name.empty());

    for (const char* bad :
         {"", "{}", "[]", R"({"owner":""})", R"({"owner":null})", R"({"owner":"a","ttl_s":59})",
          R"({"owner":"a","ttl_s":604801})", R"({"owner":"a","ttl_s":-1})", R"({"owner":"a","role":"admin"})",
          R"({"owner":"a","role":"root"})", R"({"owner":"a","name":"x\ny"})", R"({"owner":"a","x":1})",
          R"({"owner":"a","owner":"b"})", "{\"owner\":\"a\\u0000b\"}"}) {
        INFO(bad);
        CHECK(failure(parseMintTokenBody(bad)).code == ErrorCode::InvalidArgument);
    }
    CHECK_THAT(failure(parseMintTokenBody(R"({"owner":"a","role":"admin"})")).message, Catch::Contains("role"));
}
