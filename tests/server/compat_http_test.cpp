// The compatibility routes through the real paddockd, replayed as the earlier VM manager's web
// app sends them (shared/COMPAT.md), every field checked: FastAPI error bodies and pydantic's 422
// list, names that libvirt accepted (Student_1, lab.vm, "My VM") on hosts the old tool used, the
// app's allocate -> start -> terminal flow on every pool mode, leases that last until the VM is
// deleted, /pool/status words, the old metric families (promtool-checked), the compat stop
// timeout, and /redoc. Hostile input (huge, nested, wrong types, unsafe names) on every route
// that reads any.
#include "paddockd_fixture.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>

using namespace paddock::test;

namespace {

const std::string kAdmin = "compat-admin-token-0123456789";
const std::string kViewer = "compat-viewer-token-0123456789";

const rapidjson::Value* findByName(const rapidjson::Value& array, const std::string& name) {
    for (const auto& item : array.GetArray())
        if (item.HasMember("name") && item["name"].IsString() && name == item["name"].GetString()) return &item;
    return nullptr;
}

DaemonOptions compatOptions(const std::string& uri = "test:///default") {
    DaemonOptions options;
    options.max_body_bytes = 4096;
    options.tokens = {{"lab-admin", kAdmin, "admin"}, {"watcher", kViewer, "viewer"}};
    SiteOptions& site = options.sites.front();
    site.uri = uri;
    site.storage_pool = "default-pool";
    site.stop_timeout_s = 5;
    return options;
}

// The one entry of a 422 body's "detail" list at `index`, checked for FastAPI's shape.
const rapidjson::Value& issue(const rapidjson::Document& doc, size_t index) {
    REQUIRE(doc.IsObject());
    REQUIRE(doc.MemberCount() == 1);
    REQUIRE(doc["detail"].IsArray());
    REQUIRE(doc["detail"].Size() > index);
    const auto& entry = doc["detail"][static_cast<rapidjson::SizeType>(index)];
    REQUIRE(entry["type"].IsString());
    REQUIRE(entry["loc"].IsArray());
    REQUIRE(entry["msg"].IsString());
    return entry;
}

std::string loc(const rapidjson::Value& entry) {
    std::string out;
    for (const auto& part : entry["loc"].GetArray()) {
        if (!out.empty()) out += ".";
        out += part.IsString() ? std::string(part.GetString()) : std::to_string(part.GetUint64());
    }
    return out;
}

}  // namespace

TEST_CASE("compatibility routes answer exactly like the old VM manager", "[compat]") {
    PaddockdFixture server(compatOptions());

    const auto root = server.get("/");
    REQUIRE(root.status == 200);
    {
        auto doc = root.json();
        CHECK(doc.MemberCount() == 2);
        CHECK_FALSE(jsonString(doc["message"]).empty());
        CHECK_FALSE(jsonString(doc["version"]).empty());
    }

    const auto created = server.post(
        "/vms/create", R"({"name":"compat-1","memory_mb":1024,"vcpus":2,"owner":"alice","legacy_flag":true})");
    REQUIRE(created.status == 201);
    {
        auto doc = created.json();
        CHECK(doc.MemberCount() == 2);
        CHECK(jsonString(doc["status"]) == "created");
        const auto& vm = doc["vm"];
        CHECK(vm.MemberCount() == 6);
        CHECK(jsonString(vm["name"]) == "compat-1");
        CHECK(jsonString(vm["uuid"]).size() == 36);
        CHECK(vm["image"].IsString());
        CHECK(vm["memory_mb"].GetInt() == 1024);
        CHECK(vm["vcpus"].GetInt() == 2);
        CHECK(jsonString(vm["owner"]) == "alice");
    }
    const auto defaults = server.post("/vms/create", R"({"name":"compat-2","owner":null})");
    REQUIRE(defaults.status == 201);
    {
        auto doc = defaults.json();
        CHECK(doc["vm"]["memory_mb"].GetInt() == 512);
        CHECK(doc["vm"]["vcpus"].GetInt() == 1);
        CHECK(doc["vm"]["owner"].IsNull());
    }
    // pydantic's lax mode: an integral float, a numeric string and a boolean are integers.
    const auto lax = server.post("/vms/create", R"({"name":"compat-3","memory_mb":"768","vcpus":2.0})");
    REQUIRE(lax.status == 201);
    CHECK(lax.json()["vm"]["memory_mb"].GetInt() == 768);
    CHECK(lax.json()["vm"]["vcpus"].GetInt() == 2);
    CHECK(server.post("/vms/create", R"({"name":"compat-4","vcpus":true})").json()["vm"]["vcpus"].GetInt() == 1);

    const auto duplicate = server.post("/vms/create", R"({"name":"compat-1"})");
    CHECK(duplicate.status == 409);  // COMPAT.md allows 400 or 409; Paddock answers 409 like the native route
    CHECK(duplicate.detail() == "VM 'compat-1' already exists");

    const auto list = server.get("/vms/list");
    REQUIRE(list.status == 200);
    {
        auto doc = list.json();
        CHECK(doc.MemberCount() == 1);
        const auto* vm = findByName(doc["vms"], "compat-1");
        REQUIRE(vm != nullptr);
        CHECK(vm->MemberCount() == 7);
        CHECK((*vm)["id"].GetInt() > 0);
        CHECK((*vm)["state"].GetInt() == 1);  // created and started
        CHECK((*vm)["max_memory"].GetUint64() == 1024 * 1024);
        CHECK((*vm)["memory"].IsUint64());
        CHECK((*vm)["vcpus"].GetInt() == 2);
        CHECK((*vm)["cpu_time"].IsUint64());
    }

    const auto startRunning = server.post("/vms/start/compat-1");
    CHECK(startRunning.status == 409);
    CHECK(startRunning.detail().value_or("").find("already running") != std::string::npos);
    const auto unknown = server.post("/vms/start/no-such-vm");
    CHECK(unknown.status == 404);
    CHECK(unknown.detail() == "VM 'no-such-vm' not found");

    const auto stopped = server.post("/vms/stop/compat-1?owner=alice");
    REQUIRE(stopped.status == 200);
    {
        auto doc = stopped.json();
        CHECK(doc.MemberCount() == 2);
        CHECK(jsonString(doc["status"]) == "stopped");
        CHECK(jsonString(doc["vm_name"]) == "compat-1");
    }
    CHECK(server.post("/vms/stop/compat-1").status == 200);  // already off: same answer
    CHECK(jsonString(server.post("/vms/stop/compat-1").json()["status"]) == "stopped");
    CHECK(server.post("/vms/stop/no-such-vm").detail() == "VM 'no-such-vm' not found");
    {
        auto doc = server.get("/vms/list").json();
        const auto* vm = findByName(doc["vms"], "compat-1");
        REQUIRE(vm != nullptr);
        CHECK((*vm)["state"].GetInt() == 5);
        CHECK((*vm)["id"].GetInt() == -1);
    }

    const auto started = server.post("/vms/start/compat-1?owner=alice");
    REQUIRE(started.status == 200);
    {
        auto doc = started.json();
        CHECK(doc.MemberCount() == 2);
        CHECK(jsonString(doc["status"]) == "started");
        CHECK(jsonString(doc["vm_name"]) == "compat-1");
    }

    const auto deleted = server.del("/vms/delete/compat-1?owner=alice");
    REQUIRE(deleted.status == 200);
    {
        auto doc = deleted.json();
        CHECK(doc.MemberCount() == 2);
        CHECK(jsonString(doc["status"]) == "deleted");
        CHECK(jsonString(doc["vm_name"]) == "compat-1");
    }
    CHECK(server.del("/vms/delete/compat-1").detail() == "VM 'compat-1' not found");
    CHECK(findByName(server.get("/vms/list").json()["vms"], "compat-1") == nullptr);
}

TEST_CASE("compat errors are FastAPI's {detail} with the usual status codes; native errors are not",
          "[compat][errors][hostile]") {
    PaddockdFixture server(compatOptions());

    const auto wrongMethod = server.get("/vms/create");
    CHECK(wrongMethod.status == 405);
    CHECK(wrongMethod.detail() == "Method Not Allowed");
    CHECK(wrongMethod.header("Allow") == "POST");

    const auto noToken = server.call("POST", "/vms/start/x", std::nullopt, "");
    CHECK(noToken.status == 401);
    CHECK(noToken.detail().has_value());
    CHECK(noToken.header("WWW-Authenticate").rfind("Bearer", 0) == 0);
    CHECK(server.call("POST", "/vms/start/x", std::nullopt, std::string("wrong-token-0123456789")).detail() ==
          "invalid bearer token");
    const auto viewer = server.call("POST", "/vms/create", R"({"name":"v"})", kViewer);
    CHECK(viewer.status == 403);
    CHECK(viewer.detail().has_value());
    CHECK(server.call("GET", "/vms/list", std::nullopt, kViewer).status == 200);

    HttpOptions textPlain;
    textPlain.token = server.token();
    textPlain.body = R"({"name":"x"})";
    textPlain.content_type = "text/plain";
    const auto plain = server.request("POST", "/vms/create", textPlain);
    CHECK(plain.status == 415);
    CHECK(plain.detail().has_value());

    const auto tooBig = server.post("/vms/create", R"({"name":")" + std::string(8000, 'a') + R"("})");
    CHECK(tooBig.status == 413);
    CHECK(tooBig.detail().value_or("").find("larger than the limit") != std::string::npos);

    // The same failures on native routes keep Paddock's error object.
    const auto native = server.post("/api/v1/vms/no-such-vm/start");
    CHECK(native.status == 404);
    CHECK(native.errorCode() == "not_found");
    CHECK_FALSE(native.detail());
    CHECK(server.get("/api/v1/vms/create").errorCode() == "not_found");
    CHECK(server.call("GET", "/api/v1/vms", std::nullopt, "").errorCode() == "unauthorized");
}

TEST_CASE("compat request validation answers 422 with pydantic's list, every problem at once",
          "[compat][errors][hostile]") {
    PaddockdFixture server(compatOptions());

    {
        const auto reply = server.post("/vms/create", R"({"memory_mb":100,"vcpus":"many","owner":7})");
        REQUIRE(reply.status == 422);
        const auto doc = reply.json();
        REQUIRE(doc["detail"].Size() == 4);  // in the model's field order
        const auto& name = issue(doc, 0);
        CHECK(jsonString(name["type"]) == "missing");
        CHECK(loc(name) == "body.name");
        CHECK(jsonString(name["msg"]) == "Field required");
        const auto& memory = issue(doc, 1);
        CHECK(jsonString(memory["type"]) == "greater_than_equal");
        CHECK(loc(memory) == "body.memory_mb");
        CHECK(jsonString(memory["msg"]) == "Input should be greater than or equal to 256");
        CHECK(memory["input"].GetInt() == 100);
        CHECK(memory["ctx"]["ge"].GetInt() == 256);
        const auto& vcpus = issue(doc, 2);
        CHECK(jsonString(vcpus["type"]) == "int_parsing");
        CHECK(loc(vcpus) == "body.vcpus");
        CHECK(jsonString(vcpus["msg"]) == "Input should be a valid integer, unable to parse string as an integer");
        CHECK(jsonString(vcpus["input"]) == "many");
        const auto& owner = issue(doc, 3);
        CHECK(jsonString(owner["type"]) == "string_type");
        CHECK(loc(owner) == "body.owner");
        CHECK(jsonString(owner["msg"]) == "Input should be a valid string");
    }
    struct Case {
        std::string body, type, where;
    };
    const Case cases[] = {
        {R"({"name":"x","vcpus":0})", "greater_than_equal", "body.vcpus"},
        {R"({"name":"x","vcpus":1.5})", "int_from_float", "body.vcpus"},
        {R"({"name":"x","vcpus":[1]})", "int_type", "body.vcpus"},
        {R"({"name":"x","memory_mb":null})", "int_type", "body.memory_mb"},
        {R"({"name":"x","memory_mb":1e300})", "less_than_equal", "body.memory_mb"},
        {R"({"name":"x","memory_mb":99999999999999999999999})", "less_than_equal", "body.memory_mb"},
        {R"({"name":"x","vcpus":65})", "less_than_equal", "body.vcpus"},
        {R"({"name":null})", "string_type", "body.name"},
        {R"({"name":{"a":1}})", "string_type", "body.name"},
        {R"([1,2])", "model_attributes_type", "body"},
        {R"("name")", "model_attributes_type", "body"},
        {"", "missing", "body"},
        // The position is where Paddock's parser stopped (Python's json may count one less).
        {"not json", "json_invalid", "body.1"},
        {R"({"name":"x",})", "json_invalid", "body.12"},
        {R"({"name":"x","name":"y"})", "json_invalid", "body.0"},
        {std::string(100, '[') + std::string(100, ']'), "json_invalid", "body.0"},
        {"{\"name\":\"\xff\"}", "json_invalid", "body.9"},
    };
    for (const auto& c : cases) {
        INFO(c.body.substr(0, 60));
        const auto reply = server.post("/vms/create", c.body);
        REQUIRE(reply.status == 422);
        const auto doc = reply.json();
        const auto& entry = issue(doc, 0);
        CHECK(jsonString(entry["type"]) == c.type);
        CHECK(loc(entry) == c.where);
    }
    // Deeply nested beyond what a body may hold, and a body far over the limit: clear answers,
    // and the daemon is still there.
    CHECK(server.post("/vms/create", std::string(3000, '[')).status == 422);
    CHECK(server.get("/healthz").status == 200);

    // The allocate body (Paddock's addition) is read the same way, before anything else (here
    // there is not even a pool).
    const auto allocate = server.post("/pool/allocate", R"({"ttl_s":0,"owner":["x"]})");
    REQUIRE(allocate.status == 422);
    const auto doc = allocate.json();
    REQUIRE(doc["detail"].Size() == 2);
    CHECK(loc(issue(doc, 0)) == "body.owner");
    CHECK(loc(issue(doc, 1)) == "body.ttl_s");
    CHECK(jsonString(issue(doc, 1)["type"]) == "greater_than_equal");
    CHECK(server.post("/pool/allocate").detail() == "no pool is configured (sites[0].pools)");
    CHECK(server.post("/vms/create", R"({"name":"x","memory_mb":512})").status != 422);  // and nothing was wrong
}

TEST_CASE("compat routes act on the names libvirt accepted; only unsafe names are refused",
          "[compat][names][hostile]") {
    PaddockdFixture server(compatOptions("test://" + sourceDir() + "/tests/server/data/legacy_host.xml"));

    // The old tool's domains are foreign until adopted (404 like an unknown one), then Paddock's.
    CHECK(server.post("/vms/stop/Student_1").detail() == "VM 'Student_1' not found");
    for (const std::string encoded : {"Student_1", "lab.vm", "My%20VM"}) {
        INFO(encoded);
        REQUIRE(server.post("/api/v1/vms/" + encoded + "/adopt", R"({"owner":"teacher"})").status == 200);
    }
    for (const std::string name : {"Student_1", "lab.vm", "My VM"}) {
        INFO(name);
        const std::string path = name == "My VM" ? std::string("My%20VM") : name;
        const auto stopped = server.post("/vms/stop/" + path);
        REQUIRE(stopped.status == 200);
        CHECK(jsonString(stopped.json()["vm_name"]) == name);
        CHECK(jsonString(server.post("/vms/start/" + path).json()["status"]) == "started");
        CHECK(findByName(server.get("/vms/list").json()["vms"], name) != nullptr);
        // The status stream finds it too.
        auto ws = server.openWebSocket("/ws/vm/" + path + "/status", server.token());
        char buffer[4096];
        int flags = 0;
        const int n = ws->receiveFrame(buffer, sizeof buffer, flags);
        REQUIRE(n > 0);
        CHECK(std::string(buffer, static_cast<size_t>(n)).find("\"state\"") != std::string::npos);
    }
    // The terminal route finds them too: the upgrade is accepted (this test host has no SSH to
    // reach, so what follows is a session error, tested with a real sshd in terminal_test).
    CHECK_NOTHROW(server.openWebSocket("/ws/vm/Student_1/terminal", server.token()));
    const auto foreign = server.upgrade("/ws/vm/Legacy_Unadopted/terminal", server.token());
    CHECK(foreign.status == 404);
    CHECK(foreign.detail() == "VM 'Legacy_Unadopted' not found");
    REQUIRE(server.del("/vms/delete/lab.vm").status == 200);
    CHECK(findByName(server.get("/vms/list").json()["vms"], "lab.vm") == nullptr);
    CHECK(server.post("/vms/start/Legacy_Unadopted").status == 404);

    // New names through the old create route: what the app generates.
    for (const std::string name : {"Student_2", "lab.vm2", "UPPER-case_1.x"}) {
        INFO(name);
        const auto created = server.post("/vms/create", R"({"name":")" + name + R"("})");
        CHECK(created.status == 201);
        CHECK(jsonString(created.json()["vm"]["name"]) == name);
    }
    // Unsafe or impossible names: 400 with a detail, nothing made.
    for (const std::string bad : {"../etc", ".hidden", "-opt", "has space", "a/b", "tab\tname", "ünï", ""}) {
        INFO(bad);
        rapidjson::StringBuffer escaped;
        rapidjson::Writer<rapidjson::StringBuffer> writer(escaped);
        writer.String(bad.c_str(), static_cast<rapidjson::SizeType>(bad.size()));
        const auto refused = server.post("/vms/create", std::string(R"({"name":)") + escaped.GetString() + "}");
        CHECK(refused.status == 400);
        CHECK(refused.detail().value_or("").find("VM name") != std::string::npos);
    }
    CHECK(server.post("/vms/create", R"({"name":")" + std::string(64, 'a') + R"("})").status == 400);
    // A name in the path that cannot be a VM's: refused before any lookup. (An encoded '/' splits
    // the path as it did in FastAPI: no route, 404.)
    CHECK(server.post("/vms/start/a%2Fb").status == 404);
    for (const std::string& path : {std::string("x%01y"), std::string("%2E%2E"), std::string(256, 'n')}) {
        INFO(path.substr(0, 20));
        const auto refused = server.post("/vms/start/" + path);
        CHECK(refused.status == 400);
        CHECK(refused.detail().has_value());
    }
    CHECK(server.post("/vms/start/" + std::string(255, 'n')).status == 404);  // long but possible
}

TEST_CASE("allocate -> start -> (terminal) works on every pool mode; the lease lasts until the VM is deleted",
          "[compat][pool]") {
    const std::string mode = GENERATE(as<std::string>{}, "running", "saved", "shutoff");
    CAPTURE(mode);
    DaemonOptions options = compatOptions();
    SiteOptions& site = options.sites.front();
    site.templates = {{.name = "tiny", .base_image = "/var/lib/paddock/test/base.qcow2", .memory_mb = 128}};
    site.pools = {{.name = "lab",
                   .template_name = "tiny",
                   .mode = mode,
                   .min_idle = 1,
                   .max_total = 2,
                   .default_ttl_s = 60,
                   .max_ttl_s = 120}};
    PaddockdFixture server(options);
    REQUIRE(eventually([&] {
        const auto pool = server.get("/api/v1/pools/lab");
        return pool.status == 200 && pool.json()["idle"].GetUint() >= 1;
    }));
    const auto allocated = server.post("/pool/allocate");
    REQUIRE(allocated.status == 200);
    const std::string vm = jsonString(allocated.json()["vm_name"]);

    // The app's next step: start it. The pool already did, on its behalf.
    const auto started = server.post("/vms/start/" + vm);
    CHECK(started.status == 200);
    CHECK(jsonString(started.json()["status"]) == "started");
    CHECK(jsonString(started.json()["vm_name"]) == vm);
    // A VM nobody allocated that runs is still a 409, as before.
    REQUIRE(server.post("/vms/create", R"({"name":"plain-vm"})").status == 201);
    CHECK(server.post("/vms/start/plain-vm").status == 409);

    // No ttl_s: the lease never expires (the app never extends), and extending it has no sense.
    const auto leases = server.get("/api/v1/leases").json();
    REQUIRE(leases["leases"].Size() == 1);
    const auto& lease = leases["leases"][0];
    CHECK(lease["expires_at"].IsNull());
    CHECK(lease["ttl_s"].IsNull());
    const std::string leaseId = jsonString(lease["id"]);
    CHECK(server.post("/api/v1/leases/" + leaseId + "/extend", R"({"ttl_s":30})").status == 409);
    // With ttl_s it does.
    REQUIRE(eventually([&] { return server.get("/api/v1/pools/lab").json()["idle"].GetUint() >= 1; }));
    const auto timed = server.post("/pool/allocate", R"({"ttl_s":30})");
    REQUIRE(timed.status == 200);
    const std::string timedVm = jsonString(timed.json()["vm_name"]);
    // Each document held by a name: a range-for over a member of a temporary would dangle.
    const auto leaseList = server.get("/api/v1/leases").json();
    for (const auto& l : leaseList["leases"].GetArray())
        if (jsonString(l["vm"]) == timedVm) CHECK(l["ttl_s"].GetInt() <= 30);

    // The app deletes the VM when done: that ends the lease, and the pool refills.
    const auto deleted = server.del("/vms/delete/" + vm);
    REQUIRE(deleted.status == 200);
    CHECK(jsonString(deleted.json()["status"]) == "deleted");
    CHECK(server.get("/api/v1/leases/" + leaseId).status == 404);
    CHECK(eventually([&] { return findByName(server.get("/vms/list").json()["vms"], vm) == nullptr; }));
    CHECK(eventually([&] { return server.get("/api/v1/pools/lab").json()["idle"].GetUint() >= 1; }));
}

TEST_CASE("GET /pool/status prints the old tool's state words", "[compat][pool]") {
    DaemonOptions options = compatOptions();
    SiteOptions& site = options.sites.front();
    site.templates = {{.name = "tiny", .base_image = "/var/lib/paddock/test/base.qcow2", .memory_mb = 128}};
    site.pools = {{.name = "lab", .template_name = "tiny", .mode = "running", .min_idle = 2, .max_total = 2}};
    PaddockdFixture server(options);
    REQUIRE(eventually([&] { return server.get("/api/v1/pools/lab").json()["idle"].GetUint() == 2; }));
    auto status = server.get("/pool/status").json();
    REQUIRE(status.Size() == 2);
    const std::string first = jsonString(status[0]["name"]);
    // The test driver reaches none of "no state", "shutting down" or "pmsuspended": every word is
    // checked in compatStateWord's unit test (compat_requests_test.cpp).
    for (const auto& v : status.GetArray()) {
        CHECK(v.MemberCount() == 3);
        CHECK(v["state_code"].GetInt() == 1);
        CHECK(jsonString(v["state"]) == "running");
    }
    // A pool VM that vanished behind Paddock's back: "not_found" and a null code, until refilled.
    REQUIRE(server.del("/api/v1/vms/" + first).status == 200);
    bool sawVanished = false;
    for (int i = 0; i < 50 && !sawVanished; ++i) {
        const auto polled = server.get("/pool/status").json();
        for (const auto& v : polled.GetArray()) {
            if (jsonString(v["name"]) != first) continue;
            if (v["state_code"].IsNull()) {
                CHECK(jsonString(v["state"]) == "not_found");
                sawVanished = true;
            }
        }
    }
    // The pool may have forgotten it before a poll saw it; either way no other word appears.
    const auto last = server.get("/pool/status").json();
    for (const auto& v : last.GetArray()) {
        const std::string word = jsonString(v["state"]);
        CHECK(std::set<std::string>{"running", "shut off", "paused", "not_found", "no state", "shutting down",
                                    "blocked", "crashed", "pmsuspended"}
                  .count(word) == 1);
    }
}

TEST_CASE("the old tool's metric families are exported beside Paddock's, and promtool accepts them",
          "[compat][metrics]") {
    PaddockdFixture server(compatOptions());
    REQUIRE(server.post("/vms/create", R"({"name":"m-1","owner":"alice"})").status == 201);
    REQUIRE(server.post("/vms/create", R"({"name":"m-2","owner":"alice"})").status == 201);
    REQUIRE(server.post("/vms/create", R"({"name":"m-3"})").status == 201);
    REQUIRE(server.post("/vms/stop/m-3").status == 200);
    REQUIRE(server.get("/vms/list").status == 200);
    CHECK(server.post("/vms/start/nobody-here").status == 404);

    const auto metrics = server.call("GET", "/metrics", std::nullopt, "");
    REQUIRE(metrics.status == 200);
    const std::string& text = metrics.body;
    CHECK(metricValue(text, R"(vm_created_total{owner="alice"})") == 2);
    CHECK(metricValue(text, R"(vm_created_total{owner="anonymous"})") == 1);
    CHECK(metricValue(text, R"(vm_per_user{owner="alice"})") == 2);
    CHECK(metricValue(text, R"(vm_per_user{owner="anonymous"})") == 1);
    CHECK(metricValue(text, "vm_active_total") == -1);  // a gauge named *_total: promtool refuses it (README)
    CHECK(metricValue(text, R"(vm_last_activity_timestamp{owner="alice",vm_name="m-1"})") > 1.7e9);
    CHECK(metricValue(text, R"(vm_last_activity_timestamp{owner="anonymous",vm_name="m-3"})") > 1.7e9);
    CHECK(text.find("nobody-here") == std::string::npos);  // a 404 leaves no series behind
    CHECK(metricValue(text, R"(vm_manager_requests_total{endpoint="/vms/create",method="POST"})") == 3);
    CHECK(metricValue(text, R"(vm_manager_request_latency_seconds_count{endpoint="/vms/list"})") == 1);
    for (const char* host : {"vm_manager_host_cpu_usage_percent", "vm_manager_host_memory_usage_percent",
                             "vm_manager_host_disk_usage_percent"}) {
        INFO(host);
        const double value = metricValue(text, host);
        CHECK(value >= 0);
        CHECK(value <= 100);
    }
    CHECK(metricValue(text, R"(vm_manager_hypervisor_type{type="kvm"})") +
              metricValue(text, R"(vm_manager_hypervisor_type{type="qemu"})") ==
          1);
    CHECK(metricValue(text, R"(vm_manager_hypervisor_type{type="xen"})") == 0);

    // Deleting a VM takes it out of the per-user and activity series.
    REQUIRE(server.del("/vms/delete/m-2").status == 200);
    const std::string after = server.call("GET", "/metrics", std::nullopt, "").body;
    CHECK(metricValue(after, R"(vm_per_user{owner="alice"})") == 1);
    CHECK(metricValue(after, R"(vm_last_activity_timestamp{owner="alice",vm_name="m-2"})") == -1);
    CHECK(metricValue(after, R"(vm_created_total{owner="alice"})") == 2);  // a counter never goes down

    // promtool lints too (names, help, types): it must stay quiet, as for Paddock's own families.
    const std::string file = server.dir().file("metrics.txt");
    writeFile(file, after);
    const std::string command = "promtool check metrics < '" + file + "' > '" + file + ".out' 2>&1";
    const int rc = std::system(command.c_str());
    INFO(readFile(file + ".out"));
    CHECK(rc == 0);
}

TEST_CASE("compat.stop_timeout_s is read, checked and overridable; the compat stop uses it", "[compat][config]") {
    DaemonOptions options = compatOptions();
    options.extra_yaml = "compat:\n  stop_timeout_s: 2\n";
    PaddockdFixture server(options);
    REQUIRE(server.post("/vms/create", R"({"name":"s-1"})").status == 201);
    const auto stopped = server.post("/vms/stop/s-1");
    CHECK(stopped.status == 200);
    CHECK(jsonString(stopped.json()["status"]) == "stopped");

    DaemonOptions bad = compatOptions();
    bad.extra_yaml = "compat:\n  stop_timeout_s: -1\n";
    bad.start = false;
    PaddockdFixture refused(bad);
    std::string output;
    CHECK(refused.runOnce(output) != 0);
    CHECK(output.find("compat.stop_timeout_s") != std::string::npos);
}

TEST_CASE("/redoc serves ReDoc from local assets, like /docs serves Swagger UI", "[compat][docs]") {
    PaddockdFixture server(compatOptions());
    const auto page = server.call("GET", "/redoc", std::nullopt, "");
    REQUIRE(page.status == 200);
    CHECK(page.content_type.rfind("text/html", 0) == 0);
    CHECK(page.body.find("/static/redoc/redoc.standalone.js") != std::string::npos);
    CHECK(page.body.find("/openapi.json") != std::string::npos);
    const auto bundle = server.call("GET", "/static/redoc/redoc.standalone.js", std::nullopt, "");
    REQUIRE(bundle.status == 200);
    CHECK(bundle.content_type.rfind("application/javascript", 0) == 0);
    CHECK(bundle.body.size() > 100000);
    CHECK(server.call("GET", "/static/redoc/..%2F..%2Fpackage.json", std::nullopt, "").status == 404);
}
