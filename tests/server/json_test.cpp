#include "paddock/server/json.hpp"

#include "result_checks.hpp"

#include <catch2/catch.hpp>

#include <limits>

using namespace paddock;
using namespace paddock::server;

TEST_CASE("JsonWriter writes every value type compactly and escapes strings", "[json]") {
    JsonWriter json;
    json.beginObject()
        .field("s", "a\"b\\c\n")
        .field("str", std::string("x"))
        .field("neg", -1)
        .field("u64", std::numeric_limits<uint64_t>::max())
        .field("u32", uint32_t{7})
        .field("yes", true)
        .field("d", 0.5);
    json.key("none").stringOrNull("");
    json.key("some").stringOrNull("o");
    json.key("list").beginArray().value(1).null().endArray();
    json.key("raw").raw(R"({"k":1})");
    json.endObject();
    CHECK(json.str() ==
          R"({"s":"a\"b\\c\n","str":"x","neg":-1,"u64":18446744073709551615,"u32":7,"yes":true,"d":0.5,)"
          R"("none":null,"some":"o","list":[1,null],"raw":{"k":1}})");
}

TEST_CASE("parseJsonObject turns bad bodies into InvalidArgument", "[json]") {
    CHECK(parseJsonObject(R"({"a":1})").ok());

    auto bad = parseJsonObject("{\"a\":");
    REQUIRE_FALSE(bad.ok());
    CHECK(failure(bad).code == ErrorCode::InvalidArgument);
    CHECK_THAT(failure(bad).message, Catch::Contains("not valid JSON"));

    auto array = parseJsonObject("[1,2]");
    REQUIRE_FALSE(array.ok());
    CHECK_THAT(failure(array).message, Catch::Contains("must be a JSON object"));

    auto empty = parseJsonObject("  \n");
    REQUIRE_FALSE(empty.ok());
    CHECK(failure(empty).code == ErrorCode::InvalidArgument);
    auto allowed = parseJsonObject("", true);
    REQUIRE(allowed.ok());
    CHECK(allowed.value().IsObject());
    CHECK(allowed.value().MemberCount() == 0);

    auto badUtf8 = parseJsonObject("{\"a\":\"\xff\xfe\"}");
    REQUIRE_FALSE(badUtf8.ok());
    CHECK(failure(badUtf8).code == ErrorCode::InvalidArgument);
}

TEST_CASE("rejectUnknownFields names every unknown field", "[json]") {
    auto doc = parseJsonObject(R"({"name":"a","colour":"red","size":3})");
    REQUIRE(doc.ok());
    auto status = rejectUnknownFields(doc.value(), {"name"});
    REQUIRE_FALSE(status.ok());
    CHECK(failure(status).code == ErrorCode::InvalidArgument);
    CHECK_THAT(failure(status).message, Catch::Contains("'colour'") && Catch::Contains("'size'"));
    CHECK_THAT(failure(status).message, !Catch::Contains("'name'"));
    CHECK(rejectUnknownFields(doc.value(), {"name", "colour", "size"}).ok());
}

TEST_CASE("typed field readers check types and ranges and name the field", "[json]") {
    auto doc = parseJsonObject(
        R"({"name":"vm","num":5,"big":99999,"neg":-1,"frac":2.5,"whole":2.0,"text":"7","nul":null,"flag":false})");
    REQUIRE(doc.ok());
    const auto& o = doc.value();

    CHECK(requireString(o, "name").value() == "vm");
    auto missing = requireString(o, "absent");
    REQUIRE_FALSE(missing.ok());
    CHECK_THAT(failure(missing).message, Catch::Contains("'absent'") && Catch::Contains("required"));
    CHECK_FALSE(requireString(o, "nul").ok());
    auto notString = requireString(o, "num");
    REQUIRE_FALSE(notString.ok());
    CHECK_THAT(failure(notString).message, Catch::Contains("'num'") && Catch::Contains("string"));

    CHECK(optionalString(o, "name").value() == std::optional<std::string>("vm"));
    CHECK_FALSE(optionalString(o, "absent").value().has_value());
    CHECK_FALSE(optionalString(o, "nul").value().has_value());
    CHECK_FALSE(optionalString(o, "num").ok());

    CHECK(optionalUint(o, "num", 1, 64).value() == std::optional<uint64_t>(5));
    CHECK(optionalUint(o, "whole", 1, 64).value() == std::optional<uint64_t>(2));
    CHECK_FALSE(optionalUint(o, "absent", 1, 64).value().has_value());
    CHECK_FALSE(optionalUint(o, "nul", 1, 64).value().has_value());
    for (const char* field : {"big", "neg", "frac", "text", "flag"}) {
        auto r = optionalUint(o, field, 1, 64);
        REQUIRE_FALSE(r.ok());
        CHECK(failure(r).code == ErrorCode::InvalidArgument);
        CHECK_THAT(failure(r).message, Catch::Contains(std::string("'") + field + "'") && Catch::Contains("between 1 and 64"));
    }
    CHECK_FALSE(optionalUint(o, "num", 6, 64).ok());
    CHECK(optionalUint(o, "num", 5, 5).ok());

    CHECK(optionalBool(o, "flag").value() == std::optional<bool>(false));
    CHECK_FALSE(optionalBool(o, "absent").value().has_value());
    auto notBool = optionalBool(o, "num");
    REQUIRE_FALSE(notBool.ok());
    CHECK_THAT(failure(notBool).message, Catch::Contains("'num'"));
}
