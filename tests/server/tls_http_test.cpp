// paddockd with server.tls, from outside: curl with the test's CA for HTTPS, Poco for WSS, raw
// sockets for clients that speak plain HTTP, break the handshake or stall in it; the startup
// checks (files, the warning for clear text beyond loopback).
#include "daemon_process.hpp"
#include "paddockd_fixture.hpp"
#include "raw_client.hpp"
#include "terminal_client.hpp"
#include "test_support.hpp"
#include "test_tls.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

using namespace paddock::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const std::string kAdminToken = "tls-admin-token-0123456789";
const std::string kViewerToken = "tls-viewer-token-0123456789";

DaemonOptions tlsOptions(const std::string& serverYaml = {}) {
    DaemonOptions o;
    o.tls = true;
    o.threads = 2;
    o.tokens = {{"ops", kAdminToken, "admin"}, {"watcher", kViewerToken, "viewer"}};
    o.server_yaml = serverYaml;
    return o;
}

// The first bytes of a TLS ClientHello record announcing 512 bytes, of which none follow.
const std::string kPartialClientHello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);

// `curl <args>` printing "<status> <body>"; curl's own error text (stderr) when it fails.
std::string curl(const std::string& args) {
    return commandOutput("curl -sS --max-time 60 -w ' %{http_code}' " + args + " 2>&1");
}

}  // namespace

TEST_CASE("https: curl with the test CA reaches /healthz and an authenticated POST; plain HTTP gets a clear 400",
          "[tls]") {
    PaddockdFixture d(tlsOptions());
    const std::string ca = "--cacert '" + d.caFile() + "' ";
    CHECK_THAT(curl(ca + d.baseUrl() + "/healthz"), StartsWith("{\"status\":\"ok\"") && Contains(" 200"));
    const std::string created =
        curl(ca + "-H 'Authorization: Bearer " + kAdminToken +
             "' -H 'Content-Type: application/json' -d '{\"name\":\"over-tls\",\"start\":false}' " + d.baseUrl() +
             "/api/v1/vms");
    CHECK_THAT(created, Contains("\"name\":\"over-tls\"") && Contains(" 201"));
    CHECK_THAT(curl(ca + d.baseUrl() + "/api/v1/vms/over-tls"), Contains(" 401"));  // TLS is no credential
    // Without the CA curl refuses the certificate: it really is the test's own.
    CHECK_THAT(curl(d.baseUrl() + "/healthz"), Contains("certificate"));
    // TLS 1.1 and older are refused.
    CHECK_THAT(curl(ca + "--tlsv1.0 --tls-max 1.1 " + d.baseUrl() + "/healthz"), Contains(" 000"));

    // A plain-HTTP client on the TLS port learns why, in plain HTTP, and paddockd goes on.
    const std::string plain = curl("http://127.0.0.1:" + std::to_string(d.port()) + "/healthz");
    CHECK_THAT(plain, Contains("HTTPS only") && Contains(" 400"));
    CHECK(d.running());
    CHECK(d.get("/healthz").status == 200);
    CHECK(d.metric("paddock_http_tls_handshake_failures_total{reason=\"plaintext\"}") == 1);
    CHECK(d.metric("paddock_http_tls_handshake_failures_total{reason=\"protocol\"}") >= 1);  // the TLS 1.1 attempt
}

TEST_CASE("https: broken and stalled handshakes hold nothing up and are counted", "[tls][hostile]") {
    PaddockdFixture d(tlsOptions("  head_timeout_s: 2\n"));  // 2 workers, 2 s to finish a handshake
    std::vector<std::unique_ptr<RawClient>> stalled;
    for (int i = 0; i < 64; ++i) {
        stalled.push_back(std::make_unique<RawClient>(d.port()));
        stalled.back()->send(kPartialClientHello);
    }
    std::vector<std::unique_ptr<RawClient>> junk;
    for (int i = 0; i < 4; ++i) {
        junk.push_back(std::make_unique<RawClient>(d.port()));
        junk.back()->send(std::string("\x16\x03\x01\x00\x09", 5) + "not-hello");
    }
    // While 64 clients hang mid-handshake, HTTPS requests, with and without a token, are served.
    CHECK(d.get("/api/v1/vms").status == 200);
    CHECK(d.request("GET", "/healthz").status == 200);
    for (auto& client : junk) CHECK(client->closedByPeer(10s));
    for (auto& client : stalled) CHECK(client->closedByPeer(30s));
    CHECK(d.metric("paddock_http_tls_handshake_failures_total{reason=\"timeout\"}") >= 64);
    CHECK(d.metric("paddock_http_tls_handshake_failures_total{reason=\"protocol\"}") == 4);
    CHECK(d.metric("paddock_http_timeouts_total{phase=\"handshake\"}") >= 64);
    CHECK(d.get("/healthz").status == 200);
}

TEST_CASE("wss: event streams run over TLS, and the hub's pings and closes do too", "[tls][websocket]") {
    PaddockdFixture d(tlsOptions("  websocket_ping_interval_s: 1\n  websocket_idle_timeout_s: 3\n"));
    {
        // (TerminalClient reads any WebSocket's text frames and answers pings, as a browser does.)
        TerminalClient events(d.openWebSocket("/api/v1/events", kViewerToken));
        REQUIRE(d.post("/api/v1/vms", std::string(R"({"name":"wss-vm","start":true})")).status == 201);
        std::string frame;
        for (int i = 0; i < 20 && frame.find("wss-vm") == std::string::npos; ++i)
            frame = events.nextControl(30s).value_or("");
        CHECK_THAT(frame, Contains("\"type\":\"event\"") && Contains("\"vm\":\"wss-vm\""));

        TerminalClient status(d.openWebSocket("/api/v1/vms/wss-vm/status", kViewerToken));
        CHECK_THAT(status.nextControl(30s).value_or(""),
                   Contains("\"type\":\"status\"") && Contains("\"name\":\"wss-vm\""));
    }  // (these clients stop reading now: they leave rather than be reaped as silent)

    // A TLS WebSocket that never answers pings is closed with its reason, through TLS.
    RawClient silent(d.port(), d.caFile());
    REQUIRE(silent.connected());
    silent.send(
        "GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer " +
        kAdminToken + "\r\n\r\n");
    REQUIRE_THAT(silent.response(), StartsWith("HTTP/1.1 101"));
    CHECK(silent.closedByPeer(30s));
    CHECK_THAT(silent.read(0ms), Contains("no answer to pings"));
    CHECK(d.metric("paddock_websocket_dropped_total{reason=\"idle_timeout\",route=\"/api/v1/events\"}") == 1);
}

TEST_CASE(
    "console urls: https/wss from the listening address; forwarded headers from trusted proxies only; public_url first",
    "[tls][console]") {
    // POST /api/v1/vms/{vm}/console with `headers`: (websocket_url, console_url).
    const auto urls = [](const PaddockdFixture& d, const std::vector<std::pair<std::string, std::string>>& headers) {
        HttpOptions o;
        o.token = kAdminToken;
        o.body = "";
        o.headers = headers;
        const HttpReply reply = d.request("POST", "/api/v1/vms/url-vm/console", o);
        REQUIRE(reply.status == 201);
        const auto json = reply.json();
        return std::make_pair(std::string(json["websocket_url"].GetString()),
                              std::string(json["console_url"].GetString()));
    };
    const std::vector<std::pair<std::string, std::string>> forwarded{
        {"Host", "evil.example.org"}, {"X-Forwarded-Proto", "http"}, {"X-Forwarded-Host", "proxy.example.org"}};
    {
        // No proxy is trusted: the headers and the client's Host are ignored.
        PaddockdFixture d(tlsOptions());
        REQUIRE(d.post("/api/v1/vms", std::string(R"({"name":"url-vm","start":false})")).status == 201);
        const auto [ws, page] = urls(d, forwarded);
        const std::string authority = "127.0.0.1:" + std::to_string(d.port());
        CHECK_THAT(ws, StartsWith("wss://" + authority + "/api/v1/vms/url-vm/terminal?ticket="));
        CHECK_THAT(page, StartsWith("https://" + authority + "/console/url-vm?ticket="));
    }
    {
        // The test talks from 127.0.0.1, a trusted proxy here: its headers are believed.
        PaddockdFixture d(tlsOptions("  trusted_proxies: [127.0.0.1]\n"));
        REQUIRE(d.post("/api/v1/vms", std::string(R"({"name":"url-vm","start":false})")).status == 201);
        const auto [ws, page] = urls(d, forwarded);
        CHECK_THAT(ws, StartsWith("ws://proxy.example.org/api/v1/vms/url-vm/terminal?ticket="));
        CHECK_THAT(page, StartsWith("http://proxy.example.org/console/url-vm?ticket="));
    }
    {
        PaddockdFixture d(
            tlsOptions("  public_url: https://lab.example.org/paddock\n  trusted_proxies: [127.0.0.1]\n"));
        REQUIRE(d.post("/api/v1/vms", std::string(R"({"name":"url-vm","start":false})")).status == 201);
        const auto [ws, page] = urls(d, forwarded);
        CHECK_THAT(ws, StartsWith("wss://lab.example.org/paddock/api/v1/vms/url-vm/terminal?ticket="));
        CHECK_THAT(page, StartsWith("https://lab.example.org/paddock/console/url-vm?ticket="));
    }
}

TEST_CASE("startup: clear text beyond loopback is warned about; TLS files are checked, naming the key",
          "[tls][config]") {
    // Binding the wildcard address for a moment: the test still talks to 127.0.0.1 only.
    DaemonOptions wide;
    wide.host = "0.0.0.0";
    wide.tokens = {{"ops", kAdminToken, "admin"}};
    {
        PaddockdFixture d(wide);
        CHECK_THAT(d.log(), Contains("beyond loopback without TLS"));
    }
    wide.tls = true;
    {
        PaddockdFixture d(wide);
        CHECK_THAT(d.log(), !Contains("beyond loopback"));
        CHECK_THAT(d.log(), Contains("TLS: certificate /CN=127.0.0.1"));
    }
    {
        PaddockdFixture d(tlsOptions());
        CHECK_THAT(d.log(), !Contains("beyond loopback"));
    }

    DaemonOptions broken;
    broken.start = false;
    PaddockdFixture files(broken);
    const auto real = makeTestCertificate(files.dir().path(), "real");
    const std::string junk = files.dir().file("junk.pem");
    writeFile(junk, "not a certificate\n");
    // paddockd (and --check-config) with `tlsYaml` as server.tls: exit code and output.
    const auto runWith = [&](const std::string& tlsYaml, bool checkOnly) {
        DaemonOptions o = broken;
        o.server_yaml = tlsYaml;
        writeFile(files.configPath(), paddockdConfigYaml(o, files.port(), files.dir().path()));
        std::string output;
        const int code = checkOnly ? runToCompletion({paddockdPath(), "--config", files.configPath(), "--check-config"},
                                                     output, files.dir().file("check.log"))
                                   : files.runOnce(output);
        return std::make_pair(code, output);
    };
    for (const bool checkOnly : {false, true}) {
        INFO("--check-config: " << checkOnly);
        auto [code, output] = runWith("  tls: {cert: " + junk + ", key: " + real.key + "}\n", checkOnly);
        CHECK(code == 2);
        CHECK_THAT(output, Contains("server.tls.cert: cannot use '" + junk + "'"));
        std::tie(code, output) = runWith("  tls: {cert: " + real.cert + ", key: " + junk + "}\n", checkOnly);
        CHECK(code == 2);
        CHECK_THAT(output, Contains("server.tls.key: "));
        std::tie(code, output) = runWith("  tls: {cert: " + real.cert + "}\n", checkOnly);
        CHECK(code == 2);
        CHECK_THAT(output, Contains("server.tls.key: required when server.tls.cert is set"));
        std::tie(code, output) =
            runWith("  tls: {cert: " + files.dir().file("absent.pem") + ", key: " + real.key + "}\n", checkOnly);
        CHECK(code == 2);
        CHECK_THAT(output, Contains("server.tls.cert: cannot read") && Contains("No such file"));
    }
    auto [code, output] = runWith("  tls: {cert: " + real.cert + ", key: " + real.key + "}\n", true);
    CHECK(code == 0);
    CHECK_THAT(output, Contains("(TLS)"));
}
