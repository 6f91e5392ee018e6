// Recorded sessions over HTTP through the real paddockd: the listing (read from the cast files
// in the configured directory), filters, the cast download, the replay page and its assets,
// ids that try to leave the directory, metrics, and startup without the recorder plugin.
#include "paddockd_fixture.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace paddock::test;

namespace {

const std::string kToken = "session-http-token-0123456789";

const std::string kCastA =
    "{\"version\": 2, \"width\": 120, \"height\": 40, \"timestamp\": 1714557600, \"env\": {\"TERM\": "
    "\"xterm-256color\", \"SHELL\": \"/bin/bash\"}, \"title\": \"vm-a (s-a)\", \"site\": \"local\", \"vm\": "
    "\"vm-a\", \"owner\": \"alice\", \"lease\": \"lease-1\"}\n"
    "[0.100000, \"o\", \"hello \\u001b[1mworld\\u001b[0m\\r\\n\"]\n"
    "[2.500000, \"r\", \"100x30\"]\n"
    "[7.250000, \"o\", \"bye\\r\\n\"]\n";

const std::string kCastB =
    "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": 1714644000, \"env\": {\"TERM\": \"xterm\", "
    "\"SHELL\": \"/bin/sh\"}, \"vm\": \"vm-b\", \"owner\": \"bob\"}\n"
    "[1.000000, \"o\", \"$ \"]\n";

// paddockd with one test:///default site, a viewer token, and casts in <its dir>/casts.
class SessionDaemon : public PaddockdFixture {
public:
    explicit SessionDaemon(std::optional<bool> recordingEnabled = std::nullopt)
        : PaddockdFixture(options(recordingEnabled)) {}

    // GET with the viewer token, or with none.
    HttpReply get(const std::string& path, bool withToken = true) const {
        return call("GET", path, std::nullopt, withToken ? std::nullopt : std::optional<std::string>(""));
    }

private:
    static DaemonOptions options(std::optional<bool> recordingEnabled) {
        DaemonOptions options;
        options.tokens = {{"viewer-app", kToken, "viewer"}};
        options.recording_directory = "casts";
        options.recording_enabled = recordingEnabled;
        return options;
    }
};

}  // namespace

TEST_CASE("sessions over HTTP: list, filters, cast download, replay page", "[session][http]") {
    SessionDaemon d;
    // paddockd created the directory at startup; the casts are written afterwards, since the
    // listing reads the directory on every request.
    writeFile(d.recordingDir() + "/s-a.cast", kCastA);
    writeFile(d.recordingDir() + "/s-b.cast", kCastB);
    writeFile(d.recordingDir() + "/notes.txt", "not a cast");

    auto list = d.get("/api/v1/sessions");
    REQUIRE(list.status == 200);
    auto doc = list.json();
    CHECK(doc["recording_enabled"].GetBool());
    REQUIRE(doc["sessions"].Size() == 2);
    const auto& b = doc["sessions"][0];  // newest first
    const auto& a = doc["sessions"][1];
    CHECK(jsonString(b["id"]) == "s-b");
    CHECK(b["lease"].IsNull());
    CHECK(b["site"].IsNull());
    CHECK(jsonString(a["id"]) == "s-a");
    CHECK(jsonString(a["site"]) == "local");
    CHECK(jsonString(a["vm"]) == "vm-a");
    CHECK(jsonString(a["owner"]) == "alice");
    CHECK(jsonString(a["lease"]) == "lease-1");
    CHECK(jsonString(a["started_at"]) == "2024-05-01T10:00:00Z");
    CHECK(a["duration_s"].GetDouble() == Approx(7.25));
    CHECK(a["bytes"].GetUint64() == kCastA.size());
    CHECK_FALSE(a["active"].GetBool());
    CHECK(jsonString(a["cast_url"]) == "/api/v1/sessions/s-a/cast");
    CHECK(jsonString(a["replay_url"]) == "/sessions/s-a");

    auto byVm = d.get("/api/v1/sessions?vm=vm-b").json();
    REQUIRE(byVm["sessions"].Size() == 1);
    CHECK(jsonString(byVm["sessions"][0]["id"]) == "s-b");
    auto byOwner = d.get("/api/v1/sessions?owner=alice").json();
    REQUIRE(byOwner["sessions"].Size() == 1);
    CHECK(jsonString(byOwner["sessions"][0]["id"]) == "s-a");
    CHECK(d.get("/api/v1/sessions?vm=vm-a&owner=bob").json()["sessions"].Size() == 0);

    auto cast = d.get("/api/v1/sessions/s-a/cast");
    REQUIRE(cast.status == 200);
    CHECK(cast.content_type == "application/x-asciicast");
    CHECK(cast.body == kCastA);
    CHECK(cast.headers["Cache-Control"] == "no-store");

    auto unknown = d.get("/api/v1/sessions/s-zzz/cast");
    CHECK(unknown.status == 404);
    CHECK(unknown.errorCode() == "not_found");

    // A token is needed for the listing and the casts, not for the page.
    CHECK(d.get("/api/v1/sessions", false).status == 401);
    CHECK(d.get("/api/v1/sessions/s-a/cast", false).status == 401);
    auto page = d.get("/sessions/s-a", false);
    REQUIRE(page.status == 200);
    CHECK(page.content_type.rfind("text/html", 0) == 0);
    CHECK(page.body.find("/static/asciinema-player/asciinema-player.min.js") != std::string::npos);
    CHECK(page.body.find("/api/v1/sessions/") != std::string::npos);
    CHECK(page.headers["Cache-Control"] == "no-store");
    CHECK(page.headers["Referrer-Policy"] == "no-referrer");
    auto js = d.get("/static/asciinema-player/asciinema-player.min.js", false);
    REQUIRE(js.status == 200);
    CHECK(js.content_type.rfind("application/javascript", 0) == 0);
    CHECK(js.body.find("AsciinemaPlayer") != std::string::npos);
    auto css = d.get("/static/asciinema-player/asciinema-player.css", false);
    REQUIRE(css.status == 200);
    CHECK(css.content_type.rfind("text/css", 0) == 0);
    CHECK(d.get("/static/asciinema-player/nope.js", false).status == 404);

    auto metrics = d.get("/metrics", false);
    REQUIRE(metrics.status == 200);
    CHECK(metricValue(metrics.body, "paddock_recordings_active") == 0);
    CHECK(metrics.body.find("paddock_recording_bytes_total") != std::string::npos);
}

TEST_CASE("sessions over HTTP: ids cannot leave the recording directory", "[session][http]") {
    SessionDaemon d;
    writeFile(d.recordingDir() + "/s-a.cast", kCastA);
    writeFile(d.dir().file("secret.cast"), kCastB);  // one level above the cast directory
    writeFile(d.dir().file("logs/secret.cast"), kCastB);

    // A decoded slash takes the path off the route (404 "no route for"); an id the route does
    // get is refused when it is not one (400), or is simply not there (404).
    const std::vector<std::pair<std::string, int>> attempts = {
        {"/api/v1/sessions/..%2Fsecret/cast", 404},      {"/api/v1/sessions/%2e%2e%2Fsecret/cast", 404},
        {"/api/v1/sessions/..%2F..%2Fsecret/cast", 404}, {"/api/v1/sessions/%2e%2e/cast", 400},
        {"/api/v1/sessions/.hidden/cast", 400},          {"/api/v1/sessions/s-a.cast/cast", 404},
        {"/api/v1/sessions/s-a%00/cast", 400},           {"/api/v1/sessions/%2Fetc%2Fpasswd/cast", 404}};
    for (const auto& [path, status] : attempts) {
        INFO(path);
        auto reply = d.get(path);
        CHECK(reply.status == status);
        CHECK(reply.body.find("\"version\"") == std::string::npos);
    }
    // The only cast there is stays reachable.
    CHECK(d.get("/api/v1/sessions/s-a/cast").status == 200);
}

TEST_CASE("sessions over HTTP: a long cast is streamed whole, piece by piece", "[session][http]") {
    SessionDaemon d;
    std::string cast = kCastA;
    for (int i = 0; cast.size() < 1024 * 1024; ++i)
        cast += "[" + std::to_string(8 + i) + ".000000, \"o\", \"" + std::string(200, 'a' + i % 26) + "\\r\\n\"]\n";
    writeFile(d.recordingDir() + "/s-long.cast", cast);
    auto reply = d.get("/api/v1/sessions/s-long/cast");
    REQUIRE(reply.status == 200);
    CHECK(reply.headers["Transfer-Encoding"] == "chunked");  // never read whole into memory
    CHECK(reply.headers.count("Content-Length") == 0);
    CHECK(reply.content_type == "application/x-asciicast");
    CHECK(reply.body == cast);
    CHECK(d.get("/healthz", false).status == 200);
}

TEST_CASE("sessions over HTTP: disabled recording still lists earlier casts", "[session][http]") {
    SessionDaemon d(false);
    std::filesystem::create_directories(d.recordingDir());  // nothing creates it while recording is off
    writeFile(d.recordingDir() + "/s-b.cast", kCastB);
    auto doc = d.get("/api/v1/sessions").json();
    CHECK_FALSE(doc["recording_enabled"].GetBool());
    REQUIRE(doc["sessions"].Size() == 1);
    CHECK(d.get("/api/v1/sessions/s-b/cast").body == kCastB);
}

TEST_CASE("paddockd refuses to start when the recorder plugin is missing", "[session][http]") {
    DaemonOptions options;
    options.recording_plugin = "org.example.no-such-recorder";
    options.sites.front().network_mode.clear();
    options.start = false;
    PaddockdFixture d(options);
    std::string output;
    CHECK(d.runOnce(output) != 0);
    CHECK_THAT(output, Catch::Contains("recording.plugin") &&
                           Catch::Contains("no recorder plugin with id 'org.example.no-such-recorder'") &&
                           Catch::Contains("org.paddock.asciinema"));
}
