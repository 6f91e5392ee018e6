// The session replay page in a real browser: paddockd with a cast in its recording directory,
// and tests/browser/replay_test.js driving the system Chromium headless through
// /sessions/{id}?access_token=... The screenshot lands in the build directory (replay_browser.png).
#include "daemon_process.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

using namespace paddock::test;

TEST_CASE("the replay page plays a recorded session with asciinema-player", "[browser][recording]") {
    const std::string script = sourceDir() + "/tests/browser/replay_test.js";
    INFO("playwright-core is missing: run scripts/setup.sh (npm install in tests/browser)");
    REQUIRE(std::filesystem::exists(sourceDir() + "/tests/browser/node_modules/playwright-core"));

    TempDir dir;
    const uint16_t port = freeLoopbackPort();
    const std::string token = "replay-browser-token-0123456789";
    writeFile(dir.file("paddock.yaml"),
              "server: {host: 127.0.0.1, port: " + std::to_string(port) + "}\n"
              "paths: {state_dir: " + dir.file("state") + ", log_dir: " + dir.file("logs") +
              ", plugin_dirs: [" + pluginDir() + "], web_dir: " + sourceDir() + "/server/web}\n"
              "auth:\n  mode: token\n  tokens: [{name: viewer, token: " + token + ", role: viewer}]\n"
              "recording: {directory: " + dir.file("casts") + "}\n"
              "sites:\n  - name: local\n    uri: test:///default\n    network_mode: none\n");
    DaemonProcess daemon({PADDOCKD_PATH, "--config", dir.file("paddock.yaml")}, dir.file("paddockd.log"), port);
    writeFile(dir.file("casts/s-replay.cast"),
              "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": 1714557600, \"env\": {\"TERM\": "
              "\"xterm-256color\", \"SHELL\": \"/bin/bash\"}, \"vm\": \"vm-a\", \"owner\": \"alice\"}\n"
              "[0.100000, \"o\", \"hello \\u001b[1mworld\\u001b[0m caf\\u00e9\\r\\n\"]\n"
              "[2.500000, \"r\", \"100x30\"]\n"
              "[7.250000, \"o\", \"bye\\r\\n\"]\n");

    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/sessions/s-replay?access_token=" + token;
    const std::string screenshot = binaryDir() + "/replay_browser.png";
    const std::string log = binaryDir() + "/replay_browser.log";
    const int status = std::system(("node '" + script + "' '" + url + "' '" + screenshot +
                                    "' 'hello world caf\xC3\xA9' 'bye' > '" + log + "' 2>&1").c_str());
    INFO(readFile(log));
    INFO(daemon.log());
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(std::filesystem::exists(screenshot));
}
