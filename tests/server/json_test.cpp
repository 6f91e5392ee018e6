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
    CHECK(json.str() == R"({"s":"a\"b\\c\n","str":"x","neg":-1,"u64":18446744073709551615,"u32":7,"yes":true,"d":0.5,)"
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

TEST_CASE("parseJsonObject refuses escapes that stand for a lone surrogate", "[json][hostile]") {
    // Found by tests/fuzz (request_bodies): RapidJSON refuses a lone high surrogate but decodes
    // a lone low one into bytes that are not UTF-8, past kParseValidateEncodingFlag.
    for (const char* body : {R"({"owner":"J\u00fcrgd\ude00"})", R"({"\udc00":1})", R"({"a":[{"b":"\udfff"}]})",
                             R"({"owner":"\ud800"})", R"({"owner":"\ude00\ud800"})"}) {
        INFO(body);
        const auto parsed = parseJsonObject(body);
        REQUIRE_FALSE(parsed.ok());
        CHECK(failure(parsed).code == ErrorCode::InvalidArgument);
    }
    // A pair is one character.
    const auto pair = parseJsonObject(R"({"owner":"\ud83d\ude00"})");
    REQUIRE(pair.ok());
    CHECK(std::string(pair.value()["owner"].GetString()) == "\xF0\x9F\x98\x80");
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
        CHECK_THAT(failure(r).message,
                   Catch::Contains(std::string("'") + field + "'") && Catch::Contains("between 1 and 64"));
    }
    CHECK_FALSE(optionalUint(o, "num", 6, 64).ok());
    CHECK(optionalUint(o, "num", 5, 5).ok());

    CHECK(optionalBool(o, "flag").value() == std::optional<bool>(false));
    CHECK_FALSE(optionalBool(o, "absent").value().has_value());
    auto notBool = optionalBool(o, "num");
    REQUIRE_FALSE(notBool.ok());
    CHECK_THAT(failure(notBool).message, Catch::Contains("'num'"));
}

TEST_CASE("parseJsonObject refuses deep nesting without recursing into it", "[json][hostile]") {
    // 250,000 nested arrays crashed the recursive parser of wave 1.
    for (const size_t depth : {size_t{65}, size_t{100000}, size_t{250000}}) {
        INFO(depth);
        const std::string body = "{\"a\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
        const Error e = failure(parseJsonObject(body));
        CHECK(e.code == ErrorCode::InvalidArgument);
        CHECK_THAT(e.message, Catch::Contains("deeper than 64 levels"));
    }
    // Unclosed, or brackets hidden in strings: the count follows the JSON, not the characters.
    CHECK_THAT(failure(parseJsonObject(std::string(300000, '{'))).message, Catch::Contains("deeper than 64"));
    CHECK(parseJsonObject("{\"s\":\"" + std::string(1000, '[') + "\"}").ok());
    CHECK(parseJsonObject("{\"s\":\"\\\"[[[\"}").ok());
    std::string deep64 = "{\"a\":";
    for (int i = 0; i < 63; ++i) deep64 += "[";
    for (int i = 0; i < 63; ++i) deep64 += "]";
    CHECK(parseJsonObject(deep64 + "}").ok());  // exactly 64 levels with the outer object
}

TEST_CASE("parseJsonObject refuses duplicate keys at any depth", "[json][hostile]") {
    CHECK_THAT(failure(parseJsonObject(R"({"name":"a","name":"b"})")).message, Catch::Contains("duplicate key 'name'"));
    CHECK_THAT(failure(parseJsonObject(R"({"x":{"k":1,"k":2}})")).message, Catch::Contains("duplicate key 'k'"));
    CHECK_THAT(failure(parseJsonObject(R"({"x":[{"k":1},{"j":1,"j":2}]})")).message,
               Catch::Contains("duplicate key 'j'"));
    CHECK(parseJsonObject(R"({"x":[{"k":1},{"k":2}]})").ok());  // same key in different objects
}

TEST_CASE("JsonWriter always writes valid UTF-8", "[json][hostile]") {
    JsonWriter json;
    json.beginObject()
        .field("path", std::string("/vms/\xff\xfe-\xc3\xa9"))
        .key(std::string("k\xc0"))
        .value(1)
        .endObject();
    CHECK(json.str() == "{\"path\":\"/vms/\xEF\xBF\xBD\xEF\xBF\xBD-\xc3\xa9\",\"k\xEF\xBF\xBD\":1}");
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.str().c_str());
    CHECK_FALSE(doc.HasParseError());
}
