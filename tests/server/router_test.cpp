#include "paddock/server/router.hpp"

#include <catch2/catch.hpp>

using namespace paddock;
using namespace paddock::server;

namespace {

Handler named(std::string name) {
    return [name](Request&) -> Result<Response> { return jsonResponse(200, name); };
}

std::string call(const RouteMatch& match) {
    REQUIRE(match.kind == RouteMatch::Kind::Found);
    Request request;
    return match.route->handler(request).value().body;
}

}  // namespace

TEST_CASE("router matches literal paths and extracts parameters", "[router]") {
    Router router;
    router.add("GET", "/", named("root"));
    router.add("GET", "/api/v1/vms", named("list"));
    router.add("GET", "/api/v1/vms/{name}", named("get"));
    router.add("POST", "/api/v1/vms/{name}/start", named("start"));

    CHECK(call(router.match("GET", "/")) == "root");
    CHECK(call(router.match("GET", "/api/v1/vms")) == "list");
    const auto get = router.match("GET", "/api/v1/vms/web-1");
    CHECK(call(get) == "get");
    CHECK(get.params.at("name") == "web-1");
    CHECK(get.route->pattern == "/api/v1/vms/{name}");
    const auto start = router.match("POST", "/api/v1/vms/db/start");
    CHECK(call(start) == "start");
    CHECK(start.params.at("name") == "db");
}

TEST_CASE("router ignores one trailing slash and rejects empty parameters", "[router]") {
    Router router;
    router.add("GET", "/api/v1/vms", named("list"));
    router.add("GET", "/api/v1/vms/{name}", named("get"));
    CHECK(call(router.match("GET", "/api/v1/vms/")) == "list");
    CHECK(router.match("GET", "/api/v1/vms//").kind == RouteMatch::Kind::NotFound);
    CHECK(router.match("GET", "/api/v1//vms").kind == RouteMatch::Kind::NotFound);
    CHECK(router.match("GET", "api/v1/vms").kind == RouteMatch::Kind::NotFound);
    CHECK(router.match("GET", "").kind == RouteMatch::Kind::NotFound);
}

TEST_CASE("router prefers literal segments over parameters whatever the registration order", "[router]") {
    Router router;
    router.add("GET", "/vms/{name}", named("param"));
    router.add("GET", "/vms/list", named("literal"));
    CHECK(call(router.match("GET", "/vms/list")) == "literal");
    CHECK(call(router.match("GET", "/vms/other")) == "param");
}

TEST_CASE("router answers NotFound for unknown paths and MethodNotAllowed with the allowed methods", "[router]") {
    Router router;
    router.add("POST", "/api/v1/vms", named("create"));
    router.add("GET", "/api/v1/vms", named("list"));
    router.add("DELETE", "/api/v1/vms/{name}", named("delete"));
    router.add("GET", "/api/v1/vms/{name}", named("get"));

    CHECK(router.match("GET", "/nope").kind == RouteMatch::Kind::NotFound);
    CHECK(router.match("GET", "/api/v1/vms/a/b").kind == RouteMatch::Kind::NotFound);

    const auto wrong = router.match("PUT", "/api/v1/vms");
    REQUIRE(wrong.kind == RouteMatch::Kind::MethodNotAllowed);
    CHECK(wrong.allowedMethods == std::vector<std::string>{"GET", "POST"});
    CHECK(joinMethods(wrong.allowedMethods) == "GET, POST");
    CHECK(wrong.route == nullptr);

    const auto wrongParam = router.match("POST", "/api/v1/vms/x");
    REQUIRE(wrongParam.kind == RouteMatch::Kind::MethodNotAllowed);
    CHECK(joinMethods(wrongParam.allowedMethods) == "DELETE, GET");
}

TEST_CASE("router gives GET routes the viewer role and others operator unless told", "[router]") {
    Router router;
    router.add("GET", "/a", named("a"));
    router.add("POST", "/a", named("a"));
    router.add("POST", "/b", named("b"), Role::Admin);
    CHECK(router.match("GET", "/a").route->minimumRole == Role::Viewer);
    CHECK(router.match("POST", "/a").route->minimumRole == Role::Operator);
    CHECK(router.match("POST", "/b").route->minimumRole == Role::Admin);
}

TEST_CASE("router refuses malformed and duplicate patterns", "[router]") {
    Router router;
    router.add("GET", "/a/{name}", named("a"));
    CHECK_THROWS_AS(router.add("GET", "/a/{name}", named("again")), std::invalid_argument);
    CHECK_THROWS_AS(router.add("GET", "a", named("x")), std::invalid_argument);
    CHECK_THROWS_AS(router.add("GET", "/a//b", named("x")), std::invalid_argument);
    CHECK_THROWS_AS(router.add("GET", "/a/{}", named("x")), std::invalid_argument);
    CHECK_THROWS_AS(router.add("GET", "/a/{open", named("x")), std::invalid_argument);
    CHECK_NOTHROW(router.add("POST", "/a/{name}", named("post")));
}
