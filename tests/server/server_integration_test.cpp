// Starts the real paddockd (test:///default backend through the real plugin) and drives it over
// HTTP. Every paddockd process starts with the test driver's default domain "test", running.
#include "paddockd_fixture.hpp"
#include "websocket_frames.hpp"

#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/WebSocket.h>
#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

using namespace paddock::test;

namespace {

using Reply = HttpReply;
using RequestOptions = HttpOptions;

Reply send(uint16_t port, const std::string& method, const std::string& path, RequestOptions options = {}) {
    options.timeout_s = 60;
    return httpRequest(port, method, path, options);
}

const rapidjson::Value* findByName(const rapidjson::Value& array, const std::string& name) {
    for (const auto& item : array.GetArray())
        if (item.HasMember("name") && item["name"].IsString() && name == item["name"].GetString()) return &item;
    return nullptr;
}

// The config of every paddockd here: one test:///default site, 8 workers, 4 KiB bodies, and a
// generated admin token unless a test configures tokens.
DaemonOptions serverOptions() {
    DaemonOptions options;
    options.max_body_bytes = 4096;
    options.threads = 8;
    SiteOptions& site = options.sites.front();
    site.backend = "org.paddock.libvirt-qemu";
    site.storage_pool = "default-pool";
    site.stop_timeout_s = 5;
    options.adopt = {"test"};  // the test driver's own running domain, used as a ready-made VM
    return options;
}

}  // namespace

TEST_CASE("paddockd --check-config accepts a good config and names the key of a bad one", "[server][integration]") {
    TempDir dir;
    // The check loads the plugins the config names, as a start does: they come from this build.
    const std::string good = "server:\n  port: 8123\nauth:\n  mode: none\npaths:\n  plugin_dirs: [" + pluginDir() +
                             "]\nsites:\n  - name: local\n    uri: test:///default\n";
    writeFile(dir.file("good.yaml"), good);
    std::string output;
    CHECK(runToCompletion({paddockdPath(), "--check-config", "--config", dir.file("good.yaml")}, output,
                          dir.file("out")) == 0);
    CHECK_THAT(output, Catch::Contains("config OK"));
    CHECK_THAT(output, Catch::Contains("org.paddock.libvirt-qemu") && Catch::Contains("(backend)") &&
                           Catch::Contains("org.paddock.asciinema") && Catch::Contains("(recorder)"));

    // A plugin the config names but no plugin directory holds is an error the check reports.
    writeFile(dir.file("nobackend.yaml"), good + "    backend: org.example.absent\n");
    CHECK(runToCompletion({paddockdPath(), "--check-config", "--config", dir.file("nobackend.yaml")}, output,
                          dir.file("out")) == 2);
    CHECK_THAT(output, Catch::Contains("sites[0].backend") && Catch::Contains("org.example.absent"));
    writeFile(dir.file("nodir.yaml"), "paths:\n  plugin_dirs: [" + dir.file("absent") +
                                          "]\nsites:\n  - name: local\n    uri: test:///default\n");
    CHECK(runToCompletion({paddockdPath(), "--check-config", "--config", dir.file("nodir.yaml")}, output,
                          dir.file("out")) == 2);
    CHECK_THAT(output, Catch::Contains("paths.plugin_dirs") && Catch::Contains(dir.file("absent")));

    writeFile(dir.file("bad.yaml"), "server:\n  port: 70000\nsites:\n  - name: local\n    uri: test:///default\n");
    CHECK(runToCompletion({paddockdPath(), "--config", dir.file("bad.yaml"), "--check-config"}, output,
                          dir.file("out")) == 2);
    CHECK_THAT(output, Catch::Contains("server.port"));

    writeFile(dir.file("typo.yaml"), "server:\n  prot: 8000\nsites:\n  - name: local\n    uri: test:///default\n");
    CHECK(runToCompletion({paddockdPath(), "--check-config", "--config=" + dir.file("typo.yaml")}, output,
                          dir.file("out")) == 2);
    CHECK_THAT(output, Catch::Contains("server.prot"));

    CHECK(runToCompletion({paddockdPath(), "--check-config", "--config", dir.file("missing.yaml")}, output,
                          dir.file("out")) == 2);
    CHECK_THAT(output, Catch::Contains("missing.yaml"));

    CHECK(runToCompletion({paddockdPath(), "--help"}, output, dir.file("out")) == 0);
    CHECK_THAT(output, Catch::Contains("--check-config") && Catch::Contains("--config"));
}

TEST_CASE("without configured tokens an admin token is generated, kept private and required", "[server][integration]") {
    PaddockdFixture server(serverOptions());
    const std::string token = server.token();
    REQUIRE(token.size() == 64);
    struct stat st {};
    REQUIRE(::stat(server.tokenPath().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    const auto missing = send(server.port(), "GET", "/api/v1/vms");
    CHECK(missing.status == 401);
    CHECK_THAT(missing.header("WWW-Authenticate"), Catch::StartsWith("Bearer"));
    CHECK(missing.errorCode() == "unauthorized");
    RequestOptions wrong;
    wrong.token = std::string(64, 'a');
    CHECK(send(server.port(), "GET", "/api/v1/vms", wrong).status == 401);
    CHECK(send(server.port(), "GET", "/vms/list").status == 401);  // compat routes too
    CHECK(server.get("/api/v1/vms").status == 200);

    // Public: health, metrics, docs and what they load.
    CHECK(send(server.port(), "GET", "/healthz").status == 200);
    CHECK(send(server.port(), "GET", "/metrics").status == 200);
    CHECK(send(server.port(), "GET", "/openapi.json").status == 200);
    CHECK(send(server.port(), "GET", "/docs").status == 200);

    CHECK(server.stop() == 0);
    const std::string log = server.log();
    CHECK_THAT(log, Catch::Contains("admin.token"));
    CHECK_THAT(log, !Catch::Contains(token));
    CHECK_THAT(log, Catch::Contains("/docs"));

    // A new process on the same state directory keeps the token.
    server.start();
    CHECK(server.token() == token);
    CHECK(server.get("/api/v1/vms").status == 200);
}

TEST_CASE("configured tokens carry roles: viewers may only GET", "[server][integration]") {
    auto options = serverOptions();
    options.tokens = {{"viewer-bot", "viewer-token-0123456789", "viewer"},
                      {"ops-bot", "operator-token-0123456789", "operator"}};
    options.adopt.clear();  // needs an admin
    PaddockdFixture server(options);
    CHECK_FALSE(std::filesystem::exists(server.tokenPath()));
    RequestOptions viewer;
    viewer.token = "viewer-token-0123456789";
    CHECK(send(server.port(), "GET", "/api/v1/vms", viewer).status == 200);
    viewer.body = R"({"name":"by-viewer","start":false})";
    const auto forbidden = send(server.port(), "POST", "/api/v1/vms", viewer);
    CHECK(forbidden.status == 403);
    CHECK(forbidden.errorCode() == "forbidden");

    RequestOptions op;
    op.token = "operator-token-0123456789";
    op.body = R"({"name":"by-operator","start":false})";
    CHECK(send(server.port(), "POST", "/api/v1/vms", op).status == 201);
    // Operators act on VMs; what runs where, foreign domains and adoption are an admin's.
    op.body.reset();
    for (const char* adminOnly :
         {"/api/v1/sites", "/api/v1/plugins", "/api/v1/vms?all=true", "/api/v1/vms/test?all=true"}) {
        INFO(adminOnly);
        CHECK(send(server.port(), "GET", adminOnly, op).status == 403);
    }
    op.body = "{}";
    CHECK(send(server.port(), "POST", "/api/v1/vms/test/adopt", op).status == 403);
    CHECK(send(server.port(), "GET", "/api/v1/vms/test", op).status == 404);  // foreign: not shown
    CHECK(server.stop() == 0);
    const std::string audit = readFile(server.logDir() + "/audit.log");
    CHECK_THAT(audit, Catch::Contains("ops-bot") && Catch::Contains("by-operator"));
}

TEST_CASE("foreign domains are not acted on, listed only to admins who ask, until adopted",
          "[server][integration][foreign]") {
    auto options = serverOptions();
    options.adopt.clear();  // "test", the driver's own running domain, stays foreign here
    PaddockdFixture server(options);
    const auto names = [&](const std::string& path) {
        std::set<std::string> out;
        const auto doc = server.getJson(path);
        for (const auto& vm : doc["vms"].GetArray())
            out.insert(std::string(vm["name"].GetString()) + (vm["managed"].GetBool() ? "" : "(foreign)"));
        return out;
    };
    CHECK(names("/api/v1/vms").count("test(foreign)") == 0);
    CHECK(names("/api/v1/vms").count("test") == 0);
    CHECK(names("/api/v1/vms?all=true").count("test(foreign)") == 1);
    CHECK(server.get("/api/v1/vms/test").status == 404);
    CHECK_FALSE(server.getJson("/api/v1/vms/test?all=true")["vm"]["managed"].GetBool());
    // What an operator did to a foreign domain in wave 1: now nothing happens to it.
    CHECK(server.post("/api/v1/vms/test/stop?force=true").status == 404);
    CHECK(server.post("/api/v1/vms/test/restart").status == 404);
    CHECK(server.del("/api/v1/vms/test").status == 404);
    CHECK(server.post("/vms/stop/test").status == 404);
    CHECK(server.call("DELETE", "/vms/delete/test").status == 404);
    CHECK(server.post("/api/v1/vms/test/console").status == 404);
    CHECK(server.upgradeStatus("/api/v1/vms/test/status", server.token()) == 404);
    CHECK(server.getJson("/api/v1/vms/test?all=true")["vm"]["state"] == "running");  // untouched

    const auto adopted = server.post("/api/v1/vms/test/adopt", R"({"owner":"museum"})");
    REQUIRE(adopted.status == 200);
    CHECK(adopted.json()["vm"]["managed"].GetBool());
    CHECK(std::string(adopted.json()["vm"]["owner"].GetString()) == "museum");
    CHECK(server.post("/api/v1/vms/test/adopt").status == 409);
    CHECK(server.post("/api/v1/vms/no-such/adopt").status == 404);
    CHECK(server.post("/api/v1/vms/test/adopt", R"({"owner":7})").status == 400);
    CHECK(names("/api/v1/vms").count("test") == 1);
    CHECK(server.post("/vms/stop/test").status == 200);  // the compatibility routes act on it now
    CHECK_THAT(readFile(server.logDir() + "/audit.log"), Catch::Contains("\"action\":\"adopt\""));
}

TEST_CASE("auth mode none needs no token", "[server][integration]") {
    auto options = serverOptions();
    options.auth_mode = "none";
    PaddockdFixture server(options);
    CHECK(server.token().empty());
    CHECK(send(server.port(), "GET", "/api/v1/vms").status == 200);
    RequestOptions create;
    create.body = R"({"name":"anon-vm","start":false})";
    CHECK(send(server.port(), "POST", "/api/v1/vms", create).status == 201);
    CHECK(send(server.port(), "GET", "/vms/list").status == 200);
}

TEST_CASE("system routes: healthz, plugins, sites", "[server][integration]") {
    PaddockdFixture server(serverOptions());
    const auto health = send(server.port(), "GET", "/healthz");
    REQUIRE(health.status == 200);
    CHECK(health.content_type == "application/json");
    auto h = health.json();
    CHECK(jsonString(h["status"]) == "ok");
    REQUIRE(h["sites"].Size() == 1);
    CHECK(jsonString(h["sites"][0]["name"]) == "local");
    CHECK(h["sites"][0]["reachable"].GetBool());

    const auto plugins = server.get("/api/v1/plugins");
    REQUIRE(plugins.status == 200);
    auto p = plugins.json();
    const auto* qemu = [&]() -> const rapidjson::Value* {
        for (const auto& item : p["plugins"].GetArray())
            if (jsonString(item["id"]) == "org.paddock.libvirt-qemu") return &item;
        return nullptr;
    }();
    REQUIRE(qemu != nullptr);
    CHECK(jsonString((*qemu)["kind"]) == "backend");
    CHECK((*qemu)["operations"].IsArray());
    CHECK((*qemu)["operations"].Size() > 0);
    CHECK(p["failures"].IsArray());

    const auto sites = server.get("/api/v1/sites");
    REQUIRE(sites.status == 200);
    auto s = sites.json();
    REQUIRE(s["sites"].Size() == 1);
    const auto& site = s["sites"][0];
    CHECK(jsonString(site["name"]) == "local");
    CHECK(jsonString(site["backend"]) == "org.paddock.libvirt-qemu");
    CHECK(jsonString(site["uri"]) == "test:///default");
    CHECK(site["reachable"].GetBool());
    CHECK(site["host"].IsObject());
    CHECK(site["operations"].Size() > 0);
}

TEST_CASE("errors have the documented status codes and JSON shape", "[server][integration]") {
    PaddockdFixture server(serverOptions());  // max_body_bytes 4096

    const auto badJson = server.post("/api/v1/vms", "{\"name\": ");
    CHECK(badJson.status == 400);
    CHECK(badJson.errorCode() == "invalid_argument");

    const auto badName = server.post("/api/v1/vms", R"({"name":"Bad_Name","start":false})");
    CHECK(badName.status == 400);
    CHECK(badName.errorCode() == "invalid_argument");

    const auto unknownField = server.post("/api/v1/vms", R"({"name":"ok-name","colour":"red"})");
    CHECK(unknownField.status == 400);
    CHECK_THAT(unknownField.body, Catch::Contains("colour"));

    for (const char* body :
         {R"({"name":"x1","vcpus":0})", R"({"name":"x1","vcpus":65})", R"({"name":"x1","vcpus":"2"})",
          R"({"name":"x1","memory_mb":63})", R"({"name":"x1","memory_mb":262145})", R"({"name":"x1","start":"yes"})",
          R"({"name":7})", R"({})", R"([1])"}) {
        INFO(body);
        const auto r = server.post("/api/v1/vms", body);
        CHECK(r.status == 400);
        CHECK(r.errorCode() == "invalid_argument");
    }
    CHECK(server.get("/api/v1/vms/x1").status == 404);  // none of those created anything

    const auto tooLarge = server.post("/api/v1/vms", std::string(8192, ' '));
    CHECK(tooLarge.status == 413);
    CHECK(tooLarge.errorCode() == "payload_too_large");
    RequestOptions chunked;
    chunked.token = server.token();
    chunked.chunked = true;
    chunked.body = "{\"name\":\"" + std::string(8000, 'a') + "\"}";
    const auto tooLargeChunked = send(server.port(), "POST", "/api/v1/vms", chunked);
    CHECK(tooLargeChunked.status == 413);
    chunked.body = R"({"name":"chunked-ok","start":false})";
    CHECK(send(server.port(), "POST", "/api/v1/vms", chunked).status == 201);

    const auto unknownVm = server.get("/api/v1/vms/no-such-vm");
    CHECK(unknownVm.status == 404);
    CHECK(unknownVm.errorCode() == "not_found");
    CHECK(server.post("/api/v1/vms/no-such-vm/start").status == 404);

    const auto unknownRoute = server.get("/api/v1/nothing-here");
    CHECK(unknownRoute.status == 404);
    CHECK(unknownRoute.errorCode() == "not_found");

    const auto wrongMethod = server.call("PUT", "/api/v1/vms");
    CHECK(wrongMethod.status == 405);
    CHECK(wrongMethod.header("Allow") == "GET, POST");
    CHECK(wrongMethod.errorCode() == "method_not_allowed");

    const auto running = server.post("/api/v1/vms/test/start");  // the driver's default domain runs
    CHECK(running.status == 409);
    CHECK(running.errorCode() == "conflict");

    REQUIRE(server.post("/api/v1/vms", R"({"name":"dup","start":false})").status == 201);
    const auto duplicate = server.post("/api/v1/vms", R"({"name":"dup","start":false})");
    CHECK(duplicate.status == 409);
    CHECK(duplicate.errorCode() == "already_exists");

    CHECK(server.get("/healthz").status == 200);  // still serving after all that
}

TEST_CASE("a POST without Content-Length has an empty body and does not hang", "[server][integration]") {
    auto options = serverOptions();
    options.auth_mode = "none";
    PaddockdFixture server(options);
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", server.port()));
    socket.setReceiveTimeout(Poco::Timespan(10, 0));
    const std::string request = "POST /vms/stop/test HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    socket.sendBytes(request.data(), static_cast<int>(request.size()));
    std::string answer;
    char buffer[4096];
    int n = 0;
    while ((n = socket.receiveBytes(buffer, sizeof buffer)) > 0) answer.append(buffer, n);
    CHECK_THAT(answer, Catch::StartsWith("HTTP/1.1 200"));
    CHECK_THAT(answer, Catch::Contains(R"("status":"stopped")"));
}

TEST_CASE("native VM lifecycle", "[server][integration]") {
    PaddockdFixture server(serverOptions());

    const auto created =
        server.post("/api/v1/vms", R"({"name":"life-1","start":false,"owner":"alice","vcpus":2,"memory_mb":256})");
    REQUIRE(created.status == 201);
    CHECK(created.header("Location") == "/api/v1/vms/life-1");
    {
        auto doc = created.json();
        const auto& vm = doc["vm"];
        CHECK(jsonString(vm["name"]) == "life-1");
        CHECK(jsonString(vm["uuid"]).size() == 36);
        CHECK(jsonString(vm["site"]) == "local");
        CHECK(jsonString(vm["state"]) == "shut off");
        CHECK(vm["state_code"].GetInt() == 5);
        CHECK(vm["id"].GetInt() == -1);
        CHECK(vm["vcpus"].GetInt() == 2);
        CHECK(vm["memory_mb"].GetInt() == 256);
        CHECK(vm["max_memory_kib"].GetUint64() == 256 * 1024);
        CHECK(vm["memory_kib"].IsUint64());
        CHECK(vm["cpu_time_ns"].IsUint64());
        CHECK(jsonString(vm["owner"]) == "alice");
        CHECK(vm["template"].IsNull());
        CHECK(vm["image"].IsString());
        CHECK(vm["disk"].IsString());
        CHECK(vm["has_managed_save"].IsBool());
    }

    const auto got = server.get("/api/v1/vms/life-1");
    REQUIRE(got.status == 200);
    CHECK(jsonString(got.json()["vm"]["state"]) == "shut off");
    CHECK(server.get("/api/v1/vms/life-1?site=local").status == 200);
    CHECK(server.get("/api/v1/vms/life-1?site=nowhere").status == 404);

    const auto list = server.get("/api/v1/vms");
    REQUIRE(list.status == 200);
    {
        auto doc = list.json();
        CHECK(findByName(doc["vms"], "life-1") != nullptr);
        const auto* test = findByName(doc["vms"], "test");
        REQUIRE(test != nullptr);
        CHECK(jsonString((*test)["state"]) == "running");
        CHECK((*test)["owner"].IsNull());
    }
    CHECK(server.get("/api/v1/vms?site=local").status == 200);
    CHECK(server.get("/api/v1/vms?site=nowhere").status == 404);

    const auto started = server.post("/api/v1/vms/life-1/start");
    REQUIRE(started.status == 200);
    CHECK(jsonString(started.json()["vm"]["state"]) == "running");
    CHECK(started.json()["vm"]["id"].GetInt() > 0);
    CHECK(server.post("/api/v1/vms/life-1/start").status == 409);

    const auto stopped = server.post("/api/v1/vms/life-1/stop");
    REQUIRE(stopped.status == 200);
    {
        auto doc = stopped.json();
        CHECK(jsonString(doc["outcome"]) == "graceful");  // the test driver powers off on the ACPI request at once
        CHECK(jsonString(doc["vm"]["state"]) == "shut off");
    }
    const auto again = server.post("/api/v1/vms/life-1/stop");
    REQUIRE(again.status == 200);
    CHECK(jsonString(again.json()["outcome"]) == "already_stopped");

    REQUIRE(server.post("/api/v1/vms/life-1/start").status == 200);
    const auto restarted = server.post("/api/v1/vms/life-1/restart");
    REQUIRE(restarted.status == 200);
    CHECK(jsonString(restarted.json()["vm"]["state"]) == "running");

    const auto forced = server.post("/api/v1/vms/life-1/stop?force=true");
    REQUIRE(forced.status == 200);
    CHECK(jsonString(forced.json()["outcome"]) == "forced");
    CHECK(jsonString(forced.json()["vm"]["state"]) == "shut off");
    CHECK(server.post("/api/v1/vms/life-1/stop?force=maybe").status == 400);

    const auto deleted = server.del("/api/v1/vms/life-1");
    REQUIRE(deleted.status == 200);
    CHECK(jsonString(deleted.json()["status"]) == "deleted");
    CHECK(jsonString(deleted.json()["name"]) == "life-1");
    CHECK(server.get("/api/v1/vms/life-1").status == 404);
    CHECK(server.del("/api/v1/vms/life-1").status == 404);

    // start defaults to true.
    const auto running = server.post("/api/v1/vms", R"({"name":"life-2"})");
    REQUIRE(running.status == 201);
    CHECK(jsonString(running.json()["vm"]["state"]) == "running");
    CHECK(running.json()["vm"]["owner"].IsNull());
    CHECK(server.del("/api/v1/vms/life-2").status == 200);  // deleting a running VM forces it off
}

TEST_CASE("Prefer: respond-async answers a create once defined; its operation tells the start",
          "[server][integration][async_create]") {
    PaddockdFixture server(serverOptions());
    const auto preferring = [&](const std::string& prefer, const std::string& body) {
        return server.call("POST", "/api/v1/vms", body, std::nullopt, {{"Prefer", prefer}});
    };
    const auto finished = [&](const std::string& location) {
        for (int i = 0; i < 2000; ++i) {  // test:/// starts in milliseconds; the bound only stops a hang
            auto op = server.get(location);
            REQUIRE(op.status == 200);
            if (jsonString(op.json()["state"]) != "queued" && jsonString(op.json()["state"]) != "running")
                return op;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        FAIL("operation " << location << " did not end");
        return HttpReply{};
    };

    const auto accepted = preferring("respond-async", R"({"name":"async-1","owner":"alice"})");
    REQUIRE(accepted.status == 202);
    CHECK(accepted.header("Preference-Applied") == "respond-async");
    const std::string location = accepted.header("Location");
    REQUIRE(location.rfind("/api/v1/operations/", 0) == 0);
    {
        auto doc = accepted.json();
        CHECK(jsonString(doc["vm"]["name"]) == "async-1");
        CHECK(jsonString(doc["vm"]["state"]) == "shut off");
        CHECK(jsonString(doc["vm"]["readiness"]) == "booting");
        CHECK(jsonString(doc["vm"]["owner"]) == "alice");
        CHECK(jsonString(doc["placement"]["site"]) == "local");
        CHECK(jsonString(doc["operation"]["kind"]) == "vm_create");
        CHECK(jsonString(doc["operation"]["vm"]) == "async-1");
        CHECK("/api/v1/operations/" + jsonString(doc["operation"]["id"]) == location);
    }
    const auto done = finished(location);
    {
        INFO(done.body);
        auto doc = done.json();
        CHECK(jsonString(doc["state"]) == "succeeded");
        CHECK(jsonString(doc["vm"]) == "async-1");
        CHECK(jsonString(doc["created_vm"]["name"]) == "async-1");
        CHECK(jsonString(doc["created_vm"]["state"]) == "running");
    }
    CHECK(jsonString(server.get("/api/v1/vms/async-1").json()["vm"]["state"]) == "running");
    CHECK(server.get("/api/v1/operations?kind=vm_create&vm=async-1").status == 200);

    // Tokens are case-insensitive; values, parameters and other preferences do not matter.
    const auto mixed = preferring("handling=lenient, RESPOND-ASYNC; foo=bar, wait=10", R"({"name":"async-2"})");
    REQUIRE(mixed.status == 202);
    CHECK(jsonString(finished(mixed.header("Location")).json()["state"]) == "succeeded");

    // Hostile or near-miss values are no preference: the create answers when done, as always.
    for (const std::string& junk : std::vector<std::string>{"respond-asyncx", "respond", ",,;;==,", "\"respond-async\"",
                                                            std::string(3000, ','), std::string(3000, 'a') + ",respond-syn"}) {
        const std::string name = "sync-" + std::to_string(junk.size());
        const auto plain = preferring(junk, R"({"name":")" + name + R"("})");
        REQUIRE(plain.status == 201);
        CHECK(plain.header("Preference-Applied").empty());
        CHECK(jsonString(plain.json()["vm"]["state"]) == "running");
        CHECK(server.del("/api/v1/vms/" + name).status == 200);
    }
    // Nothing to start: nothing to defer.
    const auto stopped = preferring("respond-async", R"({"name":"async-off","start":false})");
    REQUIRE(stopped.status == 201);
    CHECK(stopped.header("Preference-Applied").empty());
    // Refused input is refused at once, with no operation recorded for it.
    const size_t before = server.get("/api/v1/operations?kind=vm_create").json()["operations"].Size();
    CHECK(preferring("respond-async", R"({"name":"async-1"})").status == 409);
    CHECK(preferring("respond-async", R"({"name":"bad name"})").status == 400);
    CHECK(preferring("respond-async", R"({"name":"async-3","vcpus":"two"})").status == 400);
    CHECK(preferring("respond-async", std::string(200, '[')).status == 400);
    CHECK(preferring("respond-async", R"({"name":"async-3","template":"nope"})").status >= 400);
    CHECK(server.get("/api/v1/operations?kind=vm_create").json()["operations"].Size() == before);
    CHECK(server.get("/api/v1/vms/async-3").status == 404);
    CHECK(server.call("POST", "/api/v1/vms", R"({"name":"async-4"})", std::string("not-a-token"),
                      {{"Prefer", "respond-async"}})
              .status == 401);
    CHECK(server.get("/api/v1/vms/async-4").status == 404);
    for (const char* vm : {"async-1", "async-2", "async-off"}) CHECK(server.del(std::string("/api/v1/vms/") + vm).status == 200);
}

TEST_CASE("/metrics passes promtool and has the http and vm families", "[server][integration][metrics]") {
    PaddockdFixture server(serverOptions());
    REQUIRE(server.post("/api/v1/vms", R"({"name":"metered","start":false})").status == 201);
    REQUIRE(server.get("/api/v1/vms/metered").status == 200);
    REQUIRE(server.get("/api/v1/vms/no-such").status == 404);

    const auto metrics = send(server.port(), "GET", "/metrics");
    REQUIRE(metrics.status == 200);
    CHECK_THAT(metrics.content_type, Catch::StartsWith("text/plain; version=0.0.4"));
    CHECK_THAT(metrics.body, Catch::Contains("paddock_http_requests_total{"));
    CHECK_THAT(metrics.body, Catch::Contains("paddock_http_request_duration_seconds_bucket{"));
    CHECK_THAT(metrics.body, Catch::Contains(R"(route="/api/v1/vms/{name}")"));
    CHECK_THAT(metrics.body, !Catch::Contains(R"(route="/api/v1/vms/metered")"));
    CHECK_THAT(metrics.body, Catch::Contains("paddock_vm_operations_total"));

    const std::string file = server.dir().file("metrics.txt");
    writeFile(file, metrics.body);
    const std::string command = "promtool check metrics < '" + file + "' > '" + file + ".out' 2>&1";
    const int rc = std::system(command.c_str());
    INFO(readFile(file + ".out"));
    CHECK(rc == 0);
}

TEST_CASE("every path and method in /openapi.json is served", "[server][integration][openapi]") {
    auto options = serverOptions();
    options.extra_yaml = "exhibit:\n  vm: openapi-vm\n";  // the exhibition controller's routes too
    PaddockdFixture server(options);
    REQUIRE(server.post("/api/v1/vms", R"({"name":"openapi-vm","start":false})").status == 201);

    const auto reply = send(server.port(), "GET", "/openapi.json");
    REQUIRE(reply.status == 200);
    auto doc = reply.json();
    CHECK(jsonString(doc["openapi"]) == "3.0.3");
    REQUIRE(doc["paths"].IsObject());

    struct Operation {
        std::string method, path;
    };
    std::vector<Operation> operations;
    for (const auto& path : doc["paths"].GetObject())
        for (const auto& op : path.value.GetObject()) {
            std::string method = op.name.GetString();
            if (method == "parameters") continue;
            std::transform(method.begin(), method.end(), method.begin(), ::toupper);
            operations.push_back({method, path.name.GetString()});
        }
    CHECK(operations.size() >= 20);
    // DELETE last, so the VM is there for every other operation.
    std::stable_sort(operations.begin(), operations.end(), [](const Operation& a, const Operation& b) {
        return (a.method == "DELETE") < (b.method == "DELETE");
    });

    // What each operation answers here, exactly (a 500 is not "served"): admin token, body "{}",
    // the parameters below, in document order with DELETEs last. "openapi-vm" starts off; start,
    // stop and restart leave it running, so the compat start is a 409; the native DELETE goes
    // before the compat one. WebSocket routes refuse a plain GET with 400. It is the exhibit VM,
    // so it is watched; it has no snapshot "ready" until the exhibition route makes one.
    const bool assetsInstalled =
        std::filesystem::exists(sourceDir() + "/server/web/node_modules/swagger-ui-dist/swagger-ui.css");
    const std::map<std::string, int> expected = {
        {"GET /healthz", 200},
        {"GET /metrics", 200},
        {"GET /openapi.json", 200},
        {"GET /docs", 200},
        {"GET /redoc", 200},
        {"GET /static/redoc/{file}", 404},  // swagger-ui.css is not ReDoc's
        {"GET /console/{name}", 200},
        {"GET /static/xterm/{file}", 404},
        {"GET /static/xterm-addon-fit/{file}", 404},  // swagger-ui.css is not theirs
        {"GET /static/swagger-ui/{file}", assetsInstalled ? 200 : 404},
        {"GET /static/asciinema-player/{file}", 404},
        {"GET /api/v1/plugins", 200},
        {"GET /api/v1/sites", 200},
        {"GET /api/v1/sites/{site}", 200},
        {"GET /api/v1/vms", 200},
        {"POST /api/v1/vms", 400},  // no name
        {"GET /api/v1/vms/{name}", 200},
        {"DELETE /api/v1/vms/{name}", 200},
        {"POST /api/v1/vms/{name}/start", 200},
        {"POST /api/v1/vms/{name}/stop", 200},
        {"POST /api/v1/vms/{name}/restart", 200},
        {"POST /api/v1/vms/{name}/console", 201},
        {"POST /api/v1/vms/{name}/adopt", 409},  // managed already
        {"POST /api/v1/tokens", 400},
        {"GET /api/v1/tokens", 200},
        {"DELETE /api/v1/tokens/{id}", 404},  // no owner; no such token
        {"GET /api/v1/vms/{name}/status", 400},
        {"GET /api/v1/vms/{name}/terminal", 400},
        {"GET /api/v1/events", 400},
        {"GET /", 200},
        {"POST /vms/create", 422},  // FastAPI's validation answer: no name
        {"POST /vms/start/{name}", 409},
        {"POST /vms/stop/{name}", 200},
        {"DELETE /vms/delete/{name}", 404},
        {"GET /vms/list", 200},
        {"GET /api/v1/pools", 200},
        {"GET /api/v1/pools/{pool}", 404},
        {"POST /api/v1/pools/{pool}/allocate", 404},
        {"GET /api/v1/leases", 200},
        {"GET /api/v1/leases/{id}", 404},
        {"DELETE /api/v1/leases/{id}", 404},
        {"POST /api/v1/leases/{id}/extend", 400},  // no ttl_s
        {"GET /api/v1/operations", 200},
        {"GET /api/v1/operations/{id}", 404},
        {"DELETE /api/v1/operations/{id}", 404},
        {"GET /api/v1/operations/{id}/output", 404},
        {"POST /api/v1/vms/{name}/provision", 409},  // its template has no provision: section
        {"GET /api/v1/provisioner", 200},
        {"GET /api/v1/provisioner/secret", 200},
        {"POST /api/v1/provisioner/secret", 400},  // no password
        {"DELETE /api/v1/provisioner/secret", 200},
        {"POST /ansible/auth", 422},  // FastAPI's validation answer: no password
        {"POST /ansible/clear", 200},
        {"GET /api/v1/sessions", 200},
        {"GET /api/v1/sessions/{id}/cast", 404},
        {"GET /sessions/{id}", 200},
        {"GET /pool/status", 200},
        {"POST /pool/allocate", 503},  // no pool configured
        {"GET /ws/vm/{name}/terminal", 400},
        {"GET /ws/vm/{name}/status", 400},
        {"GET /api/v1/vms/{name}/snapshots", 200},
        {"POST /api/v1/vms/{name}/snapshots", 400},                // no name
        {"POST /api/v1/vms/{name}/snapshots/{snap}/revert", 404},  // no such snapshot
        {"DELETE /api/v1/vms/{name}/snapshots/{snap}", 404},
        {"GET /api/v1/vms/{name}/backups", 200},
        {"POST /api/v1/vms/{name}/backups", 202},  // an operation (that fails: the VM is diskless)
        {"GET /api/v1/vms/{name}/backups/{id}", 404},
        {"DELETE /api/v1/vms/{name}/backups/{id}", 404},
        {"POST /api/v1/vms/{name}/backups/{id}/restore", 400},  // no "as"
        {"GET /ui/exhibit", 200},
        {"GET /ui", 200},
        {"GET /ui/assets/{file}", 404},  // swagger-ui.css is not the panel's
        {"GET /api/v1/whoami", 200},
        {"GET /api/v1/vms/{name}/watch", 200},
        {"POST /api/v1/vms/{name}/watch", 409},  // no snapshot "ready" yet
        {"DELETE /api/v1/vms/{name}/watch", 404},  // the VM is gone by then
        {"GET /api/v1/vms/{name}/heartbeat", 200},
        {"POST /api/v1/vms/{name}/heartbeat", 200},
        {"POST /api/v1/vms/{name}/revert-request", 400},  // no reason
        {"POST /api/v1/vms/{name}/idle-reset", 409},      // stopped through the API (the compat stop)
        {"GET /api/v1/status", 200},
        {"GET /api/v1/heartbeat/status", 200},
        {"GET /api/v1/heartbeat", 200},
        {"POST /api/v1/heartbeat", 200},
        {"GET /api/v1/vm/start", 404},  // no snapshot "ready" to start from
        {"POST /api/v1/vm/start", 404},
        {"GET /api/v1/vm/stop", 200},
        {"POST /api/v1/vm/stop", 200},
        {"GET /api/v1/vm/restart", 404},
        {"POST /api/v1/vm/restart", 404},
        {"GET /api/v1/snapshots", 200},
        {"GET /api/v1/snapshot/create", 200},
        {"POST /api/v1/snapshot/create", 200},  // replaces it
        {"DELETE /api/v1/snapshot/{snapshot_name}", 404},
        {"GET /api/v1/snapshot/delete/{snapshot_name}", 404},
        {"GET /api/v1/revert/enable", 200},
        {"POST /api/v1/revert/enable", 200},
        {"GET /api/v1/revert/disable", 200},
        {"POST /api/v1/revert/disable", 200},
        {"POST /api/v1/revert/request", 400},  // no reason
        {"POST /api/v1/idle/reset", 409},      // maintenance (revert/disable) is on
    };
    CHECK(operations.size() == expected.size());  // a route left the document, or one is new here
    for (const auto& op : operations) {
        std::string path = op.path;
        for (const auto& [param, value] : std::map<std::string, std::string>{
                 {"{name}", "openapi-vm"}, {"{file}", "swagger-ui.css"}, {"{pool}", "no-pool"}, {"{id}", "no-id"},
                 {"{snap}", "no-snap"}, {"{snapshot_name}", "no-snap"},
                 {"{site}", "local"}}) {
            const auto at = path.find(param);
            if (at != std::string::npos) path.replace(at, param.size(), value);
        }
        REQUIRE(path.find('{') == std::string::npos);
        const auto answer =
            server.call(op.method, path, op.method == "GET" ? std::nullopt : std::optional<std::string>("{}"));
        INFO(op.method << " " << path << " -> " << answer.status << " " << answer.body.substr(0, 200));
        const auto want = expected.find(op.method + " " + op.path);
        if (want == expected.end()) {
            FAIL_CHECK(op.method << " " << op.path << " has no expected status in this test");
            continue;
        }
        CHECK(answer.status == want->second);
        CHECK_FALSE((answer.status == 404 && answer.body.find("no route for") != std::string::npos));
    }
}

TEST_CASE("/docs serves Swagger UI from npm assets without path traversal", "[server][integration][docs]") {
    PaddockdFixture server(serverOptions());
    const auto docs = send(server.port(), "GET", "/docs");
    REQUIRE(docs.status == 200);
    CHECK_THAT(docs.content_type, Catch::StartsWith("text/html"));
    CHECK_THAT(docs.body,
               Catch::Contains("/static/swagger-ui/swagger-ui-bundle.js") && Catch::Contains("/openapi.json"));

    const bool assetsInstalled =
        std::filesystem::exists(sourceDir() + "/server/web/node_modules/swagger-ui-dist/swagger-ui-bundle.js");
    if (!assetsInstalled) {
        WARN("server/web/node_modules is missing (run scripts/setup.sh); asset checks skipped");
    } else {
        const auto bundle = send(server.port(), "GET", "/static/swagger-ui/swagger-ui-bundle.js");
        REQUIRE(bundle.status == 200);
        CHECK_THAT(bundle.content_type, Catch::StartsWith("application/javascript"));
        CHECK(bundle.body.size() > 100000);
        const auto css = send(server.port(), "GET", "/static/swagger-ui/swagger-ui.css");
        CHECK(css.status == 200);
        CHECK_THAT(css.content_type, Catch::StartsWith("text/css"));
    }
    // Decoded slashes leave the route ("no route for"), the rest is no such asset: 404 either way.
    for (const char* bad : {"/static/swagger-ui/..%2Fpackage.json", "/static/swagger-ui/%2E%2E%2F%2E%2E%2Fdocs.html",
                            "/static/swagger-ui/../../docs.html", "/static/swagger-ui/.package-lock.json",
                            "/static/swagger-ui/%2Fetc%2Fpasswd"}) {
        INFO(bad);
        const auto r = send(server.port(), "GET", bad);
        CHECK(r.status == 404);
        CHECK_THAT(r.body, !Catch::Contains("root:"));
    }
}

// More idle sockets than workers, some of them in the middle of a head: connections wait in the
// server's I/O thread, not in workers, so requests are still answered.
TEST_CASE("idle connections do not block other requests; SIGTERM stops cleanly", "[server][integration]") {
    PaddockdFixture server(serverOptions());  // 8 worker threads
    std::vector<Poco::Net::StreamSocket> idle;
    for (int i = 0; i < 64; ++i) idle.emplace_back(Poco::Net::SocketAddress("127.0.0.1", server.port()));
    for (int i = 0; i < 8; ++i) idle[i].sendBytes("GET /healthz HTTP/1.1\r\n", 24);
    for (int i = 0; i < 10; ++i) CHECK(send(server.port(), "GET", "/healthz").status == 200);
    idle.clear();
    CHECK(server.stop() == 0);
}

// ---- WebSocket streams ------------------------------------------------------------------

namespace {

std::set<std::string> memberNames(const rapidjson::Value& object) {
    std::set<std::string> names;
    for (const auto& m : object.GetObject()) names.insert(m.name.GetString());
    return names;
}

// Polls /metrics until `sample` has `value`; the last value seen.
double waitForMetric(uint16_t port, const std::string& sample, double value, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    double seen = -1;
    while (true) {
        seen = metricValue(send(port, "GET", "/metrics").body, sample);
        if (seen == value || std::chrono::steady_clock::now() > deadline) return seen;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

}  // namespace

TEST_CASE("VM JSON carries readiness and SSH details", "[server][integration][websocket]") {
    PaddockdFixture server(serverOptions());
    REQUIRE(server.post("/api/v1/vms", R"({"name":"ready-1","start":false})").status == 201);
    auto doc = server.get("/api/v1/vms/ready-1").json();
    const auto& vm = doc["vm"];
    CHECK(jsonString(vm["readiness"]) == "stopped");
    CHECK(vm["ready"].IsBool());
    CHECK_FALSE(vm["ready"].GetBool());
    CHECK(vm["readiness_error"].IsNull());
    CHECK(vm["seconds_to_ready"].IsNull());
    CHECK(vm["ssh"].IsNull());  // network_mode none: nothing to log into
    CHECK(vm["host_key"].IsNull());
    const auto compat = server.get("/vms/list").json();
    const auto* item = findByName(compat["vms"], "ready-1");
    REQUIRE(item != nullptr);
    CHECK(item->MemberCount() == 7);  // compat shapes do not change
}

TEST_CASE("WS /api/v1/vms/{name}/status: first frame, a frame per change, periodic frames, deletion",
          "[server][integration][websocket]") {
    PaddockdFixture server(serverOptions());
    REQUIRE(server.post("/api/v1/vms", R"({"name":"ws-1","start":false})").status == 201);
    auto ws = server.openWebSocket("/api/v1/vms/ws-1/status", server.token());

    const auto first = nextText(*ws, std::chrono::seconds(3));
    REQUIRE(first);
    {
        auto doc = parseFrame(*first);
        CHECK(jsonString(doc["type"]) == "status");
        CHECK(jsonString(doc["vm"]["name"]) == "ws-1");
        CHECK(jsonString(doc["vm"]["state"]) == "shut off");
        auto rest = server.get("/api/v1/vms/ws-1").json();
        CHECK(memberNames(doc["vm"]) == memberNames(rest["vm"]));  // the same object as GET
    }

    REQUIRE(server.post("/api/v1/vms/ws-1/start").status == 200);
    CHECK(waitForFrame(*ws, std::chrono::seconds(3), [](const rapidjson::Document& d) {
        return jsonString(d["type"]) == "status" && jsonString(d["vm"]["state"]) == "running";
    }));
    REQUIRE(server.post("/api/v1/vms/ws-1/stop?force=true").status == 200);
    CHECK(waitForFrame(*ws, std::chrono::seconds(3), [](const rapidjson::Document& d) {
        return jsonString(d["type"]) == "status" && jsonString(d["vm"]["state"]) == "shut off";
    }));

    // Nothing changes now: a frame still comes within the 5 s period (plus slack).
    while (nextText(*ws, std::chrono::milliseconds(300))) {}
    const auto quiet = std::chrono::steady_clock::now();
    const auto periodic = nextText(*ws, std::chrono::milliseconds(6500));
    REQUIRE(periodic);
    CHECK(std::chrono::steady_clock::now() - quiet > std::chrono::seconds(3));
    CHECK(jsonString(parseFrame(*periodic)["vm"]["state"]) == "shut off");

    REQUIRE(server.del("/api/v1/vms/ws-1").status == 200);
    CHECK(waitForFrame(*ws, std::chrono::seconds(3),
                       [](const rapidjson::Document& d) { return jsonString(d["type"]) == "deleted"; }));
    CHECK_FALSE(nextText(*ws, std::chrono::seconds(3)));  // then closed
}

TEST_CASE("WS /ws/vm/{name}/status sends the earlier VM manager's frame about every second",
          "[server][integration][websocket][compat]") {
    PaddockdFixture server(serverOptions());
    auto ws = server.openWebSocket("/ws/vm/test/status", server.token());
    const auto started = std::chrono::steady_clock::now();
    int frames = 0;
    while (std::chrono::steady_clock::now() - started < std::chrono::seconds(3)) {
        const auto text = nextText(*ws, std::chrono::milliseconds(500));
        if (!text) continue;
        ++frames;
        auto doc = parseFrame(*text);
        CHECK(memberNames(doc) == std::set<std::string>{"name", "state", "max_memory", "memory", "vcpus", "cpu_time"});
        CHECK(jsonString(doc["name"]) == "test");
        CHECK(doc["state"].IsInt());
        CHECK(doc["state"].GetInt() == 1);
        CHECK(doc["max_memory"].IsUint64());
        CHECK(doc["cpu_time"].IsUint64());
    }
    CHECK(frames >= 2);
    CHECK(frames <= 6);

    // A change is sent at once, not at the next tick.
    REQUIRE(server.post("/vms/stop/test").status == 200);
    CHECK(waitForFrame(*ws, std::chrono::milliseconds(1500),
                       [](const rapidjson::Document& d) { return d["state"].GetInt() == 5; }));
}

TEST_CASE("WS /api/v1/events streams lifecycle events", "[server][integration][websocket]") {
    PaddockdFixture server(serverOptions());
    auto ws = server.openWebSocket("/api/v1/events", server.token());
    REQUIRE(server.post("/api/v1/vms", R"({"name":"ev-1","start":true})").status == 201);
    const auto isEvent = [](const char* name) {
        return [name](const rapidjson::Document& d) {
            return jsonString(d["type"]) == "event" && d["vm"].IsString() && jsonString(d["vm"]) == "ev-1" &&
                   jsonString(d["kind"]) == "lifecycle" && jsonString(d["event"]) == name;
        };
    };
    CHECK(waitForFrame(*ws, std::chrono::seconds(3), isEvent("started")));
    REQUIRE(server.post("/api/v1/vms/ev-1/stop?force=true").status == 200);
    std::optional<std::string> stopped;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!stopped && std::chrono::steady_clock::now() < deadline) {
        auto text = nextText(*ws, std::chrono::seconds(3));
        if (!text) break;
        if (isEvent("stopped")(parseFrame(*text))) stopped = text;
    }
    REQUIRE(stopped);
    auto doc = parseFrame(*stopped);
    CHECK(memberNames(doc) ==
          std::set<std::string>{"type", "site", "vm", "kind", "event", "state_code", "readiness", "time_ms"});
    CHECK(jsonString(doc["site"]) == "local");
    CHECK(doc["state_code"].GetInt() == 5);
    CHECK(doc["time_ms"].GetInt64() > 1600000000000);
}

TEST_CASE("WebSocket upgrades: auth by header or access_token, Origin check, refusals before upgrading",
          "[server][integration][websocket]") {
    auto options = serverOptions();
    options.allowed_origins = {"https://lab.example.org"};
    PaddockdFixture server(options);
    const uint16_t port = server.port();
    const std::string token = server.token();

    const auto unknown = server.upgrade("/api/v1/vms/no-such-vm/status", token);
    CHECK(unknown.status == 404);
    CHECK(unknown.errorCode() == "not_found");
    CHECK(server.upgrade("/ws/vm/no-such-vm/status", token).status == 404);

    const auto missing = server.upgrade("/api/v1/vms/test/status", "");
    CHECK(missing.status == 401);
    CHECK(missing.errorCode() == "unauthorized");
    CHECK(server.upgrade("/api/v1/events?access_token=wrong-token", "").status == 401);
    // The query token is for WebSockets only.
    CHECK(send(port, "GET", "/api/v1/vms?access_token=" + token).status == 401);

    auto viaQuery = server.openWebSocket("/api/v1/vms/test/status?access_token=" + token, "");
    CHECK(nextText(*viaQuery, std::chrono::seconds(3)));

    const auto foreign = server.upgrade("/api/v1/events", token, "https://evil.example");
    CHECK(foreign.status == 403);
    CHECK(foreign.errorCode() == "forbidden");
    CHECK(server.upgrade("/api/v1/events", token, "http://127.0.0.1:" + std::to_string(port + 1)).status == 403);
    auto sameOrigin =
        server.openWebSocket("/api/v1/vms/test/status", token, "http://127.0.0.1:" + std::to_string(port));
    CHECK(nextText(*sameOrigin, std::chrono::seconds(3)));
    auto listed = server.openWebSocket("/api/v1/vms/test/status", token, "https://lab.example.org");
    CHECK(nextText(*listed, std::chrono::seconds(3)));

    const auto notUpgrade = server.get("/api/v1/vms/test/status");
    CHECK(notUpgrade.status == 400);
    CHECK(notUpgrade.errorCode() == "invalid_argument");

    const auto metrics = send(port, "GET", "/metrics").body;
    CHECK(metricValue(metrics, R"(paddock_websocket_connections{route="/api/v1/vms/{name}/status"})") == 3);

    // Clients that close are cleaned up.
    viaQuery->shutdown();
    sameOrigin->shutdown();
    CHECK(waitForMetric(port, R"(paddock_websocket_connections{route="/api/v1/vms/{name}/status"})", 1,
                        std::chrono::seconds(5)) == 1);

    CHECK(server.stop() == 0);  // with a WebSocket still open
    const std::string log = server.log();
    CHECK_THAT(log, Catch::Contains("/api/v1/vms/test/status 101"));
    CHECK_THAT(log, !Catch::Contains(token));
    CHECK_THAT(log, !Catch::Contains("access_token"));
}

TEST_CASE("a WebSocket client that does not read is dropped; the others keep receiving",
          "[server][integration][websocket]") {
    PaddockdFixture server(serverOptions());
    const uint16_t port = server.port();

    // The slow client: a tiny receive buffer, a handshake, and never a read.
    Poco::Net::StreamSocket slow(Poco::Net::SocketAddress::IPv4);
    slow.setReceiveBufferSize(4096);
    slow.connect(Poco::Net::SocketAddress("127.0.0.1", port));
    const std::string handshake =
        "GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Authorization: Bearer " +
        server.token() + "\r\n\r\n";
    slow.sendBytes(handshake.data(), static_cast<int>(handshake.size()));

    auto good = server.openWebSocket("/api/v1/events", server.token());
    // The reader thread only counts (Catch2 is not thread-safe) and keeps an exception's text
    // for the main thread to judge.
    std::atomic<int> received{0};
    std::atomic<bool> done{false};
    std::string readerError;
    std::thread reader([&] {
        try {
            while (!done) {
                if (nextText(*good, std::chrono::milliseconds(200))) ++received;
            }
        } catch (const std::exception& e) {
            readerError = e.what();
        }
    });
    // Joins the reader however the test ends: a failing REQUIRE throws, and unwinding past a
    // joinable std::thread would terminate the binary instead of reporting.
    struct Joiner {
        std::atomic<bool>& done;
        std::thread& thread;
        ~Joiner() {
            done = true;
            if (thread.joinable()) thread.join();
        }
    } joiner{done, reader};

    REQUIRE(server.post("/api/v1/vms", R"({"name":"busy-1","start":false})").status == 201);
    const std::string dropped = R"(paddock_websocket_dropped_total{reason="queue_overflow",route="/api/v1/events"})";
    int cycles = 0;
    bool wasDropped = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(25);
    while (!wasDropped && std::chrono::steady_clock::now() < deadline) {
        for (int i = 0; i < 25; ++i, ++cycles) {
            REQUIRE(server.post("/api/v1/vms/busy-1/start").status == 200);
            REQUIRE(server.post("/api/v1/vms/busy-1/stop?force=true").status == 200);
        }
        wasDropped = metricValue(send(port, "GET", "/metrics").body, dropped) >= 1;
    }
    INFO("cycles: " << cycles);
    CHECK(wasDropped);

    // The reader kept up with every event (two lifecycle events per cycle at least).
    const auto settle = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (received < 2 * cycles && std::chrono::steady_clock::now() < settle)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    done = true;
    reader.join();
    CHECK(readerError.empty());
    CHECK(received >= 2 * cycles);
    // The slow client's close frame cannot get through either: it is cut after the close timeout.
    CHECK(waitForMetric(port, R"(paddock_websocket_connections{route="/api/v1/events"})", 1, std::chrono::seconds(5)) ==
          1);
}

TEST_CASE("50 open WebSockets do not hold HTTP worker threads", "[server][integration][websocket]") {
    auto options = serverOptions();
    options.threads = 16;
    PaddockdFixture server(options);
    std::vector<std::unique_ptr<Poco::Net::WebSocket>> sockets;
    for (int i = 0; i < 50; ++i)
        sockets.push_back(
            server.openWebSocket(i % 2 == 0 ? "/api/v1/vms/test/status" : "/ws/vm/test/status", server.token()));
    for (auto& ws : sockets) CHECK(nextText(*ws, std::chrono::seconds(5)));

    for (int i = 0; i < 20; ++i) {
        const auto started = std::chrono::steady_clock::now();
        CHECK(server.get("/api/v1/vms").status == 200);
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));
    }
    const auto metrics = send(server.port(), "GET", "/metrics").body;
    CHECK(metricValue(metrics, R"(paddock_websocket_connections{route="/api/v1/vms/{name}/status"})") == 25);
    CHECK(metricValue(metrics, R"(paddock_websocket_connections{route="/ws/vm/{name}/status"})") == 25);
}
