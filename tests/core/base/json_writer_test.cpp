#include "paddock/core/json_writer.hpp"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>

using namespace paddock;

namespace {

std::string parsedString(const std::string& json, const char* member) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
    REQUIRE_FALSE(doc.HasParseError());
    REQUIRE(doc[member].IsString());
    return {doc[member].GetString(), doc[member].GetStringLength()};
}

}  // namespace

TEST_CASE("JsonWriter escapes every control character, wherever it stands in a long string", "[json]") {
    // 0x1A..0x1F inside a 16-byte run went out raw with RapidJSON 1.1.0's SSE2 scan (fuzzing).
    for (int c = 0; c < 0x20; ++c) {
        for (size_t at : {0u, 1u, 7u, 15u, 16u, 17u, 33u}) {
            std::string text(48, 'x');
            text[at] = static_cast<char>(c);
            INFO("byte " << c << " at " << at);
            JsonWriter json;
            json.beginObject().field("v", text).key(text).value(1).endObject();
            const std::string out = json.str();
            for (const char byte : out) CHECK(static_cast<unsigned char>(byte) >= 0x20);
            CHECK(parsedString(out, "v") == text);
            rapidjson::Document doc;
            doc.Parse(out.data(), out.size());
            REQUIRE_FALSE(doc.HasParseError());
            CHECK(doc.HasMember(rapidjson::Value(text.data(), static_cast<rapidjson::SizeType>(text.size()))));
        }
    }
}

TEST_CASE("JsonWriter keeps quotes, backslashes and UTF-8 exact, and repairs invalid UTF-8", "[json]") {
    const std::string text = "a\"b\\c \xc3\xbc \xf0\x9f\x98\x80 \xe2\x80\xa8 \x1f end of a long enough string";
    JsonWriter json;
    json.beginObject().field("v", text).endObject();
    CHECK(parsedString(json.str(), "v") == text);
    JsonWriter broken;
    broken.beginObject().field("v", std::string("ok \xff\x1e")).endObject();
    CHECK(parsedString(broken.str(), "v") == "ok \xef\xbf\xbd\x1e");
}
