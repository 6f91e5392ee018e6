// The control panel (/ui/) in a real browser: paddockd on test:///default with a pool, a
// recording and admin, operator and viewer tokens, and tests/browser/panel_test.js driving the
// system Chromium headless through every view. The script reads its settings (tokens included)
// from a 0600 file, so no token is on a command line. The screenshots (panel-<view>.png) land
// in the build directory, made anew by every run.
#include "paddockd_fixture.hpp"
#include "screenshot.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

using namespace paddock::test;

namespace {

const std::string kAdmin = "panel-admin-token-0123456789";
const std::string kOperator = "panel-operator-token-0123456789";
const std::string kViewer = "panel-viewer-token-0123456789";

}  // namespace

TEST_CASE("the control panel: every view, actions, live rows, roles, phone width", "[browser][panel]") {
    const std::string script = sourceDir() + "/tests/browser/panel_test.js";
    {
        INFO("playwright-core is missing: run scripts/setup.sh (npm install in tests/browser)");
        REQUIRE(std::filesystem::exists(sourceDir() + "/tests/browser/node_modules/playwright-core"));
    }

    DaemonOptions options;
    options.tokens = {{"admin", kAdmin, "admin"}, {"ops", kOperator, "operator"}, {"watcher", kViewer, "viewer"}};
    options.recording_directory = "casts";
    SiteOptions& site = options.sites.front();
    site.storage_pool = "default-pool";
    site.stop_timeout_s = 5;
    // The test driver's storage pool takes any backing path: no image is read.
    site.templates = {{.name = "tiny", .base_image = "/var/lib/paddock/test/base.qcow2", .memory_mb = 128}};
    site.pools = {{.name = "lab", .template_name = "tiny", .mode = "running", .min_idle = 2, .max_total = 4}};
    PaddockdFixture daemon(options);
    writeFile(daemon.recordingDir() + "/s-demo.cast",
              "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": 1714557600, \"env\": {\"TERM\": "
              "\"xterm-256color\", \"SHELL\": \"/bin/bash\"}, \"vm\": \"lab-1\", \"owner\": \"alice\"}\n"
              "[0.100000, \"o\", \"alice@lab-1:~$ \"]\n"
              "[1.500000, \"o\", \"ls\\r\\n\"]\n"
              "[1.700000, \"o\", \"notes.txt  project\\r\\n\"]\n"
              "[3.250000, \"o\", \"alice@lab-1:~$ \"]\n");

    // The page and its assets hold no secret: served without a token; the page never cached.
    for (const char* path : {"/ui", "/ui/"}) {
        INFO(path);
        const auto page = daemon.call("GET", path, std::nullopt, "");
        REQUIRE(page.status == 200);
        CHECK(page.content_type.rfind("text/html", 0) == 0);
        CHECK(page.header("Cache-Control") == "no-store");
        CHECK(page.header("Referrer-Policy") == "no-referrer");
        CHECK(page.body.find("/ui/assets/panel.js") != std::string::npos);
    }
    for (const char* asset : {"panel.js", "api.js", "panel.css"}) {
        const auto file = daemon.call("GET", std::string("/ui/assets/") + asset, std::nullopt, "");
        CHECK(file.status == 200);
    }
    for (const char* bad : {"/ui/assets/..%2Fexhibit.html", "/ui/assets/.hidden", "/ui/assets/index.html%00.js",
                            "/ui/assets/nope.js"}) {
        INFO(bad);
        CHECK(daemon.call("GET", bad, std::nullopt, "").status == 404);
    }

    // Settings for the script, tokens included: a file only this user reads, not argv.
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> json(buffer);
    json.StartObject();
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"base", daemon.baseUrl()}, {"admin", kAdmin}, {"operator", kOperator}, {"viewer", kViewer},
             {"pool", "lab"}, {"session", "s-demo"}, {"outDir", binaryDir()}}) {
        json.Key(key.c_str());
        json.String(value.c_str());
    }
    json.EndObject();
    const std::string settings = daemon.dir().file("panel_settings.json");
    writeFile(settings, buffer.GetString());
    REQUIRE(::chmod(settings.c_str(), 0600) == 0);

    const std::vector<std::pair<std::string, std::pair<uint32_t, uint32_t>>> shots = {
        {"login", {1280, 800}}, {"vms", {1280, 800}},      {"pools", {1280, 800}},
        {"sessions", {1280, 800}}, {"sites", {1280, 800}}, {"phone", {390, 844}}};
    for (const auto& [view, size] : shots) forgetScreenshot(binaryDir() + "/panel-" + view + ".png");
    const std::string log = binaryDir() + "/panel_browser.log";
    const int status = std::system(("node '" + script + "' '" + settings + "' > '" + log + "' 2>&1").c_str());
    INFO(readFile(log));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);

    // What the page did, as the API tells it.
    const auto made = daemon.getJson("/api/v1/vms/panel-made");
    CHECK(jsonString(made["vm"]["owner"]) == "alice");
    CHECK(jsonString(made["vm"]["state"]) == "running");
    CHECK(daemon.call("GET", "/api/v1/vms/panel-gone").status == 404);
    CHECK(daemon.getJson("/api/v1/leases")["leases"].Size() == 0);

    // A blank page of 1280x800 is about 5 KiB as PNG, of 390x844 about 2 KiB; every view here
    // has tables or cards of text.
    for (const auto& [view, size] : shots) checkScreenshot(binaryDir() + "/panel-" + view + ".png", size.first, size.second, 12000);
}
