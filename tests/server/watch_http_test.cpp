// Watching over HTTP through the real paddockd on test:///default: the native watch, heartbeat,
// revert-request and idle-reset routes; token-less guests (only from guest sources, only for
// their own VM, only on guest-facing routes); the exhibition controller's routes field by field
// with FastAPI's error shape; and hostile input on every route. The watchdog reverting a real
// guest is the e2e test's (qemu:///system).
#include "paddockd_fixture.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <thread>

using namespace paddock::test;

namespace {

const std::string kAdmin = "watch-admin-token-0123456789";
const std::string kViewer = "watch-viewer-token-0123456789";
const std::string kAlice = "watch-alice-token-0123456789";
const std::string kBob = "watch-bob-token-0123456789";

// network_mode user: the guests' requests reach paddockd from 127.0.0.1, as QEMU's user-mode
// stack makes them (the test driver runs no guest; the addresses are what matters here).
DaemonOptions watchOptions(const std::string& extraYaml = {}) {
    DaemonOptions options;
    options.max_body_bytes = 4096;
    options.tokens = {{"admin", kAdmin, "admin"},
                      {"watcher", kViewer, "viewer"},
                      {"alice", kAlice, "operator", "alice"},
                      {"bob", kBob, "operator", "bob"}};
    SiteOptions& site = options.sites.front();
    site.storage_pool = "default-pool";
    site.network_mode = "user";
    site.ssh_port_min = 41000;
    site.ssh_port_max = 41999;
    site.stop_timeout_s = 2;
    TemplateOptions lab;
    lab.name = "lab";
    site.templates = {lab};
    options.extra_yaml = extraYaml;
    return options;
}

void makeVm(const PaddockdFixture& d, const std::string& name, const std::string& owner = "alice") {
    REQUIRE(d.call("POST", "/api/v1/vms",
                   R"({"name":")" + name + R"(","template":"lab","owner":")" + owner + R"("})", kAdmin)
                .status == 201);
    REQUIRE(d.call("POST", "/api/v1/vms/" + name + "/snapshots", R"({"name":"ready"})", kAdmin).status == 201);
}

std::string detail(const HttpReply& reply) {
    auto doc = reply.json();
    REQUIRE(doc.IsObject());
    REQUIRE(doc.HasMember("detail"));
    return jsonString(doc["detail"]);
}

std::string errorCode(const HttpReply& reply) {
    auto doc = reply.json();
    REQUIRE(doc.IsObject());
    REQUIRE(doc.HasMember("error"));
    return jsonString(doc["error"]["code"]);
}

}  // namespace

TEST_CASE("watch over HTTP: switching on, heartbeats, guest requests, switching off", "[watch][http]") {
    PaddockdFixture d(watchOptions());
    makeVm(d, "art-a");

    auto off = d.call("GET", "/api/v1/vms/art-a/watch", std::nullopt, kViewer);
    REQUIRE(off.status == 200);
    {
        auto w = off.json();
        CHECK_FALSE(w["watched"].GetBool());
        CHECK(w["settings"].IsNull());
        CHECK(w["state"].IsNull());
    }
    // Not watched: a heartbeat has nobody to go to.
    CHECK(d.call("POST", "/api/v1/vms/art-a/heartbeat", "{}", kAdmin).status == 409);
    // No snapshot named so: refused before anything is kept.
    auto missing = d.call("POST", "/api/v1/vms/art-a/watch", R"({"snapshot":"golden"})", kAdmin);
    CHECK(missing.status == 409);
    CHECK(missing.body.find("golden") != std::string::npos);

    auto on = d.call("POST", "/api/v1/vms/art-a/watch", R"({"heartbeat_timeout_s":20,"check_interval_s":0.25})",
                     kAlice);
    REQUIRE(on.status == 200);
    {
        auto w = on.json();
        CHECK(w["watched"].GetBool());
        CHECK(jsonString(w["source"]) == "api");
        CHECK(jsonString(w["state"]) == "waiting_first_heartbeat");
        CHECK(w["settings"]["heartbeat_timeout_s"].GetDouble() == 20.0);
        CHECK(w["settings"]["check_interval_s"].GetDouble() == 0.25);
        CHECK(jsonString(w["settings"]["snapshot"]) == "ready");
        CHECK(jsonString(w["settings"]["probe"]) == "heartbeat");
        CHECK(w["auto_revert"].GetBool());
        CHECK(w["last_heartbeat"].IsNull());
        CHECK(w["heartbeats"].Size() == 0);
    }
    // A guest without a token, from 127.0.0.1 (a user-mode guest's address as paddockd sees it).
    auto beat = d.call("GET", "/api/v1/vms/art-a/heartbeat?status=ok&message=all%20fine", std::nullopt, "");
    REQUIRE(beat.status == 200);
    {
        auto b = beat.json();
        CHECK(jsonString(b["vm"]) == "art-a");
        CHECK(jsonString(b["state"]) == "healthy");
        CHECK(b["seconds_since_previous"].IsNull());
        CHECK_FALSE(jsonString(b["received_at"]).empty());
    }
    REQUIRE(d.call("POST", "/api/v1/vms/art-a/heartbeat", R"({"status":"warning","message":"slow"})", "").status ==
            200);
    {
        auto w = d.getJson("/api/v1/vms/art-a/watch");
        CHECK(jsonString(w["state"]) == "healthy");
        CHECK(w["healthy"].GetBool());
        CHECK(jsonString(w["last_status"]) == "warning");
        CHECK(jsonString(w["last_message"]) == "slow");
        CHECK(w["heartbeats"].Size() == 2);
        CHECK(w["seconds_since_last"].GetDouble() < 60);
        CHECK(w["decisions"].Size() >= 2);
    }
    CHECK(d.metric(R"(paddock_watch_heartbeats_total{site="local",vm="art-a"})") == 2);
    CHECK(d.metric(R"(paddock_watch_state{site="local",state="healthy",vm="art-a"})") == 1);
    {
        // The watch families pass promtool's checks (names, help, types).
        const std::string file = d.dir().file("metrics.txt");
        writeFile(file, d.call("GET", "/metrics", std::nullopt, "").body);
        const int rc = std::system(("promtool check metrics < '" + file + "' > '" + file + ".out' 2>&1").c_str());
        INFO(readFile(file + ".out"));
        CHECK(rc == 0);
    }

    // A guest asks for a revert later, then an idle reset now.
    auto request = d.call("POST", "/api/v1/vms/art-a/revert-request",
                          R"({"reason":"artwork crashed","severity":"error","delay_s":600})", "");
    REQUIRE(request.status == 202);
    {
        auto r = request.json();
        CHECK(jsonString(r["status"]) == "accepted");
        CHECK(jsonString(r["message"]) == "Revert queued");
        CHECK(r["will_revert_in_seconds"].GetInt() == 600);
    }
    CHECK(d.getJson("/api/v1/vms/art-a/watch")["revert_in_s"].GetDouble() > 590);
    auto idle = d.call("POST", "/api/v1/vms/art-a/idle-reset", R"({"idle_duration":720})", "");
    REQUIRE(idle.status == 202);
    CHECK(jsonString(idle.json()["message"]) == "Idle reset triggered");
    REQUIRE(eventually([&] { return d.getJson("/api/v1/vms/art-a/watch")["reverts"].GetInt() == 1; },
                       std::chrono::seconds(20)));
    CHECK(d.metric(R"(paddock_watch_reverts_total{reason="idle_reset",site="local",vm="art-a"})") == 1);

    // Maintenance through the watch route, then off.
    auto maintenance = d.call("POST", "/api/v1/vms/art-a/watch", R"({"auto_revert":false})", kAdmin);
    REQUIRE(maintenance.status == 200);
    CHECK_FALSE(maintenance.json()["auto_revert"].GetBool());
    CHECK(d.call("POST", "/api/v1/vms/art-a/revert-request", R"({"reason":"x"})", "").status == 409);
    auto unwatched = d.call("DELETE", "/api/v1/vms/art-a/watch", std::nullopt, kAdmin);
    REQUIRE(unwatched.status == 200);
    CHECK_FALSE(unwatched.json()["watched"].GetBool());
    CHECK(d.metric(R"(paddock_watch_heartbeats_total{site="local",vm="art-a"})") == -1);
}

TEST_CASE("watch over HTTP: who may call what", "[watch][http][auth]") {
    SECTION("token-less only on guest routes, and only from guest sources") {
        PaddockdFixture d(watchOptions("watch:\n  heartbeat_sources: [192.0.2.0/24]\n"));
        makeVm(d, "art-b");
        REQUIRE(d.call("POST", "/api/v1/vms/art-b/watch", "{}", kAdmin).status == 200);
        CHECK(d.call("GET", "/api/v1/vms/art-b/heartbeat", std::nullopt, "").status == 401);
        CHECK(d.call("GET", "/api/v1/vms/art-b/heartbeat", std::nullopt, kAdmin).status == 200);
    }
    SECTION("from a guest source: guest routes only") {
        PaddockdFixture d(watchOptions());
        makeVm(d, "art-c");
        REQUIRE(d.call("POST", "/api/v1/vms/art-c/watch", "{}", kAdmin).status == 200);
        CHECK(d.call("GET", "/api/v1/vms", std::nullopt, "").status == 401);
        CHECK(d.call("GET", "/api/v1/vms/art-c/watch", std::nullopt, "").status == 401);
        CHECK(d.call("POST", "/api/v1/vms/art-c/watch", "{}", "").status == 401);
        CHECK(d.call("DELETE", "/api/v1/vms/art-c/watch", std::nullopt, "").status == 401);
        CHECK(d.call("POST", "/api/v1/vms/art-c/stop", "{}", "").status == 401);
        // A guest cannot name a VM that does not exist any better than a token holder.
        CHECK(d.call("GET", "/api/v1/vms/nope/heartbeat", std::nullopt, "").status == 404);
        // A bad token is not a guest: it is refused, not downgraded.
        CHECK(d.call("GET", "/api/v1/vms/art-c/heartbeat", std::nullopt, "not-a-token").status == 401);
    }
    SECTION("roles and owners") {
        PaddockdFixture d(watchOptions());
        makeVm(d, "art-d", "alice");
        CHECK(d.call("POST", "/api/v1/vms/art-d/watch", "{}", kViewer).status == 403);
        CHECK(d.call("DELETE", "/api/v1/vms/art-d/watch", std::nullopt, kViewer).status == 403);
        CHECK(d.call("POST", "/api/v1/vms/art-d/heartbeat", "{}", kViewer).status == 403);
        CHECK(d.call("GET", "/api/v1/vms/art-d/watch", std::nullopt, kBob).status == 404);
        CHECK(d.call("POST", "/api/v1/vms/art-d/watch", "{}", kBob).status == 404);
        CHECK(d.call("POST", "/api/v1/vms/art-d/heartbeat", "{}", kBob).status == 404);
        CHECK(d.call("POST", "/api/v1/vms/art-d/revert-request", R"({"reason":"x"})", kBob).status == 404);
        REQUIRE(d.call("POST", "/api/v1/vms/art-d/watch", "{}", kAlice).status == 200);
        CHECK(d.call("POST", "/api/v1/vms/art-d/heartbeat", "{}", kAlice).status == 200);
    }
}

TEST_CASE("watch over HTTP: hostile input", "[watch][http][hostile]") {
    PaddockdFixture d(watchOptions());
    makeVm(d, "art-e");
    const std::string deep = std::string(200, '[') + std::string(200, ']');
    const std::string nested = R"({"snapshot":)" + std::string(100, '{') + std::string(100, '}') + "}";
    for (const std::string& body :
         {std::string("{"), std::string("[]"), deep, nested, std::string(R"({"snapshot":"../etc"})"),
          std::string(R"({"snapshot":5})"), std::string(R"({"heartbeat_timeout_s":"15"})"),
          std::string(R"({"heartbeat_timeout_s":0})"), std::string(R"({"heartbeat_timeout_s":1e300})"),
          std::string(R"({"check_interval_s":-1})"), std::string(R"({"probe":"ping"})"),
          std::string(R"({"auto_revert":"yes"})"), std::string(R"({"surprise":1})"),
          std::string(R"({"snapshot":"a","snapshot":"b"})")}) {
        INFO(body.substr(0, 80));
        auto reply = d.call("POST", "/api/v1/vms/art-e/watch", body, kAdmin);
        CHECK(reply.status == 400);
        CHECK(errorCode(reply) == "invalid_argument");
    }
    CHECK(d.call("POST", "/api/v1/vms/art-e/watch", std::string(8000, ' '), kAdmin).status == 413);
    CHECK(d.call("POST", "/api/v1/vms/bad%01name/watch", "{}", kAdmin).status == 400);
    REQUIRE(d.call("POST", "/api/v1/vms/art-e/watch", "{}", kAdmin).status == 200);
    for (const std::string& body : {std::string(R"({"status":7})"), std::string(R"({"status":"a\u0001b"})"),
                                    std::string(R"({"message":")" + std::string(600, 'm') + R"("})"),
                                    std::string(R"({"status":"ok","extra":1})"), deep}) {
        INFO(body.substr(0, 80));
        CHECK(d.call("POST", "/api/v1/vms/art-e/heartbeat", body, "").status == 400);
    }
    CHECK(d.call("GET", "/api/v1/vms/art-e/heartbeat?status=%01", std::nullopt, "").status == 400);
    for (const std::string& body :
         {std::string("{}"), std::string(R"({"reason":1})"), std::string(R"({"reason":"x","delay_s":-1})"),
          std::string(R"({"reason":"x","delay_s":99999})"), std::string(R"({"reason":"x","severity":[]})"), deep}) {
        INFO(body.substr(0, 80));
        CHECK(d.call("POST", "/api/v1/vms/art-e/revert-request", body, "").status == 400);
    }
    for (const std::string& body : {std::string(R"({"idle_duration":-5})"), std::string(R"({"idle_duration":"x"})"),
                                    std::string(R"({"idle_duration":1e300})"), std::string("nul")}) {
        INFO(body);
        CHECK(d.call("POST", "/api/v1/vms/art-e/idle-reset", body, "").status == 400);
    }
    // A heartbeat flood from one guest is cut at watch.heartbeat_rate_per_s (10 by default).
    int limited = 0;
    for (int i = 0; i < 30; ++i)
        if (d.call("GET", "/api/v1/vms/art-e/heartbeat", std::nullopt, "").status == 429) ++limited;
    CHECK(limited > 0);
    // Still alive and answering.
    CHECK(d.call("GET", "/api/v1/vms/art-e/watch", std::nullopt, kAdmin).status == 200);
}

TEST_CASE("the exhibition controller's routes, field by field", "[watch][http][compat]") {
    PaddockdFixture d(watchOptions("exhibit:\n  vm: art\n"));
    auto root = d.call("GET", "/", std::nullopt, kAdmin);
    REQUIRE(root.status == 200);
    {
        auto r = root.json();
        CHECK(jsonString(r["message"]) == "Paddock exhibition controller API");
        CHECK(jsonString(r["details"]["vm_name"]) == "art");
    }
    // The VM does not exist yet: FastAPI's error shape.
    auto none = d.call("GET", "/api/v1/status", std::nullopt, kAdmin);
    CHECK(none.status == 404);
    CHECK(detail(none).find("art") != std::string::npos);

    makeVm(d, "art");
    // The exhibit VM is watched by default (made after paddockd started: found by its events).
    REQUIRE(eventually([&] { return d.getJson("/api/v1/vms/art/watch")["watched"].GetBool(); },
                       std::chrono::seconds(20)));
    auto status = d.call("GET", "/api/v1/status", std::nullopt, kViewer);
    REQUIRE(status.status == 200);
    {
        auto s = status.json();
        CHECK(jsonString(s["vm_name"]) == "art");
        CHECK(jsonString(s["vm_state"]) == "running");
        CHECK(s["vm_is_running"].GetBool());
        CHECK(jsonString(s["snapshot_name"]) == "ready");
        CHECK(s["snapshot_exists"].GetBool());
        CHECK(s["auto_revert_enabled"].GetBool());
        const auto& h = s["heartbeat"];
        CHECK(h["enabled"].GetBool());
        CHECK(h["last_heartbeat"].IsNull());
        CHECK(h["seconds_since_last"].IsNull());
        CHECK_FALSE(h["is_healthy"].GetBool());
        CHECK(h["timeout"].GetDouble() == 15.0);
    }
    // The guest scripts' heartbeat: a plain GET without a token, every second.
    for (const char* method : {"GET", "POST"}) {
        auto beat = d.call(method, "/api/v1/heartbeat?status=ok", std::nullopt, "");
        REQUIRE(beat.status == 200);
        auto b = beat.json();
        CHECK(jsonString(b["message"]) == "Heartbeat received");
        CHECK(b["details"]["enabled"].GetBool());
        CHECK(b["details"]["is_healthy"].GetBool());
        CHECK(b["details"]["last_heartbeat"].IsString());
        CHECK(b["details"]["seconds_since_last"].IsNumber());
    }
    auto hb = d.call("GET", "/api/v1/heartbeat/status", std::nullopt, kViewer);
    REQUIRE(hb.status == 200);
    CHECK(hb.json()["is_healthy"].GetBool());

    // Maintenance: GET and POST, a token needed.
    CHECK(d.call("GET", "/api/v1/revert/disable", std::nullopt, "").status == 401);
    CHECK(detail(d.call("GET", "/api/v1/revert/disable", std::nullopt, "")).size() > 0);
    auto disabled = d.call("GET", "/api/v1/revert/disable", std::nullopt, kAdmin);
    REQUIRE(disabled.status == 200);
    CHECK_FALSE(disabled.json()["details"]["auto_revert_enabled"].GetBool());
    CHECK_FALSE(d.getJson("/api/v1/status")["auto_revert_enabled"].GetBool());
    auto enabled = d.call("POST", "/api/v1/revert/enable", std::nullopt, kAdmin);
    REQUIRE(enabled.status == 200);
    CHECK(enabled.json()["details"]["auto_revert_enabled"].GetBool());

    // Snapshots.
    auto listed = d.getJson("/api/v1/snapshots");
    CHECK(jsonString(listed["vm_name"]) == "art");
    REQUIRE(listed["snapshots"].Size() == 1);
    CHECK(jsonString(listed["snapshots"][0]) == "ready");
    REQUIRE(d.call("GET", "/api/v1/snapshot/create?snapshot_name=spare", std::nullopt, kAdmin).status == 200);
    auto replaced = d.call("POST", "/api/v1/snapshot/create", std::nullopt, kAdmin);  // the configured one
    REQUIRE(replaced.status == 200);
    CHECK(jsonString(replaced.json()["message"]) == "Snapshot 'ready' created");
    CHECK(d.getJson("/api/v1/snapshots")["snapshots"].Size() == 2);
    REQUIRE(d.call("GET", "/api/v1/snapshot/delete/spare", std::nullopt, kAdmin).status == 200);
    auto gone = d.call("DELETE", "/api/v1/snapshot/spare", std::nullopt, kAdmin);
    CHECK(gone.status == 404);
    CHECK(detail(gone).find("spare") != std::string::npos);
    CHECK(d.call("GET", "/api/v1/snapshot/create?snapshot_name=../x", std::nullopt, kAdmin).status == 400);

    // Stop (monitoring off, forced), start (revert + start), restart from the guest.
    auto stopped = d.call("GET", "/api/v1/vm/stop", std::nullopt, kAdmin);
    REQUIRE(stopped.status == 200);
    CHECK(jsonString(stopped.json()["message"]) == "VM stopped");
    {
        auto s = d.getJson("/api/v1/status");
        CHECK(jsonString(s["vm_state"]) == "shut off");
        CHECK_FALSE(s["vm_is_running"].GetBool());
        CHECK_FALSE(s["heartbeat"]["enabled"].GetBool());
    }
    CHECK(d.call("GET", "/api/v1/vm/stop", std::nullopt, "").status == 401);  // not a guest route
    auto started = d.call("POST", "/api/v1/vm/start", std::nullopt, kAdmin);
    REQUIRE(started.status == 200);
    CHECK(jsonString(started.json()["details"]["vm_state"]) == "running");
    CHECK(d.getJson("/api/v1/status")["heartbeat"]["enabled"].GetBool());
    auto restarted = d.call("GET", "/api/v1/vm/restart", std::nullopt, "");  // the idle monitor's call
    REQUIRE(restarted.status == 200);
    CHECK(jsonString(restarted.json()["message"]) == "VM restarted from snapshot 'ready'");

    // Guest requests.
    auto queued = d.call("POST", "/api/v1/revert/request", R"({"reason":"Process crash detected","severity":"error"})",
                         "");
    REQUIRE(queued.status == 200);
    {
        auto q = queued.json();
        CHECK(jsonString(q["status"]) == "accepted");
        CHECK(jsonString(q["message"]) == "Revert queued");
        CHECK(q["will_revert_in_seconds"].GetInt() == 0);
    }
    auto badRequest = d.call("POST", "/api/v1/revert/request", R"({"severity":"error"})", "");
    CHECK(badRequest.status == 400);
    CHECK(detail(badRequest).find("reason") != std::string::npos);
    // While the revert just asked for and its recovery (first heartbeat, 10 s of grace) are under
    // way, another request is refused (409); once armed again an idle reset is taken.
    auto early = d.call("POST", "/api/v1/idle/reset", R"({"idle_duration":720})", "");
    CHECK(early.status == 409);
    CHECK_FALSE(detail(early).empty());
    REQUIRE(eventually([&] {
        d.call("GET", "/api/v1/heartbeat", std::nullopt, "");
        auto reset = d.call("POST", "/api/v1/idle/reset", R"({"idle_duration":720})", "");
        if (reset.status != 200) return false;
        auto r = reset.json();
        return jsonString(r["status"]) == "accepted" && jsonString(r["message"]) == "Idle reset triggered";
    }, std::chrono::seconds(40)));
    // The loop above may have spent this second's heartbeats (watch.heartbeat_rate_per_s).
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    CHECK(d.call("POST", "/api/v1/heartbeat", std::nullopt, "").status == 200);
}

TEST_CASE("without exhibit.vm the exhibition routes are not served and GET / is the VM manager's", "[watch][http]") {
    PaddockdFixture d(watchOptions());
    CHECK(d.call("GET", "/api/v1/status", std::nullopt, kAdmin).status == 404);
    CHECK(d.call("GET", "/api/v1/heartbeat", std::nullopt, "").status == 401);
    CHECK(jsonString(d.getJson("/")["message"]) == "Paddock VM manager API");
}
