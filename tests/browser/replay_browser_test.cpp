// The session replay page in a real browser: paddockd with a cast in its recording directory,
// and tests/browser/replay_test.js driving the system Chromium headless through
// /sessions/{id}?access_token=... The screenshot lands in the build directory (replay_browser.png),
// made anew by every run.
#include "paddockd_fixture.hpp"
#include "screenshot.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

using namespace paddock::test;

TEST_CASE("the replay page plays a recorded session with asciinema-player", "[browser][recording]") {
    const std::string script = sourceDir() + "/tests/browser/replay_test.js";
    {
        INFO("playwright-core is missing: run scripts/setup.sh (npm install in tests/browser)");
        REQUIRE(std::filesystem::exists(sourceDir() + "/tests/browser/node_modules/playwright-core"));
    }

    DaemonOptions options;
    options.tokens = {{"viewer", "replay-browser-token-0123456789", "viewer"}};
    options.recording_directory = "casts";
    PaddockdFixture daemon(options);
    writeFile(daemon.recordingDir() + "/s-replay.cast",
              "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": 1714557600, \"env\": {\"TERM\": "
              "\"xterm-256color\", \"SHELL\": \"/bin/bash\"}, \"vm\": \"vm-a\", \"owner\": \"alice\"}\n"
              "[0.100000, \"o\", \"hello \\u001b[1mworld\\u001b[0m caf\\u00e9\\r\\n\"]\n"
              "[2.500000, \"r\", \"100x30\"]\n"
              "[7.250000, \"o\", \"bye\\r\\n\"]\n");

    const std::string url =
        "http://127.0.0.1:" + std::to_string(daemon.port()) + "/sessions/s-replay?access_token=" + daemon.token();
    const std::string screenshot = binaryDir() + "/replay_browser.png";
    const std::string log = binaryDir() + "/replay_browser.log";
    forgetScreenshot(screenshot);
    const int status = std::system(("node '" + script + "' '" + url + "' '" + screenshot +
                                    "' 'hello world caf\xC3\xA9' 'bye' > '" + log + "' 2>&1").c_str());
    INFO(readFile(log));
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    // chromium_page.js's viewport. A blank page of that size is about 3 KiB as PNG; the player
    // with the cast's text is about 15 KiB here.
    checkScreenshot(screenshot, 1000, 700, 8192);
}
