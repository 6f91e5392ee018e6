#include "paddock/server/openapi.hpp"

#include "route_fixture.hpp"

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

using namespace paddock;
using namespace paddock::server;

namespace {

rapidjson::Document parsedDocument() {
    const auto text = openApiDocument();
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
}

void collectRefs(const rapidjson::Value& v, std::vector<std::string>& refs) {
    if (v.IsObject()) {
        for (const auto& m : v.GetObject()) {
            if (std::string(m.name.GetString()) == "$ref" && m.value.IsString())
                refs.emplace_back(m.value.GetString());
            else
                collectRefs(m.value, refs);
        }
    } else if (v.IsArray()) {
        for (const auto& item : v.GetArray()) collectRefs(item, refs);
    }
}

}  // namespace

TEST_CASE("the embedded OpenAPI document is OpenAPI 3.0.3 with resolvable references", "[openapi]") {
    auto doc = parsedDocument();
    CHECK(std::string(doc["openapi"].GetString()) == "3.0.3");
    CHECK(doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer");
    std::vector<std::string> refs;
    collectRefs(doc, refs);
    CHECK(refs.size() > 20);
    for (const auto& ref : refs) {
        INFO(ref);
        REQUIRE(ref.rfind("#/", 0) == 0);
        CHECK(rapidjson::Pointer(ref.substr(1).c_str()).Get(doc) != nullptr);
    }
    std::set<std::string> operationIds;
    for (const auto& path : doc["paths"].GetObject())
        for (const auto& op : path.value.GetObject()) {
            if (std::string(op.name.GetString()) == "parameters") continue;
            INFO(path.name.GetString() << " " << op.name.GetString());
            REQUIRE(op.value.HasMember("operationId"));
            CHECK(operationIds.insert(op.value["operationId"].GetString()).second);
            CHECK(op.value.HasMember("responses"));
        }
}

TEST_CASE("openapi.json documents exactly the routes paddockd serves", "[openapi]") {
    test::RouteFixture fixture;
    std::set<std::string> served;
    for (const auto& route : fixture.router.routes()) served.insert(route.method + " " + route.pattern);

    auto doc = parsedDocument();
    std::set<std::string> documented;
    for (const auto& path : doc["paths"].GetObject())
        for (const auto& op : path.value.GetObject()) {
            std::string method = op.name.GetString();
            if (method == "parameters") continue;
            std::transform(method.begin(), method.end(), method.begin(), ::toupper);
            documented.insert(method + " " + path.name.GetString());
        }
    CHECK(served == documented);

    // Routes the document marks public must be public in the default configuration.
    const ServerConfig defaults;
    std::vector<std::string> publicPaths = defaults.public_paths;
    for (const char* p : kAlwaysPublicPaths) publicPaths.emplace_back(p);
    for (const auto& path : doc["paths"].GetObject())
        for (const auto& op : path.value.GetObject()) {
            if (!op.value.IsObject() || !op.value.HasMember("security")) continue;
            INFO(path.name.GetString());
            CHECK(op.value["security"].Empty());
            std::string p = path.name.GetString();
            const bool isPublic = std::any_of(publicPaths.begin(), publicPaths.end(), [&](const std::string& pub) {
                return pub == p || (pub.ends_with("/*") && p.rfind(pub.substr(0, pub.size() - 1), 0) == 0);
            });
            CHECK(isPublic);
        }
}
