// The exhibit panel in a real browser: paddockd on test:///default with two running VMs, one
// with the snapshot "ready" and one without, and tests/browser/exhibit_test.js driving the
// system Chromium headless through /ui/exhibit with an operator token. The screenshots land in
// the build directory (exhibit_desktop.png, exhibit_phone.png), made anew by every run.
#include "paddockd_fixture.hpp"
#include "screenshot.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

using namespace paddock::test;

namespace {

const std::string kAdmin = "exhibit-admin-token-0123456789";
const std::string kStaff = "exhibit-staff-token-0123456789";

}  // namespace

TEST_CASE("the exhibit panel shows a watched VM's heartbeats and works its controls", "[browser][watch]") {
    const std::string script = sourceDir() + "/tests/browser/exhibit_test.js";
    {
        INFO("playwright-core is missing: run scripts/setup.sh (npm install in tests/browser)");
        REQUIRE(std::filesystem::exists(sourceDir() + "/tests/browser/node_modules/playwright-core"));
    }

    DaemonOptions options;
    options.tokens = {{"admin", kAdmin, "admin"}, {"staff", kStaff, "operator"}};
    SiteOptions& site = options.sites.front();
    site.storage_pool = "default-pool";
    site.stop_timeout_s = 5;
    TemplateOptions artwork;
    artwork.name = "artwork";
    site.templates = {artwork};
    PaddockdFixture daemon(options);

    // The page holds no secret: it is served without a token, never cached.
    const auto page = daemon.call("GET", "/ui/exhibit", std::nullopt, "");
    REQUIRE(page.status == 200);
    CHECK(page.content_type.rfind("text/html", 0) == 0);
    CHECK(page.header("Cache-Control") == "no-store");
    CHECK(page.header("Referrer-Policy") == "no-referrer");

    for (const char* name : {"exhibit-main", "exhibit-bare"}) {
        const auto made = daemon.call("POST", "/api/v1/vms",
                                      std::string(R"({"name":")") + name + R"(","template":"artwork"})", kAdmin);
        INFO(made.body);
        REQUIRE(made.status == 201);
        REQUIRE(jsonString(made.json()["vm"]["state"]) == "running");
    }
    const auto ready = daemon.call("POST", "/api/v1/vms/exhibit-main/snapshots", R"({"name":"ready"})", kStaff);
    INFO(ready.body);
    REQUIRE(ready.status == 201);

    const std::string desktop = binaryDir() + "/exhibit_desktop.png";
    const std::string phone = binaryDir() + "/exhibit_phone.png";
    const std::string log = binaryDir() + "/exhibit_browser.log";
    forgetScreenshot(desktop);
    forgetScreenshot(phone);
    const int status = std::system(("node '" + script + "' '" + daemon.baseUrl() + "' exhibit-main exhibit-bare '" +
                                    kStaff + "' '" + desktop + "' '" + phone + "' > '" + log + "' 2>&1")
                                       .c_str());
    INFO(readFile(log));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);

    // What the page did, as the API tells it.
    auto watch = daemon.getJson("/api/v1/vms/exhibit-main/watch");
    CHECK(watch["watched"].GetBool());
    CHECK(watch["auto_revert"].GetBool());
    CHECK(watch["heartbeats"].Size() >= 4);
    CHECK(watch["decisions"].Size() >= 2);
    CHECK(jsonString(daemon.getJson("/api/v1/vms/exhibit-main")["vm"]["state"]) == "running");
    CHECK_FALSE(daemon.getJson("/api/v1/vms/exhibit-bare/watch")["watched"].GetBool());

    // chromium_page.js's viewport, then a phone's. A blank page is about 3 KiB (desktop) and
    // 2 KiB (phone) as PNG; the panel with its cards, timeline and decisions is far more.
    checkScreenshot(desktop, 1000, 700, 8192);
    checkScreenshot(phone, 390, 844, 8192);
}
