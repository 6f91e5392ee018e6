// The probe of wave 1, replayed against the real paddockd: what crashed or froze it then must
// now get a clear answer and leave the daemon serving. Each case would fail on the earlier
// server (recursive JSON parse, a worker per kept-alive connection, pongs outside the queue
// limit, no WebSocket caps or keep-alive).
#include "paddockd_fixture.hpp"
#include "raw_client.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace paddock::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const std::string kViewerToken = "hostile-viewer-token-0123456789";
const std::string kOtherToken = "hostile-other-token-0123456789";

DaemonOptions hostileOptions(const std::string& serverYaml = {}) {
    DaemonOptions o;
    o.threads = 4;
    o.tokens = {{"ops", "hostile-admin-token-0123456789", "admin"},
                {"watcher", kViewerToken, "viewer"},
                {"other", kOtherToken, "viewer"}};
    o.server_yaml = serverYaml;
    return o;
}

long rssKib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

// A client frame (masked, as RFC 6455 requires of clients).
std::string clientFrame(uint8_t opcode, const std::string& payload) {
    std::string f;
    f += static_cast<char>(0x80 | opcode);
    if (payload.size() < 126) {
        f += static_cast<char>(0x80 | payload.size());
    } else {
        f += static_cast<char>(0x80 | 126);
        f += static_cast<char>((payload.size() >> 8) & 0xff);
        f += static_cast<char>(payload.size() & 0xff);
    }
    const char mask[4] = {0x12, 0x34, 0x56, 0x78};
    f.append(mask, 4);
    for (size_t i = 0; i < payload.size(); ++i) f += static_cast<char>(payload[i] ^ mask[i % 4]);
    return f;
}

// Opens a WebSocket by hand; the handshake answer is returned (and consumed).
std::string openRaw(RawClient& c, const std::string& path, const std::string& token) {
    c.send("GET " + path +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer " +
           token + "\r\n\r\n");
    return c.response();
}

}  // namespace

TEST_CASE("hostile: a body nested 250,000 deep is a 400 and paddockd goes on", "[hostile]") {
    PaddockdFixture d(hostileOptions());
    for (const char open : {'[', '{'}) {
        std::string body(250000, open);
        if (open == '{') {
            body.clear();
            for (int i = 0; i < 60000; ++i) body += "{\"a\":";
        }
        const auto reply = d.call("POST", "/api/v1/vms", body);
        CHECK(reply.status == 400);
        CHECK_THAT(reply.body, Contains("deeper than 64 levels"));
        REQUIRE(d.running());
    }
    CHECK(d.get("/healthz").status == 200);
}

TEST_CASE("hostile: more idle connections than workers leave the API answering", "[hostile]") {
    PaddockdFixture d(hostileOptions());  // 4 worker threads
    std::vector<std::unique_ptr<RawClient>> idle;
    for (int i = 0; i < 200; ++i) idle.push_back(std::make_unique<RawClient>(d.port()));
    for (int i = 0; i < 16; ++i) idle[i]->send("GET /healthz HTTP/1.1\r\nX-Drip: 1\r\n");  // never finished
    CHECK(d.get("/healthz").status == 200);
    CHECK(d.get("/api/v1/vms").status == 200);
    CHECK(d.metric("paddock_http_open_connections") >= 200);
}

TEST_CASE("hostile: wrong media types, duplicate keys, odd bytes and huge owners get clear 4xx", "[hostile]") {
    PaddockdFixture d(hostileOptions());
    HttpOptions textPlain;
    textPlain.token = d.token();
    textPlain.body = R"({"name":"x","start":false})";
    textPlain.content_type = "text/plain";
    const auto plain = d.request("POST", "/api/v1/vms", textPlain);
    CHECK(plain.status == 415);
    CHECK(plain.errorCode() == "unsupported_media_type");
    CHECK(d.get("/api/v1/vms/x").status == 404);

    const auto duplicate = d.call("POST", "/api/v1/vms", std::string(R"({"name":"a","name":"b","start":false})"));
    CHECK(duplicate.status == 400);
    CHECK_THAT(duplicate.body, Contains("duplicate key 'name'"));

    const auto odd = d.get("/api/v1/vms/%FF%FE%C0");
    CHECK(odd.status == 400);  // not a VM name; the answer stays valid JSON
    CHECK_NOTHROW(odd.json());
    CHECK(odd.body.find('\xff') == std::string::npos);

    const auto huge = d.call("POST", "/api/v1/vms",
                             R"({"name":"owner-big","start":false,"owner":")" + std::string(900 * 1024, 'o') + R"("})");
    CHECK(huge.status == 400);
    CHECK_THAT(huge.body, Contains("owner is longer than 128 bytes"));
    const auto c1 =
        d.call("POST", "/api/v1/vms", std::string("{\"name\":\"owner-c1\",\"start\":false,\"owner\":\"a\xc2\x85z\"}"));
    CHECK(c1.status == 400);
    CHECK_THAT(c1.body, Contains("control characters"));
    CHECK(d.get("/api/v1/vms/owner-c1").status == 404);  // nothing was made
}

TEST_CASE("hostile: pings without reading the pongs do not grow paddockd", "[hostile][websocket]") {
    PaddockdFixture d(hostileOptions());
    RawClient c(d.port());
    REQUIRE_THAT(openRaw(c, "/api/v1/events", kViewerToken), StartsWith("HTTP/1.1 101"));
    const int small = 4096;
    ::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);  // and read nothing
    std::this_thread::sleep_for(300ms);
    const long before = rssKib(d.pid());
    const std::string ping = clientFrame(0x9, std::string(120, 'p'));
    std::string burst;
    for (int i = 0; i < 1000; ++i) burst += ping;
    for (int i = 0; i < 200 && c.send(burst); ++i) {}  // 200,000 pings, 25 MB of them
    std::this_thread::sleep_for(500ms);
    const long after = rssKib(d.pid());
    INFO("RSS before " << before << " KiB, after " << after << " KiB");
    CHECK(after - before < 8 * 1024);
    CHECK(d.get("/healthz").status == 200);
}

TEST_CASE("hostile: WebSockets are capped per token and in total", "[hostile][websocket]") {
    PaddockdFixture d(hostileOptions("  max_websockets: 5\n  max_websockets_per_token: 3\n"));
    std::vector<std::unique_ptr<RawClient>> open;
    for (int i = 0; i < 3; ++i) {
        open.push_back(std::make_unique<RawClient>(d.port()));
        REQUIRE_THAT(openRaw(*open.back(), "/api/v1/events", kViewerToken), StartsWith("HTTP/1.1 101"));
    }
    RawClient fourth(d.port());
    const std::string perToken = openRaw(fourth, "/api/v1/events", kViewerToken);
    CHECK_THAT(perToken, StartsWith("HTTP/1.1 429"));
    CHECK_THAT(perToken, Contains("max_websockets_per_token 3"));
    for (int i = 0; i < 2; ++i) {
        open.push_back(std::make_unique<RawClient>(d.port()));
        REQUIRE_THAT(openRaw(*open.back(), "/api/v1/events", kOtherToken), StartsWith("HTTP/1.1 101"));
    }
    RawClient sixth(d.port());
    CHECK_THAT(openRaw(sixth, "/api/v1/events", kOtherToken), Contains("server.max_websockets 5"));
    open.erase(open.begin());  // one leaves: room again
    std::string again;
    for (int i = 0; i < 100 && again.rfind("HTTP/1.1 101", 0) != 0; ++i) {
        std::this_thread::sleep_for(50ms);
        RawClient next(d.port());
        again = openRaw(next, "/api/v1/events", kOtherToken);
        if (again.rfind("HTTP/1.1 101", 0) == 0) break;
    }
    CHECK_THAT(again, StartsWith("HTTP/1.1 101"));
    CHECK(d.metric("paddock_websocket_dropped_total{reason=\"cap\",route=\"/api/v1/events\"}") <= 1);
}

TEST_CASE("hostile: silent WebSockets are pinged and then closed, answering ones stay", "[hostile][websocket]") {
    PaddockdFixture d(hostileOptions("  websocket_ping_interval_s: 1\n  websocket_idle_timeout_s: 3\n"));
    RawClient silent(d.port()), alive(d.port());
    REQUIRE_THAT(openRaw(silent, "/api/v1/events", kViewerToken), StartsWith("HTTP/1.1 101"));
    REQUIRE_THAT(openRaw(alive, "/api/v1/events", kOtherToken), StartsWith("HTTP/1.1 101"));
    // `alive` answers every ping with a pong, as a browser does, for as long as the test runs (a
    // pause in answering longer than the idle timeout on a loaded machine would get it dropped
    // too); `silent` answers nothing.
    size_t answered = 0;
    const auto answerPings = [&](std::chrono::milliseconds during) {
        const auto start = std::chrono::steady_clock::now();
        while (std::chrono::steady_clock::now() - start < during) {
            const std::string seen = alive.read(200ms);
            for (size_t at = seen.find('\x89', answered); at != std::string::npos; at = seen.find('\x89', at + 1)) {
                alive.send(clientFrame(0xA, "paddock"));
                answered = at + 1;
            }
        }
    };
    answerPings(6s);
    CHECK(answered > 0);  // it was pinged
    bool silentClosed = false;
    for (int i = 0; i < 50 && !(silentClosed = silent.closedByPeer(50ms)); ++i) answerPings(200ms);
    CHECK(silentClosed);  // closed for silence
    CHECK_THAT(silent.read(0ms), Contains("no answer to pings"));
    // An unsolicited pong (RFC 6455 5.5.3) counts as hearing from it too.
    REQUIRE(alive.send(clientFrame(0xA, "paddock")));
    CHECK(d.metric("paddock_websocket_dropped_total{reason=\"idle_timeout\",route=\"/api/v1/events\"}") == 1);
    CHECK_FALSE(alive.closedByPeer(500ms));
}

TEST_CASE("server.allowed_hosts refuses requests addressed to another name (DNS rebinding)", "[hostile][hosts]") {
    PaddockdFixture d(hostileOptions("  allowed_hosts: [paddock.test, \"127.0.0.1:1\"]\n"));
    const auto statusFor = [&](const std::string& head) {
        RawClient c(d.port());
        REQUIRE(c.send(head));
        const std::string answer = c.response();
        return answer.size() > 12 ? std::stoi(answer.substr(9, 3)) : 0;
    };
    const std::string port = std::to_string(d.port());
    CHECK(statusFor("GET /healthz HTTP/1.1\r\nHost: paddock.test\r\n\r\n") == 200);
    CHECK(statusFor("GET /healthz HTTP/1.1\r\nHost: PADDOCK.test:" + port + "\r\n\r\n") == 200);
    CHECK(statusFor("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n") == 200);
    CHECK(statusFor("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n") ==
          400);  // that entry names a port
    CHECK(statusFor("GET /healthz HTTP/1.1\r\nHost: evil.test\r\n\r\n") == 400);
    CHECK(statusFor("GET /healthz HTTP/1.1\r\nHost: paddock.test.evil.test\r\n\r\n") == 400);
    CHECK(statusFor("GET /healthz HTTP/1.0\r\n\r\n") == 400);  // no Host at all
    CHECK(statusFor("GET /healthz HTTP/1.1\r\nHost: \r\n\r\n") == 400);
    CHECK(statusFor("GET /healthz HTTP/1.1\r\nHost: :" + port + "\r\n\r\n") == 400);
    // A rebinding page is same-origin to the browser: Origin and Host both say evil.test.
    CHECK(
        statusFor(
            "GET /api/v1/events?access_token=" + kViewerToken +
            " HTTP/1.1\r\nHost: evil.test\r\nOrigin: http://evil.test\r\nConnection: Upgrade\r\n"
            "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n") ==
        400);
    CHECK(
        statusFor(
            "GET /api/v1/events?access_token=" + kViewerToken +
            " HTTP/1.1\r\nHost: paddock.test\r\nOrigin: http://paddock.test\r\nConnection: Upgrade\r\n"
            "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n") ==
        101);
}
