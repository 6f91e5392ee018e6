// Route handlers called directly (no HTTP) on a Runtime with the test driver, for the cases the
// HTTP integration test cannot set up: a site whose hypervisor is unreachable.
#include "route_fixture.hpp"

#include <rapidjson/document.h>

#include <catch2/catch.hpp>

using namespace paddock;
using namespace paddock::server;

namespace {

rapidjson::Document parse(const std::string& body) {
    rapidjson::Document doc;
    doc.Parse(body.c_str());
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
}

}  // namespace

TEST_CASE("healthz is ok while every site is reachable", "[system_routes]") {
    test::RouteFixture f;
    const auto response = f.call("GET", "/healthz");
    CHECK(response.status == 200);
    auto doc = parse(response.body);
    CHECK(std::string(doc["status"].GetString()) == "ok");
    CHECK(doc["sites"][0]["reachable"].GetBool());
}

TEST_CASE("an unreachable site makes healthz degraded (503) and shows in /api/v1/sites", "[system_routes]") {
    // Nothing listens on this port, so libvirt's remote driver is refused at once.
    const std::string uri = "qemu+tcp://127.0.0.1:" + std::to_string(test::freeLoopbackPort()) + "/system";
    test::RouteFixture f("  - name: remote\n    uri: " + uri + "\n    network_mode: none\n");

    const auto health = f.call("GET", "/healthz");
    CHECK(health.status == 503);
    auto doc = parse(health.body);
    CHECK(std::string(doc["status"].GetString()) == "degraded");
    REQUIRE(doc["sites"].Size() == 2);
    CHECK(doc["sites"][0]["reachable"].GetBool());
    CHECK_FALSE(doc["sites"][1]["reachable"].GetBool());

    const auto sites = f.call("GET", "/api/v1/sites");
    CHECK(sites.status == 200);
    auto s = parse(sites.body);
    REQUIRE(s["sites"].Size() == 2);
    CHECK(std::string(s["sites"][1]["name"].GetString()) == "remote");
    CHECK_FALSE(s["sites"][1]["reachable"].GetBool());
    CHECK(s["sites"][1]["operations"].Size() > 0);

    CHECK(f.call("GET", "/api/v1/vms", {{"site", "remote"}}).status == 503);
    CHECK(f.call("GET", "/api/v1/vms", {{"site", "local"}}).status == 200);
}
