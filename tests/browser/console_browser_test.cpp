// The web console in a real browser: paddockd + a private sshd (TerminalSite), a console ticket,
// and tests/browser/console_test.js driving the system Chromium headless through /console/{name}.
// The screenshot lands in the build directory (console_browser.png).
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
    const int status = std::system(("node '" + script + "' '" + url + "' '" + screenshot + "' > '" + log + "' 2>&1").c_str());
    INFO(readFile(log));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(std::filesystem::exists(screenshot));
}
