// The web console in a real browser: paddockd + a private sshd (TerminalSite), a console ticket,
// and tests/browser/console_test.js driving the system Chromium headless through /console/{name}.
// The screenshot lands in the build directory (console_browser.png), made anew by every run.
#include "screenshot.hpp"
#include "terminal_site.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

using namespace paddock::test;

TEST_CASE("the web console connects with a ticket, runs a command and follows the window size", "[browser]") {
    const std::string script = sourceDir() + "/tests/browser/console_test.js";
    {
        INFO("playwright-core is missing: run scripts/setup.sh (npm install in tests/browser)");
        REQUIRE(std::filesystem::exists(sourceDir() + "/tests/browser/node_modules/playwright-core"));
    }

    TerminalSite site;
    const auto console = site.console();
    const std::string url = console["console_url"].GetString();
    const std::string screenshot = binaryDir() + "/console_browser.png";
    const std::string log = binaryDir() + "/console_browser.log";
    forgetScreenshot(screenshot);
    const int status = std::system(("node '" + script + "' '" + url + "' '" + screenshot + "' > '" + log + "' 2>&1").c_str());
    INFO(readFile(log));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    // Taken after the window shrank to 640x420 (console_test.js). A blank page of that size is
    // under 1 KiB as PNG; the terminal with its text is about 5 KiB here.
    checkScreenshot(screenshot, 640, 420, 2048);
}
