// The connection server on loopback with a small handler: idle and slow clients hold no worker,
// every phase has a deadline, connections are capped, and HTTP framing (pipelining, chunked
// bodies, 100-continue, HEAD, upgrades) works over real sockets. Deadlines are set short so the
// tests wait little; nothing asserts that anything was fast.
#include "paddock/server/http_server.hpp"

#include "paddock/server/error_mapping.hpp"
#include "raw_client.hpp"
#include "test_support.hpp"

#include <Poco/Net/ServerSocket.h>
#include <catch2/catch.hpp>
#include <prometheus/registry.h>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace paddock;
using namespace paddock::server;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using paddock::test::RawClient;

namespace {

// Answers every request with "<method> <target> <body>"; /block waits until released; /upgrade
// accepts a WebSocket; admit() refuses /refuse.
class EchoHandler : public RequestHandler {
public:
    bool admit(HttpExchange& x) override {
        if (x.head.target == "/refuse") {
            x.response = jsonResponse(403, R"({"refused":true})");
            return false;
        }
        return true;
    }
    void invoke(HttpExchange& x) override {
        const int now = ++running;
        int seen = maxRunning.load();
        while (now > seen && !maxRunning.compare_exchange_weak(seen, now)) {}
        if (x.head.target == "/block") {
            std::unique_lock lock(mutex);
            ++blocked;
            changed.notify_all();
            changed.wait(lock, [&] { return released; });
        }
        if (x.head.target == "/upgrade") {
            x.response.upgrade = [this](Poco::Net::StreamSocket& socket) {
                std::lock_guard lock(mutex);
                upgraded.push_back(socket);
                changed.notify_all();
            };
        } else if (x.head.target == "/big") {
            x.response = jsonResponse(200, std::string(8 * 1024 * 1024, 'x'));
        } else {
            x.response = jsonResponse(200, x.head.method + " " + x.head.target + " " + x.request.body);
        }
        --running;
    }
    void record(const HttpExchange&) override { ++recorded; }
    Response errorAnswer(const Error& error) const override { return errorResponse(error); }

    void release() {
        std::lock_guard lock(mutex);
        released = true;
        changed.notify_all();
    }
    bool waitBlocked(int n) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, 20s, [&] { return blocked >= n; });
    }

    std::atomic<int> running{0};
    std::atomic<int> maxRunning{0};
    std::atomic<int> recorded{0};
    std::mutex mutex;
    std::condition_variable changed;
    int blocked = 0;
    bool released = false;
    std::vector<Poco::Net::StreamSocket> upgraded;
};

struct ServerFixture {
    explicit ServerFixture(HttpServerLimits limits = defaults()) : port(test::freeLoopbackPort()) {
        Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", port), 1024);
        server = std::make_unique<HttpServer>(std::move(socket), handler, limits, registry, Poco::Logger::get("test.http"));
        server->start();
    }
    ~ServerFixture() {
        handler.release();
        server->stop(2s);
    }
    static HttpServerLimits defaults() {
        HttpServerLimits l;
        l.workers = 2;
        l.head_timeout = 700ms;
        l.body_timeout = 700ms;
        l.idle_timeout = 700ms;
        l.write_timeout = 700ms;
        l.max_body_bytes = 1024;
        l.max_head_bytes = 2048;
        return l;
    }
    EchoHandler handler;
    prometheus::Registry registry;
    uint16_t port;
    std::unique_ptr<HttpServer> server;
};

std::string get(const std::string& target, const std::string& extra = {}) {
    return "GET " + target + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
}

}  // namespace

TEST_CASE("http server: idle connections beyond the worker count do not block requests", "[http_server]") {
    HttpServerLimits limits = ServerFixture::defaults();
    limits.idle_timeout = 60s;
    limits.head_timeout = 60s;
    ServerFixture f(limits);
    std::vector<std::unique_ptr<RawClient>> idle;
    for (int i = 0; i < 64; ++i) {   // 32 times the two workers
        idle.push_back(std::make_unique<RawClient>(f.port));
        REQUIRE(idle.back()->connected());
    }
    // Half of them even sent part of a head and stopped.
    for (int i = 0; i < 32; ++i) idle[i]->send("GET /slow HTTP/1.1\r\nHost: t\r\n");
    RawClient c(f.port);
    c.send(get("/hello"));
    const std::string reply = c.response();
    CHECK_THAT(reply, StartsWith("HTTP/1.1 200"));
    CHECK_THAT(reply, Contains("GET /hello"));
    CHECK(f.server->connections() == 65u);
}

TEST_CASE("http server: a request head must arrive whole within its deadline", "[http_server][hostile]") {
    ServerFixture f;
    RawClient drip(f.port);
    drip.send("GET /x HTTP/1.1\r\n");
    std::this_thread::sleep_for(300ms);
    drip.send("X-A: 1\r\n");   // still trickling, but the deadline is for the whole head
    const std::string reply = drip.read(10s, "\r\n\r\n");
    CHECK_THAT(reply, StartsWith("HTTP/1.1 408"));
    CHECK_THAT(reply, Contains("request_head") || Contains("did not arrive"));
    CHECK(drip.closedByPeer(5s));

    RawClient silent(f.port);   // connects and never sends a byte
    CHECK(silent.closedByPeer(10s));
}

TEST_CASE("http server: kept-alive connections are closed after the idle timeout", "[http_server]") {
    ServerFixture f;
    RawClient c(f.port);
    c.send(get("/one"));
    CHECK_THAT(c.response(), StartsWith("HTTP/1.1 200"));
    CHECK(c.closedByPeer(10s));
}

TEST_CASE("http server: connections are capped per client and in total, with a clear refusal", "[http_server][hostile]") {
    HttpServerLimits limits = ServerFixture::defaults();
    limits.max_connections_per_client = 3;
    limits.head_timeout = 30s;
    ServerFixture f(limits);
    std::vector<std::unique_ptr<RawClient>> held;
    for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<RawClient>(f.port));
    REQUIRE(held.back()->connected());
    for (int i = 0; i < 100 && f.server->connections() < 3; ++i) std::this_thread::sleep_for(20ms);
    RawClient fourth(f.port);
    const std::string refusal = fourth.read(10s);
    CHECK_THAT(refusal, StartsWith("HTTP/1.1 503"));
    CHECK_THAT(refusal, Contains("too many open connections from 127.0.0.1"));
    CHECK_THAT(refusal, Contains("server.max_connections_per_client 3"));
    held.pop_back();   // one goes: room for another
    for (int i = 0; i < 100 && f.server->connections() > 2; ++i) std::this_thread::sleep_for(20ms);
    RawClient again(f.port);
    again.send(get("/after"));
    CHECK_THAT(again.response(), StartsWith("HTTP/1.1 200"));

    HttpServerLimits total = ServerFixture::defaults();
    total.max_connections = 2;
    ServerFixture g(total);
    RawClient a(g.port), b(g.port);
    for (int i = 0; i < 100 && g.server->connections() < 2; ++i) std::this_thread::sleep_for(20ms);
    RawClient c(g.port);
    CHECK_THAT(c.read(10s), Contains("server.max_connections 2"));
}

TEST_CASE("http server: pipelined requests are answered in order", "[http_server]") {
    ServerFixture f;
    RawClient c(f.port);
    c.send(get("/a") + get("/b") + "POST /c HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz" + get("/d"));
    CHECK_THAT(c.response(), Contains("GET /a "));
    CHECK_THAT(c.response(), Contains("GET /b "));
    CHECK_THAT(c.response(), Contains("POST /c xyz"));
    CHECK_THAT(c.response(), Contains("GET /d "));
}

TEST_CASE("http server: bodies by length, chunked and after 100-continue", "[http_server]") {
    ServerFixture f;
    RawClient c(f.port);
    c.send("POST /len HTTP/1.1\r\nContent-Length: 5\r\n\r\nhe");
    std::this_thread::sleep_for(100ms);
    c.send("llo");
    CHECK_THAT(c.response(), Contains("POST /len hello"));

    c.send("POST /chunks HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
    std::this_thread::sleep_for(100ms);
    c.send("2\r\nde\r\n0\r\n\r\n");
    CHECK_THAT(c.response(), Contains("POST /chunks abcde"));

    c.send("POST /expect HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    CHECK_THAT(c.read(10s, "100 Continue\r\n\r\n"), Contains("HTTP/1.1 100 Continue"));
    c.response();   // drop the interim answer (no Content-Length: it is just the head)
    c.send("body");
    CHECK_THAT(c.response(), Contains("POST /expect body"));

    c.send("HEAD /h HTTP/1.1\r\n\r\n");
    const std::string head = c.read(10s, "\r\n\r\n");
    CHECK_THAT(head, StartsWith("HTTP/1.1 200"));
    CHECK_THAT(head, Contains("Content-Length: 8"));   // the GET body "HEAD /h " is not sent
    c.send(get("/after-head"));
    CHECK_THAT(c.read(10s, "GET /after-head"), Contains("GET /after-head"));
}

TEST_CASE("http server: oversized, malformed and late requests get their status and lose nothing else", "[http_server][hostile]") {
    ServerFixture f;
    {
        RawClient c(f.port);
        c.send("POST /big HTTP/1.1\r\nContent-Length: 5000\r\n\r\n");
        const std::string reply = c.response();
        CHECK_THAT(reply, StartsWith("HTTP/1.1 413"));
        CHECK_THAT(reply, Contains("server.max_body_bytes"));
        CHECK(c.closedByPeer(5s));
    }
    {
        RawClient c(f.port);
        c.send("POST /chunked HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n");
        CHECK_THAT(c.response(), StartsWith("HTTP/1.1 413"));
    }
    {
        RawClient c(f.port);
        c.send("GET / HTTP/1.1\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
        CHECK_THAT(c.response(), StartsWith("HTTP/1.1 431"));
    }
    {
        RawClient c(f.port);
        c.send("BROKEN\r\n\r\n");
        CHECK_THAT(c.response(), StartsWith("HTTP/1.1 400"));
    }
    {
        RawClient c(f.port);
        c.send("POST /late HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");   // the rest never comes
        CHECK_THAT(c.response(), StartsWith("HTTP/1.1 408"));
    }
    {
        // Refused at the head, with a body: the body is read and dropped, the connection stays usable.
        RawClient c(f.port);
        c.send("POST /refuse HTTP/1.1\r\nContent-Length: 6\r\n\r\nsecret" + get("/next"));
        CHECK_THAT(c.response(), StartsWith("HTTP/1.1 403"));
        CHECK_THAT(c.response(), Contains("GET /next"));
    }
    RawClient ok(f.port);
    ok.send(get("/still-fine"));
    CHECK_THAT(ok.response(), StartsWith("HTTP/1.1 200"));
}

TEST_CASE("http server: workers are bounded and a full queue answers 503", "[http_server][hostile]") {
    HttpServerLimits limits = ServerFixture::defaults();
    limits.max_queued_requests = 1;
    limits.head_timeout = 30s;
    limits.idle_timeout = 30s;
    limits.write_timeout = 30s;
    ServerFixture f(limits);
    RawClient a(f.port), b(f.port), c(f.port), d(f.port);
    a.send(get("/block"));
    REQUIRE(f.handler.waitBlocked(1));
    b.send(get("/block"));
    REQUIRE(f.handler.waitBlocked(2));   // both workers busy
    c.send(get("/queued"));              // waits in the queue
    std::this_thread::sleep_for(200ms);
    d.send(get("/no-room"));
    const std::string busy = d.response();
    CHECK_THAT(busy, StartsWith("HTTP/1.1 503"));
    CHECK_THAT(busy, Contains("busy"));
    f.handler.release();
    CHECK_THAT(a.response(), StartsWith("HTTP/1.1 200"));
    CHECK_THAT(c.response(), Contains("GET /queued"));
    CHECK(f.handler.maxRunning.load() <= 2);
}

TEST_CASE("http server: a client that never reads its answer is cut off, others are served", "[http_server][hostile]") {
    ServerFixture f;
    RawClient slow(f.port);
    const int small = 4096;
    ::setsockopt(slow.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    slow.send(get("/big"));
    std::this_thread::sleep_for(200ms);
    RawClient other(f.port);
    other.send(get("/other"));
    CHECK_THAT(other.response(), Contains("GET /other"));
    // The write deadline passes with most of the 8 MiB unread: the server closes.
    std::this_thread::sleep_for(1500ms);
    for (int i = 0; i < 200 && f.server->connections() > 1; ++i) std::this_thread::sleep_for(20ms);
    CHECK(f.server->connections() <= 1u);
}

TEST_CASE("http server: an upgrade answers 101 and hands the socket over", "[http_server][websocket]") {
    ServerFixture f;
    RawClient c(f.port);
    c.send("GET /upgrade HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    const std::string reply = c.read(10s, "\r\n\r\n");
    CHECK_THAT(reply, StartsWith("HTTP/1.1 101 Switching Protocols"));
    CHECK_THAT(reply, Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    {
        std::unique_lock lock(f.handler.mutex);
        REQUIRE(f.handler.changed.wait_for(lock, 10s, [&] { return !f.handler.upgraded.empty(); }));
    }
    for (int i = 0; i < 100 && f.server->connections() > 0; ++i) std::this_thread::sleep_for(20ms);
    CHECK(f.server->connections() == 0u);   // the socket is the hub's now, not an HTTP connection

    RawClient bad(f.port);
    bad.send("GET /upgrade HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    const std::string refused = bad.response();
    CHECK_THAT(refused, StartsWith("HTTP/1.1 400"));
    CHECK_THAT(refused, Contains("WebSocket handshake refused"));
}

TEST_CASE("http server: stopping finishes requests in progress", "[http_server]") {
    ServerFixture f;
    RawClient c(f.port);
    c.send(get("/block"));
    REQUIRE(f.handler.waitBlocked(1));
    std::thread stopper([&] { f.server->stop(10s); });
    std::this_thread::sleep_for(200ms);
    f.handler.release();
    stopper.join();
    const std::string reply = c.response();
    CHECK_THAT(reply, StartsWith("HTTP/1.1 200"));
    CHECK_THAT(reply, Contains("Connection: close"));
}
