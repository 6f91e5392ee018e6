// Snapshots and backups over HTTP through the real paddockd on test:///default: the answers'
// fields, the replace rule, revert's power states, snapshot-on-stop in the stop answer, backups
// as operations, and hostile input on every route (malformed, nested, huge, wrong types, unsafe
// names, no token, wrong role, another owner's VM). Real backups of a real guest are in the
// e2e test (qemu:///system).
#include "paddockd_fixture.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

using namespace paddock::test;

namespace {

const std::string kAdmin = "state-admin-token-0123456789";
const std::string kViewer = "state-viewer-token-0123456789";
const std::string kAlice = "state-alice-token-0123456789";
const std::string kBob = "state-bob-token-0123456789";

DaemonOptions stateOptions() {
    DaemonOptions options;
    options.max_body_bytes = 4096;
    options.tokens = {{"admin", kAdmin, "admin"},
                      {"watcher", kViewer, "viewer"},
                      {"alice", kAlice, "operator", "alice"},
                      {"bob", kBob, "operator", "bob"}};
    SiteOptions& site = options.sites.front();
    site.storage_pool = "default-pool";
    site.stop_timeout_s = 5;
    TemplateOptions lab;
    lab.name = "lab";
    lab.snapshot_on_stop = true;
    lab.snapshot_on_stop_keep = 2;
    lab.snapshot_limit = 4;
    site.templates = {lab};
    return options;
}

// Polls an operation until it is no longer pending; its last answer.
rapidjson::Document settled(const PaddockdFixture& d, const std::string& id, const std::string& token) {
    for (int i = 0; i < 200; ++i) {
        auto reply = d.call("GET", "/api/v1/operations/" + id, std::nullopt, token);
        REQUIRE(reply.status == 200);
        auto doc = reply.json();
        if (jsonString(doc["status"]) != "pending") return doc;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("operation " << id << " still pending");
    throw;
}

}  // namespace

TEST_CASE("snapshots over HTTP: fields, replace rule, revert, snapshot on stop, delete", "[state][snapshots]") {
    PaddockdFixture d(stateOptions());
    REQUIRE(d.call("POST", "/api/v1/vms", R"({"name":"lab-a","template":"lab","owner":"alice"})", kAdmin).status ==
            201);

    const auto made = d.call("POST", "/api/v1/vms/lab-a/snapshots", R"({"name":"s1","description":"clean"})", kAlice);
    REQUIRE(made.status == 201);
    CHECK(made.header("Location") == "/api/v1/vms/lab-a/snapshots/s1");
    {
        auto s = made.json();
        CHECK(jsonString(s["name"]) == "s1");
        CHECK(jsonString(s["description"]) == "clean");
        CHECK(jsonString(s["kind"]) == "memory+disk");
        CHECK(jsonString(s["vm_state"]) == "running");
        CHECK(s["parent"].IsNull());
        CHECK(s["size_bytes"].IsNull());
        CHECK(s["current"].GetBool());
        CHECK_FALSE(s["automatic"].GetBool());
        CHECK(jsonString(s["created_at"]).size() == 20);
    }
    const auto twice = d.call("POST", "/api/v1/vms/lab-a/snapshots", R"({"name":"s1"})", kAlice);
    CHECK(twice.status == 409);
    CHECK(twice.errorCode() == "conflict");
    CHECK(d.call("POST", "/api/v1/vms/lab-a/snapshots", R"({"name":"s1","replace":true})", kAlice).status == 201);

    // The stop answer tells what snapshot_on_stop took.
    const auto stopped = d.call("POST", "/api/v1/vms/lab-a/stop", std::nullopt, kAlice);
    REQUIRE(stopped.status == 200);
    {
        auto doc = stopped.json();
        const auto& snap = doc["snapshot"];
        REQUIRE(snap.IsObject());
        CHECK(snap["taken"].GetBool());
        CHECK(jsonString(snap["name"]).rfind("stop-", 0) == 0);
        CHECK(snap["error"].IsNull());
        CHECK(snap["pruned"].IsArray());
    }
    auto list = d.call("GET", "/api/v1/vms/lab-a/snapshots", std::nullopt, kAlice);
    REQUIRE(list.status == 200);
    {
        auto doc = list.json();
        CHECK(jsonString(doc["vm"]) == "lab-a");
        REQUIRE(doc["snapshots"].Size() == 2);
        CHECK(jsonString(doc["snapshots"][0]["name"]) == "s1");
        CHECK(doc["snapshots"][1]["automatic"].GetBool());
    }
    // A viewer may look, not act.
    CHECK(d.call("GET", "/api/v1/vms/lab-a/snapshots", std::nullopt, kViewer).status == 200);

    // Revert: the recorded state (running), then overridden (stay off).
    const auto back = d.call("POST", "/api/v1/vms/lab-a/snapshots/s1/revert", std::nullopt, kAlice);
    REQUIRE(back.status == 200);
    CHECK(jsonString(back.json()["vm"]["state"]) == "running");
    CHECK(jsonString(back.json()["snapshot"]) == "s1");
    const auto off = d.call("POST", "/api/v1/vms/lab-a/snapshots/s1/revert", R"({"start":false})", kAlice);
    REQUIRE(off.status == 200);
    CHECK(jsonString(off.json()["vm"]["state"]) == "shut off");

    // Snapshot on stop that cannot be taken (the template's limit of 4 is reached): the VM
    // still stops, the answer says why no snapshot was taken.
    REQUIRE(d.call("POST", "/api/v1/vms/lab-a/snapshots", R"({"name":"s2"})", kAlice).status == 201);
    REQUIRE(d.call("POST", "/api/v1/vms/lab-a/snapshots", R"({"name":"s3"})", kAlice).status == 201);
    REQUIRE(d.call("POST", "/api/v1/vms/lab-a/start", std::nullopt, kAlice).status == 200);
    const auto full = d.call("POST", "/api/v1/vms/lab-a/stop", std::nullopt, kAlice);
    REQUIRE(full.status == 200);
    {
        auto doc = full.json();
        CHECK(jsonString(doc["vm"]["state"]) == "shut off");
        CHECK_FALSE(doc["snapshot"]["taken"].GetBool());
        CHECK(doc["snapshot"]["name"].IsNull());
        CHECK(jsonString(doc["snapshot"]["error"]["code"]) == "conflict");
        CHECK(jsonString(doc["snapshot"]["error"]["message"]).find("snapshot_limit") != std::string::npos);
    }
    CHECK(d.metric("paddock_snapshots_total{result=\"error\"}") >= 1);
    CHECK(d.metric("paddock_snapshots_total{result=\"ok\"}") >= 3);
    CHECK(d.metric("paddock_snapshot_revert_duration_seconds_count") == 2);

    CHECK(d.call("DELETE", "/api/v1/vms/lab-a/snapshots/s2", std::nullopt, kAlice).status == 200);
    CHECK(d.call("DELETE", "/api/v1/vms/lab-a/snapshots/s2", std::nullopt, kAlice).status == 404);
    CHECK(d.call("POST", "/api/v1/vms/lab-a/snapshots/s2/revert", std::nullopt, kAlice).status == 404);
}

TEST_CASE("snapshot and backup routes refuse hostile input and strangers", "[state][hostile]") {
    PaddockdFixture d(stateOptions());
    REQUIRE(d.call("POST", "/api/v1/vms", R"({"name":"lab-b","template":"lab","owner":"alice"})", kAdmin).status ==
            201);
    const std::string snaps = "/api/v1/vms/lab-b/snapshots";

    // Malformed, wrong types, unknown fields, bad names, nesting, size.
    for (const std::string& body :
         {std::string("not json"), std::string("[]"), std::string(R"({"name":5})"), std::string(R"({"name":null})"),
          std::string(R"({"name":"ok","replace":"yes"})"), std::string(R"({"name":"ok","description":7})"),
          std::string(R"({"name":"ok","extra":1})"), std::string(R"({"name":"Upper"})"),
          std::string(R"({"name":"../x"})"), std::string(R"({"name":"a b"})"), std::string(R"({"name":""})"),
          std::string(R"({"name":"ok","description":"bell\u0007"})"), std::string(R"({"name":"ok","name":"ok"})"),
          std::string(R"({"name":"x\ud800"})"), std::string(2000, '[') + std::string(2000, ']')}) {
        const auto reply = d.call("POST", snaps, body, kAdmin);
        INFO(body.substr(0, 80));
        CHECK(reply.status == 400);
        CHECK(reply.errorCode() == "invalid_argument");
    }
    CHECK(d.call("POST", snaps, R"({"name":")" + std::string(8000, 'a') + "\"}", kAdmin).status == 413);
    CHECK(d.call("POST", snaps + "/x/revert", R"({"start":"true"})", kAdmin).status == 400);
    CHECK(d.call("POST", snaps + "/x/revert", R"({"start":true,"stop":true})", kAdmin).status == 400);
    CHECK(d.call("POST", snaps + "/%2e%2e/revert", std::nullopt, kAdmin).status == 400);
    CHECK(d.call("DELETE", snaps + "/a%2Fb", std::nullopt, kAdmin).status == 404);  // a/b: no such route

    // No token, wrong role, another owner's VM (as absent as an unknown one), unknown VMs.
    CHECK(d.call("GET", snaps, std::nullopt, "").status == 401);
    CHECK(d.call("POST", snaps, R"({"name":"s"})", "").status == 401);
    CHECK(d.call("POST", snaps, R"({"name":"s"})", kViewer).status == 403);
    CHECK(d.call("POST", "/api/v1/vms/lab-b/backups", std::nullopt, kViewer).status == 403);
    CHECK(d.call("GET", snaps, std::nullopt, kBob).status == 404);
    CHECK(d.call("POST", snaps, R"({"name":"s"})", kBob).status == 404);
    CHECK(d.call("POST", "/api/v1/vms/lab-b/backups", std::nullopt, kBob).status == 404);
    CHECK(d.call("GET", "/api/v1/vms/lab-b/backups", std::nullopt, kBob).status == 404);
    CHECK(d.call("GET", "/api/v1/vms/ghost/snapshots", std::nullopt, kAdmin).status == 404);
    CHECK(d.call("GET", "/api/v1/vms/ghost/backups", std::nullopt, kAdmin).status == 404);
    CHECK(d.call("POST", "/api/v1/vms/ghost/backups", std::nullopt, kAdmin).status == 404);

    // Backups: bodies, unknown ids, restore bodies.
    CHECK(d.call("POST", "/api/v1/vms/lab-b/backups", R"({"full":true})", kAdmin).status == 400);
    CHECK(d.call("POST", "/api/v1/vms/lab-b/backups", "{", kAdmin).status == 400);
    const auto none = d.call("GET", "/api/v1/vms/lab-b/backups", std::nullopt, kAlice);
    REQUIRE(none.status == 200);
    CHECK(none.json()["backups"].Size() == 0);
    CHECK(d.call("GET", "/api/v1/vms/lab-b/backups/bk-none", std::nullopt, kAlice).status == 404);
    CHECK(d.call("DELETE", "/api/v1/vms/lab-b/backups/bk-none", std::nullopt, kAlice).status == 404);
    CHECK(d.call("DELETE", "/api/v1/vms/lab-b/backups/bk-none?chain=maybe", std::nullopt, kAlice).status == 400);
    for (const std::string& body : {std::string(R"({})"), std::string(R"({"as":5})"), std::string(R"({"as":"x","start":1})"),
                                   std::string(R"({"as":"x","owner":"a\u0000b"})"), std::string(R"({"as":"x","y":1})")}) {
        INFO(body);
        CHECK(d.call("POST", "/api/v1/vms/lab-b/backups/bk-none/restore", body, kAdmin).status == 400);
    }
    CHECK(d.call("POST", "/api/v1/vms/lab-b/backups/bk-none/restore", R"({"as":"new-vm"})", kAdmin).status == 404);

    // A diskless VM has nothing to back up: the operation fails and says so.
    const auto accepted = d.call("POST", "/api/v1/vms/lab-b/backups", std::nullopt, kAlice);
    REQUIRE(accepted.status == 202);
    const std::string id = jsonString(accepted.json()["id"]);
    CHECK(accepted.header("Location") == "/api/v1/operations/" + id);
    CHECK(jsonString(accepted.json()["kind"]) == "vm_backup");
    CHECK(jsonString(accepted.json()["vm"]) == "lab-b");
    auto op = settled(d, id, kAlice);
    CHECK(jsonString(op["status"]) == "failed");
    CHECK(jsonString(op["error"]["code"]) == "invalid_argument");
    CHECK(jsonString(op["error"]["message"]).find("no disk") != std::string::npos);
    // Another owner cannot read it.
    CHECK(d.call("GET", "/api/v1/operations/" + id, std::nullopt, kBob).status == 404);
    CHECK(d.metric("paddock_backups_total{kind=\"full\",result=\"error\"}") == -1);  // refused before any attempt

    // The daemon is still fine.
    CHECK(d.call("GET", "/healthz", std::nullopt, "").status == 200);
}
