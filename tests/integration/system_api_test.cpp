// paddockd against the real qemu:///system: a diskless guest under TCG through the native and
// compatibility routes. (The real-guest, SSH-reachable path is e2e_guest_test.cpp.)
#include "paddockd_site.hpp"
#include "websocket_frames.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <thread>

using namespace paddock::test;

namespace {
std::string uniqueName(const std::string& stem) { return "pdk-it-" + stem + "-" + std::to_string(::getpid()); }

// Nothing in a diskless guest answers ACPI, so stop falls back to force after 2 s.
DaemonOptions disklessOptions() {
    auto options = systemOptions();
    options.sites.front().stop_timeout_s = 2;
    return options;
}

}  // namespace

TEST_CASE("a diskless VM on qemu:///system: create, start, 409, stop, delete", "[system]") {
    requireLibvirt("qemu:///system");
    PaddockdFixture paddockd(disklessOptions());
    const std::string name = uniqueName("native");

    auto created = paddockd.call("POST", "/api/v1/vms", R"({"name":")" + name + R"(","memory_mb":128})");
    {
        INFO(created.body);
        REQUIRE(created.status == 201);
    }
    auto doc = created.json();
    const auto& vm = doc["vm"];
    CHECK(std::string(vm["state"].GetString()) == "running");
    CHECK(vm["state_code"].GetInt() == 1);
    CHECK(vm["memory_mb"].GetUint64() == 128);

    CHECK(paddockd.call("POST", "/api/v1/vms/" + name + "/start").status == 409);

    auto stopped = paddockd.call("POST", "/api/v1/vms/" + name + "/stop");
    REQUIRE(stopped.status == 200);
    CHECK(std::string(stopped.json()["outcome"].GetString()) == "forced");
    CHECK(std::string(paddockd.call("GET", "/api/v1/vms/" + name).json()["vm"]["state"].GetString()) == "shut off");

    REQUIRE(paddockd.call("POST", "/api/v1/vms/" + name + "/start").status == 200);
    CHECK(paddockd.call("DELETE", "/api/v1/vms/" + name).status == 200);
    CHECK(paddockd.call("GET", "/api/v1/vms/" + name).status == 404);
    const int dominfo = std::system(("virsh -q -c qemu:///system dominfo " + name + " >/dev/null 2>&1").c_str());
    CHECK(dominfo != 0);  // libvirt no longer knows the domain

    // Prefer: respond-async: 202 once defined, QEMU started by the create queue.
    auto accepted = paddockd.call("POST", "/api/v1/vms", R"({"name":")" + name + R"(","memory_mb":128})",
                                  std::nullopt, {{"Prefer", "respond-async"}});
    {
        INFO(accepted.body);
        REQUIRE(accepted.status == 202);
    }
    CHECK(accepted.header("Preference-Applied") == "respond-async");
    CHECK(std::string(accepted.json()["vm"]["state"].GetString()) == "shut off");
    CHECK(std::string(accepted.json()["vm"]["readiness"].GetString()) == "booting");
    std::string state;
    for (int i = 0; i < 600; ++i) {  // QEMU's start takes about a second under TCG; the bound stops a hang
        state = jsonString(paddockd.getJson(accepted.header("Location"))["state"]);
        if (state != "queued" && state != "running") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    REQUIRE(state == "succeeded");
    CHECK(std::string(paddockd.getJson("/api/v1/vms/" + name)["vm"]["state"].GetString()) == "running");
    CHECK(paddockd.call("DELETE", "/api/v1/vms/" + name).status == 200);
    CHECK(std::system(("virsh -q -c qemu:///system dominfo " + name + " >/dev/null 2>&1").c_str()) != 0);
}

TEST_CASE("compatibility routes on qemu:///system define and start", "[system]") {
    requireLibvirt("qemu:///system");
    PaddockdFixture paddockd(disklessOptions());
    const std::string name = uniqueName("compat");
    auto created =
        paddockd.call("POST", "/vms/create", R"({"name":")" + name + R"(","memory_mb":256,"vcpus":1,"owner":"alice"})");
    {
        INFO(created.body);
        REQUIRE(created.status == 201);
    }
    auto doc = created.json();
    CHECK(std::string(doc["status"].GetString()) == "created");
    CHECK(std::string(doc["vm"]["owner"].GetString()) == "alice");

    auto list = paddockd.call("GET", "/vms/list").json();
    bool found = false;
    for (const auto& v : list["vms"].GetArray()) {
        if (name == v["name"].GetString()) {
            found = true;
            CHECK(v["state"].GetInt() == 1);
            CHECK(v["id"].GetInt() > 0);
            CHECK(v["max_memory"].GetUint64() == 256 * 1024);
        }
    }
    CHECK(found);
    CHECK(paddockd.call("POST", "/vms/stop/" + name).status == 200);
    CHECK(paddockd.call("DELETE", "/vms/delete/" + name).status == 200);
}

// The virsh backend has no event stream: the site lists its domains every poll_interval_s and
// turns each change into the lifecycle event libvirt would have sent, so a VM stopped behind
// Paddock's back reaches the event stream and the listings all the same.
TEST_CASE("a site on the virsh backend: create, stop outside Paddock, polled events, delete", "[system]") {
    requireLibvirt("qemu:///system");
    const std::string name = uniqueName("virsh");
    DomainSweeper sweeper{name};
    auto options = disklessOptions();
    SiteOptions& site = options.sites.front();
    site.name = "shell";
    site.backend = "org.paddock.virsh";
    site.extra_yaml = "    poll_interval_s: 0.5\n";
    PaddockdFixture paddockd(options);

    auto sites = paddockd.getJson("/api/v1/sites");
    const auto& shell = sites["sites"][0];
    CHECK(jsonString(shell["backend"]) == "org.paddock.virsh");
    CHECK(jsonString(shell["state"]) == "connected");
    CHECK(jsonString(shell["events"]) == "poll");
    CHECK(shell["poll_interval_s"].GetDouble() == 0.5);
    CHECK(jsonString(shell["hypervisor"]["type"]) == "QEMU");

    auto ws = paddockd.openWebSocket("/api/v1/events", paddockd.token());
    const auto isEvent = [&name](const char* event) {
        return [&name, event](const rapidjson::Document& d) {
            return d.HasMember("vm") && d["vm"].IsString() && jsonString(d["vm"]) == name && d.HasMember("event") &&
                   jsonString(d["event"]) == event;
        };
    };
    auto created = paddockd.call("POST", "/api/v1/vms", R"({"name":")" + name + R"(","memory_mb":128})");
    {
        INFO(created.body);
        REQUIRE(created.status == 201);
    }
    CHECK(jsonString(created.json()["vm"]["state"]) == "running");
    CHECK(jsonString(created.json()["vm"]["site"]) == "shell");
    CHECK(waitForFrame(*ws, std::chrono::seconds(30), isEvent("started")));

    // Behind Paddock's back: the next poll sees it.
    REQUIRE(std::system(("virsh -q -c qemu:///system destroy " + name + " >/dev/null").c_str()) == 0);
    CHECK(waitForFrame(*ws, std::chrono::seconds(30), isEvent("stopped")));
    CHECK(jsonString(paddockd.getJson("/api/v1/vms/" + name)["vm"]["state"]) == "shut off");

    // What the backend lacks is said at once (501 naming it), not queued to fail later.
    const auto backup = paddockd.call("POST", "/api/v1/vms/" + name + "/backups", "{}");
    CHECK(backup.status == 501);
    CHECK_THAT(backup.body, Catch::Contains("backup_create: unsupported by backend org.paddock.virsh"));

    REQUIRE(paddockd.call("POST", "/api/v1/vms/" + name + "/start").status == 200);
    CHECK(waitForFrame(*ws, std::chrono::seconds(30), isEvent("started")));
    auto stopped = paddockd.call("POST", "/api/v1/vms/" + name + "/stop");
    REQUIRE(stopped.status == 200);
    CHECK(paddockd.call("DELETE", "/api/v1/vms/" + name).status == 200);
    CHECK(waitForFrame(*ws, std::chrono::seconds(30), isEvent("undefined")));
    CHECK(paddockd.call("GET", "/api/v1/vms/" + name).status == 404);
    CHECK(systemDomains(name).empty());
}

TEST_CASE("a libvirtd restart answers 503 meanwhile and heals by itself", "[reconnect]") {
    requireLibvirt("qemu:///system");
    PaddockdFixture paddockd(systemOptions());
    REQUIRE(paddockd.call("GET", "/api/v1/vms").status == 200);

    REQUIRE(std::system("pkill -x libvirtd") == 0);
    for (int i = 0; i < 100 && libvirtReachable("qemu:///system"); ++i) ::usleep(100 * 1000);
    // The keepalive/close callback or the health check notices; until then requests may still
    // pass on the old connection, so poll for the 503.
    HttpReply down;
    for (int i = 0; i < 100; ++i) {
        down = paddockd.call("GET", "/api/v1/vms");
        if (down.status == 503) break;
        ::usleep(100 * 1000);
    }
    const int restarted = std::system("libvirtd -d");
    INFO(down.body);
    CHECK(down.status == 503);
    CHECK(down.errorCode() == "unavailable");
    CHECK(down.body.find("reconnecting") != std::string::npos);
    CHECK(paddockd.call("GET", "/healthz").status == 503);
    REQUIRE(restarted == 0);

    bool healed = false;
    for (int i = 0; i < 600 && !healed; ++i) {  // backoff tops out at 30 s
        healed = paddockd.call("GET", "/api/v1/vms").status == 200;
        if (!healed) ::usleep(100 * 1000);
    }
    CHECK(healed);
    CHECK(paddockd.call("GET", "/healthz").status == 200);
}
