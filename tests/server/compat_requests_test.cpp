// The compatibility routes' body readers (pydantic's rules, FastAPI's 422 list) and the old
// tool's state words, without a daemon; compat_http_test.cpp drives them through paddockd.
#include "paddock/server/compat_requests.hpp"
#include "paddock/server/vm_views.hpp"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>

using namespace paddock;
using namespace paddock::server;

TEST_CASE("readCompatCreate applies the old model's defaults and pydantic's lax integers", "[compat][json]") {
    const auto plain = readCompatCreate(R"({"name":"Student_1"})");
    REQUIRE(plain.value);
    CHECK(plain.issues.empty());
    CHECK(plain.value->name == "Student_1");
    CHECK(plain.value->memory_mb == 512u);
    CHECK(plain.value->vcpus == 1u);
    CHECK_FALSE(plain.value->owner);
    CHECK(plain.value->start);
    CHECK(plain.value->legacy_name);

    const auto lax = readCompatCreate(R"({"name":"x","memory_mb":" 1024 ","vcpus":true,"owner":null,"extra":[1]})");
    REQUIRE(lax.value);
    CHECK(lax.value->memory_mb == 1024u);
    CHECK(lax.value->vcpus == 1u);
    CHECK(readCompatCreate(R"({"name":"x","memory_mb":2048.0})").value->memory_mb == 2048u);
    CHECK(readCompatCreate(R"({"name":"x","owner":"bob"})").value->owner == "bob");
}

TEST_CASE("readCompatCreate reports every problem in field order, never a value with them", "[compat][json][hostile]") {
    const auto bad = readCompatCreate(R"({"name":5,"memory_mb":"-3","vcpus":false,"owner":{}})");
    CHECK_FALSE(bad.value);
    REQUIRE(bad.issues.size() == 4);
    CHECK(bad.issues[0].type == "string_type");
    CHECK(bad.issues[1].type == "greater_than_equal");  // "-3" parses, then is too small
    CHECK(bad.issues[1].ctx == R"({"ge":256})");
    CHECK(bad.issues[2].type == "greater_than_equal");  // false is 0
    CHECK(bad.issues[3].type == "string_type");
    CHECK(std::get<std::string>(bad.issues[3].loc[1]) == "owner");

    const auto notJson = readCompatCreate(R"({"name": nope})");
    REQUIRE(notJson.issues.size() == 1);
    CHECK(notJson.issues[0].type == "json_invalid");
    CHECK(std::get<size_t>(notJson.issues[0].loc[1]) == 10);  // where the parser stopped
    CHECK(notJson.issues[0].input == "{}");
    CHECK(readCompatCreate(" \n").issues[0].type == "missing");
    CHECK(readCompatCreate(std::string(5000, '{')).issues[0].type == "json_invalid");
    CHECK(readCompatCreate(R"({"name":"\udc00"})").issues[0].type == "json_invalid");  // a lone surrogate
    CHECK(readCompatCreate(R"({"name":"x","vcpus":"1e3"})").issues[0].type == "int_parsing");
    CHECK(readCompatCreate(R"({"name":"x","vcpus":"99999999999999999999999"})").issues[0].type == "less_than_equal");
}

TEST_CASE("readCompatAllocate: an empty body is an empty request; ttl_s and owner are checked", "[compat][json]") {
    const auto empty = readCompatAllocate("");
    REQUIRE(empty.value);
    CHECK_FALSE(empty.value->owner);
    CHECK_FALSE(empty.value->ttl_s);
    const auto full = readCompatAllocate(R"({"owner":"alice","ttl_s":"120","x":1})");
    REQUIRE(full.value);
    CHECK(full.value->owner == "alice");
    CHECK(full.value->ttl_s == 120u);
    const auto bad = readCompatAllocate(R"({"ttl_s":31536001})");
    REQUIRE(bad.issues.size() == 1);
    CHECK(bad.issues[0].type == "less_than_equal");
    CHECK(readCompatAllocate("[]").issues[0].type == "model_attributes_type");
}

TEST_CASE("validationErrorResponse writes FastAPI's 422 body", "[compat][json]") {
    const auto read = readCompatCreate(R"({"memory_mb":1})");
    const Response response = validationErrorResponse(read.issues);
    CHECK(response.status == 422);
    CHECK(response.contentType == "application/json");
    rapidjson::Document doc;
    doc.Parse(response.body.c_str());
    REQUIRE(doc.IsObject());
    REQUIRE(doc["detail"].Size() == 2);
    const auto& missing = doc["detail"][0];
    CHECK(std::string(missing["type"].GetString()) == "missing");
    CHECK(std::string(missing["loc"][0].GetString()) == "body");
    CHECK(std::string(missing["loc"][1].GetString()) == "name");
    CHECK_FALSE(missing.HasMember("input"));
    const auto& small = doc["detail"][1];
    CHECK(small["input"].GetInt() == 1);
    CHECK(small["ctx"]["ge"].GetInt() == 256);
}

TEST_CASE("compatStateWord prints libvirt's states as the old tool did", "[compat]") {
    CHECK(compatStateWord(DomainState::NoState) == "no state");
    CHECK(compatStateWord(DomainState::Running) == "running");
    CHECK(compatStateWord(DomainState::Blocked) == "blocked");
    CHECK(compatStateWord(DomainState::Paused) == "paused");
    CHECK(compatStateWord(DomainState::Shutdown) == "shutting down");
    CHECK(compatStateWord(DomainState::Shutoff) == "shut off");
    CHECK(compatStateWord(DomainState::Crashed) == "crashed");
    CHECK(compatStateWord(DomainState::PmSuspended) == "pmsuspended");
}

TEST_CASE("null: an int_type issue for the old model's sizes, nothing for the allocate body's ttl_s",
          "[compat][json]") {
    CHECK(readCompatCreate(R"({"name":"x","vcpus":null})").issues.at(0).type == "int_type");
    const auto allocate = readCompatAllocate(R"({"owner":null,"ttl_s":null})");
    REQUIRE(allocate.value);
    CHECK_FALSE(allocate.value->ttl_s);
}
