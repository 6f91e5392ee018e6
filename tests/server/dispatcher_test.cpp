// The Dispatcher's stages without sockets: an exchange as the HttpServer would hand it over.
#include "paddock/server/dispatcher.hpp"

#include "paddock/server/error_mapping.hpp"

#include <Poco/Logger.h>
#include <prometheus/registry.h>
#include <catch2/catch.hpp>

using namespace paddock;
using namespace paddock::server;
using Catch::Matchers::Contains;

namespace {

const std::string kAdmin = "dispatcher-admin-token-0123";
const std::string kViewer = "dispatcher-viewer-token-0123";

struct DispatcherFixture {
    DispatcherFixture() {
        router.add("GET", "/api/v1/things",
                   [](Request& r) -> Result<Response> { return jsonResponse(200, "\"" + r.identity.name + "\""); });
        router.add("POST", "/api/v1/things", [](Request& r) -> Result<Response> { return jsonResponse(201, r.body); });
        router.add("GET", "/api/v1/boom", [](Request&) -> Result<Response> { throw std::runtime_error("kaboom"); });
        router.add("GET", "/api/v1/down",
                   [](Request&) -> Result<Response> { return makeError(ErrorCode::Unavailable, "site down"); });
        router.addWebSocket(
            "/api/v1/vms/{name}/terminal",
            [](Request& r) -> Result<Response> { return jsonResponse(200, r.grant ? r.grant->site : "token"); },
            Role::Operator, true);
        AuthConfig config;
        config.tokens = {{"admin", kAdmin, Role::Admin, {}}, {"watcher", kViewer, Role::Viewer, {}}};
        auth.emplace(Authenticator::create(config, {"/healthz"}).value());
        Dispatcher::Options options;
        options.allowed_origins = {"https://lab.example.org"};
        options.redeem_ticket = [this](const std::string& ticket, const std::string& vm) -> Result<ConsoleGrant> {
            ++redeemed;
            if (ticket == "good" && vm == "vm-1") return ConsoleGrant{"east", vm, "teacher-app"};
            return makeError(ErrorCode::Unauthorized, "invalid console ticket");
        };
        dispatcher.emplace(router, *auth, metrics, Poco::Logger::get("test.dispatcher"), options);
    }

    HttpExchange exchange(const std::string& method, const std::string& target,
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
        HttpExchange x;
        x.head.method = method;
        x.head.target = target;
        x.head.version = "HTTP/1.1";
        x.head.headers = std::move(headers);
        x.peer = "127.0.0.1";
        return x;
    }
    static std::pair<std::string, std::string> bearer(const std::string& token) {
        return {"Authorization", "Bearer " + token};
    }

    Router router;
    std::optional<Authenticator> auth;
    prometheus::Registry registry;
    HttpMetrics metrics{registry};
    std::optional<Dispatcher> dispatcher;
    int redeemed = 0;
};

std::string codeOf(const Response& r) {
    const size_t at = r.body.find("\"code\":\"");
    return at == std::string::npos ? std::string() : r.body.substr(at + 8, r.body.find('"', at + 8) - at - 8);
}

}  // namespace

TEST_CASE("dispatcher: admit authenticates, routes and authorises before any body is read", "[dispatcher]") {
    DispatcherFixture f;
    auto noToken = f.exchange("GET", "/api/v1/things");
    CHECK_FALSE(f.dispatcher->admit(noToken));
    CHECK(noToken.response.status == 401);

    auto unknown = f.exchange("GET", "/nowhere", {f.bearer(kAdmin)});
    CHECK_FALSE(f.dispatcher->admit(unknown));
    CHECK(unknown.response.status == 404);

    auto unknownNoToken = f.exchange("GET", "/nowhere");  // no token: 401 first, routes stay private
    CHECK_FALSE(f.dispatcher->admit(unknownNoToken));
    CHECK(unknownNoToken.response.status == 401);

    auto wrongMethod = f.exchange("DELETE", "/api/v1/things", {f.bearer(kAdmin)});
    CHECK_FALSE(f.dispatcher->admit(wrongMethod));
    CHECK(wrongMethod.response.status == 405);

    auto viewerPost = f.exchange("POST", "/api/v1/things", {f.bearer(kViewer)});
    CHECK_FALSE(f.dispatcher->admit(viewerPost));
    CHECK(viewerPost.response.status == 403);

    auto ok = f.exchange("GET", "/api/v1/things?x=1", {f.bearer(kAdmin)});
    REQUIRE(f.dispatcher->admit(ok));
    f.dispatcher->invoke(ok);
    CHECK(ok.response.status == 200);
    CHECK(ok.response.body == "\"admin\"");
    CHECK(ok.routeLabel == "/api/v1/things");
    CHECK(ok.request.query.at("x") == "1");
}

TEST_CASE("dispatcher: bodies must be JSON (415 otherwise)", "[dispatcher][hostile]") {
    DispatcherFixture f;
    for (const std::string type :
         {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"}) {
        INFO(type);
        auto x =
            f.exchange("POST", "/api/v1/things", {f.bearer(kAdmin), {"Content-Type", type}, {"Content-Length", "2"}});
        x.head.content_length = 2;
        CHECK_FALSE(f.dispatcher->admit(x));
        CHECK(x.response.status == 415);
        CHECK(codeOf(x.response) == "unsupported_media_type");
    }
    for (const std::string type :
         {"application/json", "application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"}) {
        INFO(type);
        auto x = f.exchange("POST", "/api/v1/things", {f.bearer(kAdmin), {"Content-Type", type}});
        x.head.content_length = 2;
        CHECK(f.dispatcher->admit(x));
    }
    auto untyped = f.exchange("POST", "/api/v1/things", {f.bearer(kAdmin)});
    untyped.head.content_length = 2;
    CHECK(f.dispatcher->admit(untyped));  // FastAPI read untyped bodies as JSON; old clients rely on it
}

TEST_CASE("dispatcher: a console ticket is redeemed once, here, for the VM in the path", "[dispatcher]") {
    DispatcherFixture f;
    const std::vector<std::pair<std::string, std::string>> upgrade = {{"Upgrade", "websocket"}};
    auto good = f.exchange("GET", "/api/v1/vms/vm-1/terminal?ticket=good", upgrade);
    REQUIRE(f.dispatcher->admit(good));
    REQUIRE(good.request.grant.has_value());
    CHECK(good.request.identity.name == "teacher-app (console ticket)");
    f.dispatcher->invoke(good);
    CHECK(good.response.body == "east");

    auto otherVm = f.exchange("GET", "/api/v1/vms/vm-2/terminal?ticket=good", upgrade);
    CHECK_FALSE(f.dispatcher->admit(otherVm));
    CHECK(otherVm.response.status == 401);
    CHECK(f.redeemed == 2);

    auto viewer = f.exchange("GET", "/api/v1/vms/vm-1/terminal", {{"Upgrade", "websocket"}, f.bearer(kViewer)});
    CHECK_FALSE(f.dispatcher->admit(viewer));
    CHECK(viewer.response.status == 403);  // no ticket: the route's role applies

    auto foreign =
        f.exchange("GET", "/api/v1/vms/vm-1/terminal?ticket=good",
                   {{"Upgrade", "websocket"}, {"Origin", "https://evil.example"}, {"Host", "127.0.0.1:8000"}});
    CHECK_FALSE(f.dispatcher->admit(foreign));
    CHECK(foreign.response.status == 403);
    CHECK(f.redeemed == 2);  // refused before the ticket was spent

    auto plain = f.exchange("GET", "/api/v1/vms/vm-1/terminal", {f.bearer(kAdmin)});
    CHECK_FALSE(f.dispatcher->admit(plain));
    CHECK(plain.response.status == 400);
    CHECK_THAT(plain.response.body, Contains("send an upgrade request"));
}

TEST_CASE("dispatcher: exceptions and errors become answers; the record is safe to log", "[dispatcher][hostile]") {
    DispatcherFixture f;
    auto boom = f.exchange("GET", "/api/v1/boom", {f.bearer(kAdmin)});
    REQUIRE(f.dispatcher->admit(boom));
    f.dispatcher->invoke(boom);
    CHECK(boom.response.status == 500);
    CHECK_THAT(boom.response.body, Contains("kaboom"));
    CHECK_THAT(boom.logDetail, Contains("kaboom"));

    auto down = f.exchange("GET", "/api/v1/down", {f.bearer(kAdmin)});
    REQUIRE(f.dispatcher->admit(down));
    f.dispatcher->invoke(down);
    CHECK(down.response.status == 503);
    CHECK(codeOf(down.response) == "unavailable");

    auto odd = f.exchange("GET", "/api/v1/\xff\xfe/\x01x", {f.bearer(kAdmin)});
    CHECK_FALSE(f.dispatcher->admit(odd));
    CHECK(odd.response.status == 404);
    CHECK(odd.response.body.find('\xff') == std::string::npos);  // echoed as U+FFFD, valid JSON
    CHECK_THAT(odd.response.body, Contains("\xEF\xBF\xBD"));
    f.dispatcher->record(odd);
    CHECK_THAT(serializeMetrics(f.registry), Contains(R"(route="unmatched",status="404")"));
}
