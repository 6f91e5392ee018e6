// The connection server on loopback with a small handler: idle and slow clients hold no worker,
// every phase has a deadline, connections are capped, and HTTP framing (pipelining, chunked
// bodies, 100-continue, HEAD, upgrades) works over real sockets. Most cases run twice, over
// plain TCP and over TLS (a certificate made for the test); the TLS handshake has cases of its
// own. Deadlines are set short so the tests wait little; nothing asserts that anything was fast.
#include "paddock/server/http_server.hpp"

#include "paddock/server/error_mapping.hpp"
#include "paddock/server/http_wire.hpp"
#include "paddock/server/tls.hpp"
#include "paddock/server/transport.hpp"
#include "raw_client.hpp"
#include "test_support.hpp"
#include "test_tls.hpp"

#include <Poco/Net/ServerSocket.h>
#include <prometheus/registry.h>
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
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
            x.response.upgrade = [this](std::unique_ptr<Transport> transport) {
                std::lock_guard lock(mutex);
                upgraded.push_back(std::move(transport));
                changed.notify_all();
            };
        } else if (x.head.target == "/big") {
            x.response = jsonResponse(200, std::string(8 * 1024 * 1024, 'x'));
        } else if (x.head.target.rfind("/shared", 0) == 0) {
            // /shared: sharedBig, kept like a listing; /shared-padded: with a head larger than
            // socket buffers hold (tcp_wmem's 4 MiB at most); /shared-small: sharedSmall (below
            // the size sent uncopied).
            x.response = jsonResponse(200, "");
            x.response.sharedBody = x.head.target == "/shared-small" ? sharedSmall : sharedBig;
            x.response.headers.emplace_back("ETag", "\"kept\"");
            if (x.head.target == "/shared-padded") x.response.headers.emplace_back("X-Pad", std::string(kPad, 'p'));
        } else if (x.head.target.rfind("/stream", 0) == 0) {
            // /stream: kStreamPieces pieces of 'x'; /stream-long: kLongStreamPieces (far more than
            // socket buffers hold); /stream-fail: fails after two pieces.
            const bool fail = x.head.target == "/stream-fail";
            const int pieces = x.head.target == "/stream-long" ? kLongStreamPieces : kStreamPieces;
            x.response.contentType = "text/plain";
            x.response.stream = [this, fail, pieces, made = 0](std::string& out) mutable -> Result<bool> {
                ++pulls;
                if (fail && made == 2) return makeError(ErrorCode::Unavailable, "the disk went away");
                out.append(kBodyPieceBytes, 'x');
                return ++made < pieces;
            };
        } else {
            x.response = jsonResponse(200, x.head.method + " " + x.head.target + " " + x.request.body);
        }
        --running;
    }
    void record(const HttpExchange&) override { ++recorded; }
    Response errorAnswer(const Error& error, const HttpExchange*) const override { return errorResponse(error); }

    void release() {
        std::lock_guard lock(mutex);
        released = true;
        changed.notify_all();
    }
    bool waitBlocked(int n) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, 20s, [&] { return blocked >= n; });
    }

    // Bytes that show any shift, repeat or loss: no period a misplaced offset could hide in.
    static std::shared_ptr<const std::string> patterned(size_t size) {
        std::string text(size, '\0');
        uint32_t state = 12345;
        for (char& c : text) {
            state = state * 1103515245u + 12345u;
            c = static_cast<char>('a' + (state >> 16) % 26);
        }
        return std::make_shared<const std::string>(std::move(text));
    }
    static constexpr size_t kPad = 5 * 1024 * 1024;
    const std::shared_ptr<const std::string> sharedBig = patterned(5 * 1024 * 1024 + 7);
    const std::shared_ptr<const std::string> sharedSmall = patterned(1000);

    static constexpr int kStreamPieces = 48;        // 3 MiB
    static constexpr int kLongStreamPieces = 1024;  // 64 MiB
    std::atomic<int> pulls{0};                      // calls of streamed bodies' sources
    std::atomic<int> running{0};
    std::atomic<int> maxRunning{0};
    std::atomic<int> recorded{0};
    std::mutex mutex;
    std::condition_variable changed;
    int blocked = 0;
    bool released = false;
    std::vector<std::unique_ptr<Transport>> upgraded;
};

// `tls`: HTTPS with a certificate made in `dir`; `ca` is what clients trust then ("" plain).
struct ServerFixture {
    explicit ServerFixture(bool tls, HttpServerLimits limits = defaults()) : port(test::freeLoopbackPort()) {
        std::shared_ptr<const TlsContext> context;
        if (tls) {
            const auto cert = test::makeTestCertificate(dir.path());
            auto loaded = TlsContext::load(TlsConfig{cert.cert, cert.key});
            REQUIRE(loaded.ok());
            context = loaded.value();
            ca = cert.cert;
        }
        Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", port), 1024);
        server = std::make_unique<HttpServer>(std::move(socket), handler, limits, registry,
                                              Poco::Logger::get("test.http"), context);
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
    // For a client that reads as fast as it can: no write deadline is tested.
    static HttpServerLimits forFastReaders() {
        HttpServerLimits l = defaults();
        l.write_timeout = 60s;
        return l;
    }
    // The value of a counter of `family` with exactly `labels`, 0 when absent.
    double counter(const std::string& family, const std::map<std::string, std::string>& labels) {
        for (const auto& f : registry.Collect()) {
            if (f.name != family) continue;
            for (const auto& m : f.metric) {
                std::map<std::string, std::string> have;
                for (const auto& l : m.label) have[l.name] = l.value;
                if (have == labels) return m.counter.value;
            }
        }
        return 0;
    }

    test::TempDir dir;
    std::string ca;
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
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    HttpServerLimits limits = ServerFixture::defaults();
    limits.idle_timeout = 60s;
    limits.head_timeout = 60s;
    ServerFixture f(tls, limits);
    std::vector<std::unique_ptr<RawClient>> idle;
    for (int i = 0; i < 64; ++i) {  // 32 times the two workers
        idle.push_back(std::make_unique<RawClient>(f.port, f.ca));
        REQUIRE(idle.back()->connected());
    }
    // Half of them even sent part of a head and stopped.
    for (int i = 0; i < 32; ++i) idle[i]->send("GET /slow HTTP/1.1\r\nHost: t\r\n");
    RawClient c(f.port, f.ca);
    c.send(get("/hello"));
    const std::string reply = c.response();
    CHECK_THAT(reply, StartsWith("HTTP/1.1 200"));
    CHECK_THAT(reply, Contains("GET /hello"));
    CHECK(f.server->connections() == 65u);
}

TEST_CASE("http server: a request head must arrive whole within its deadline", "[http_server][hostile]") {
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    ServerFixture f(tls);
    RawClient drip(f.port, f.ca);
    drip.send("GET /x HTTP/1.1\r\n");
    std::this_thread::sleep_for(300ms);
    drip.send("X-A: 1\r\n");  // still trickling, but the deadline is for the whole head
    const std::string reply = drip.read(10s, "\r\n\r\n");
    CHECK_THAT(reply, StartsWith("HTTP/1.1 408"));
    CHECK_THAT(reply, Contains("request_head") || Contains("did not arrive"));
    CHECK(drip.closedByPeer(5s));

    RawClient silent(f.port);  // connects and never sends a byte
    CHECK(silent.closedByPeer(10s));
}

TEST_CASE("http server: kept-alive connections are closed after the idle timeout", "[http_server]") {
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    ServerFixture f(tls);
    RawClient c(f.port, f.ca);
    c.send(get("/one"));
    CHECK_THAT(c.response(), StartsWith("HTTP/1.1 200"));
    CHECK(c.closedByPeer(10s));
}

TEST_CASE("http server: connections are capped per client and in total, with a clear refusal",
          "[http_server][hostile]") {
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    HttpServerLimits limits = ServerFixture::defaults();
    limits.max_connections_per_client = 3;
    limits.head_timeout = 30s;
    ServerFixture f(tls, limits);
    std::vector<std::unique_ptr<RawClient>> held;
    for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<RawClient>(f.port, f.ca));
    REQUIRE(held.back()->connected());
    for (int i = 0; i < 100 && f.server->connections() < 3; ++i) std::this_thread::sleep_for(20ms);
    RawClient fourth(f.port, f.ca);
    if (tls) {
        CHECK_FALSE(fourth.connected());  // just closed: a refusal message would need a handshake
    } else {
        const std::string refusal = fourth.read(10s);
        CHECK_THAT(refusal, StartsWith("HTTP/1.1 503"));
        CHECK_THAT(refusal, Contains("too many open connections from 127.0.0.1"));
        CHECK_THAT(refusal, Contains("server.max_connections_per_client 3"));
    }
    CHECK(f.counter("paddock_http_refused_connections_total", {{"reason", "client_cap"}}) == 1);
    held.pop_back();  // one goes: room for another
    for (int i = 0; i < 100 && f.server->connections() > 2; ++i) std::this_thread::sleep_for(20ms);
    RawClient again(f.port, f.ca);
    again.send(get("/after"));
    CHECK_THAT(again.response(), StartsWith("HTTP/1.1 200"));

    HttpServerLimits total = ServerFixture::defaults();
    total.max_connections = 2;
    ServerFixture g(tls, total);
    RawClient a(g.port, g.ca), b(g.port, g.ca);
    for (int i = 0; i < 100 && g.server->connections() < 2; ++i) std::this_thread::sleep_for(20ms);
    RawClient c(g.port, g.ca);
    if (tls)
        CHECK_FALSE(c.connected());
    else
        CHECK_THAT(c.read(10s), Contains("server.max_connections 2"));
}

TEST_CASE("http server: pipelined requests are answered in order", "[http_server]") {
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    ServerFixture f(tls);
    RawClient c(f.port, f.ca);
    c.send(get("/a") + get("/b") + "POST /c HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz" + get("/d"));
    CHECK_THAT(c.response(), Contains("GET /a "));
    CHECK_THAT(c.response(), Contains("GET /b "));
    CHECK_THAT(c.response(), Contains("POST /c xyz"));
    CHECK_THAT(c.response(), Contains("GET /d "));
}

TEST_CASE("http server: bodies by length, chunked and after 100-continue", "[http_server]") {
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    ServerFixture f(tls);
    RawClient c(f.port, f.ca);
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
    c.response();  // drop the interim answer (no Content-Length: it is just the head)
    c.send("body");
    CHECK_THAT(c.response(), Contains("POST /expect body"));

    c.send("HEAD /h HTTP/1.1\r\n\r\n");
    const std::string head = c.read(10s, "\r\n\r\n");
    CHECK_THAT(head, StartsWith("HTTP/1.1 200"));
    CHECK_THAT(head, Contains("Content-Length: 8"));  // the GET body "HEAD /h " is not sent
    c.send(get("/after-head"));
    CHECK_THAT(c.read(10s, "GET /after-head"), Contains("GET /after-head"));
}

TEST_CASE("http server: oversized, malformed and late requests get their status and lose nothing else",
          "[http_server][hostile]") {
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    ServerFixture f(tls);
    {
        RawClient c(f.port, f.ca);
        c.send("POST /big HTTP/1.1\r\nContent-Length: 5000\r\n\r\n");
        const std::string reply = c.response();
        CHECK_THAT(reply, StartsWith("HTTP/1.1 413"));
        CHECK_THAT(reply, Contains("server.max_body_bytes"));
        CHECK(c.closedByPeer(5s));
    }
    {
        RawClient c(f.port, f.ca);
        c.send("POST /chunked HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n");
        CHECK_THAT(c.response(), StartsWith("HTTP/1.1 413"));
    }
    {
        RawClient c(f.port, f.ca);
        c.send("GET / HTTP/1.1\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
        CHECK_THAT(c.response(), StartsWith("HTTP/1.1 431"));
    }
    {
        RawClient c(f.port, f.ca);
        c.send("BROKEN\r\n\r\n");
        CHECK_THAT(c.response(), StartsWith("HTTP/1.1 400"));
    }
    {
        RawClient c(f.port, f.ca);
        c.send("POST /late HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");  // the rest never comes
        CHECK_THAT(c.response(), StartsWith("HTTP/1.1 408"));
    }
    {
        // Refused at the head, with a body: the body is read and dropped, the connection stays usable.
        RawClient c(f.port, f.ca);
        c.send("POST /refuse HTTP/1.1\r\nContent-Length: 6\r\n\r\nsecret" + get("/next"));
        CHECK_THAT(c.response(), StartsWith("HTTP/1.1 403"));
        CHECK_THAT(c.response(), Contains("GET /next"));
    }
    RawClient ok(f.port, f.ca);
    ok.send(get("/still-fine"));
    CHECK_THAT(ok.response(), StartsWith("HTTP/1.1 200"));
}

TEST_CASE("http server: workers are bounded and a full queue answers 503", "[http_server][hostile]") {
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    HttpServerLimits limits = ServerFixture::defaults();
    limits.max_queued_requests = 1;
    limits.head_timeout = 30s;
    limits.idle_timeout = 30s;
    limits.write_timeout = 30s;
    ServerFixture f(tls, limits);
    RawClient a(f.port, f.ca), b(f.port, f.ca), c(f.port, f.ca), d(f.port, f.ca);
    a.send(get("/block"));
    REQUIRE(f.handler.waitBlocked(1));
    b.send(get("/block"));
    REQUIRE(f.handler.waitBlocked(2));  // both workers busy
    c.send(get("/queued"));             // waits in the queue
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
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    ServerFixture f(tls);
    RawClient slow(f.port, f.ca);
    const int small = 4096;
    ::setsockopt(slow.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    slow.send(get("/big"));
    std::this_thread::sleep_for(200ms);
    RawClient other(f.port, f.ca);
    other.send(get("/other"));
    CHECK_THAT(other.response(), Contains("GET /other"));
    // The write deadline passes with most of the 8 MiB unread: the server closes.
    std::this_thread::sleep_for(1500ms);
    for (int i = 0; i < 200 && f.server->connections() > 1; ++i) std::this_thread::sleep_for(20ms);
    CHECK(f.server->connections() <= 1u);
}

TEST_CASE("http server: an upgrade answers 101 and hands the socket over", "[http_server][websocket]") {
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    ServerFixture f(tls);
    RawClient c(f.port, f.ca);
    c.send(
        "GET /upgrade HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    const std::string reply = c.read(10s, "\r\n\r\n");
    CHECK_THAT(reply, StartsWith("HTTP/1.1 101 Switching Protocols"));
    CHECK_THAT(reply, Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    {
        std::unique_lock lock(f.handler.mutex);
        REQUIRE(f.handler.changed.wait_for(lock, 10s, [&] { return !f.handler.upgraded.empty(); }));
    }
    for (int i = 0; i < 100 && f.server->connections() > 0; ++i) std::this_thread::sleep_for(20ms);
    CHECK(f.server->connections() == 0u);  // the socket is the hub's now, not an HTTP connection

    // The connection goes on through the transport handed over: over TLS it is still TLS.
    Transport& t = *f.handler.upgraded.front();
    CHECK(t.secure() == tls);
    REQUIRE(t.write("from-the-hub").status == IoStatus::Done);
    CHECK_THAT(c.read(10s, "from-the-hub"), Contains("from-the-hub"));
    c.send("from-the-client");
    std::string received;
    for (int i = 0; i < 200 && received.find("from-the-client") == std::string::npos; ++i) {
        pollfd p{t.fd(), POLLIN, 0};
        if (t.buffered() == 0 && ::poll(&p, 1, 50) <= 0) continue;
        char buffer[256];
        const IoResult r = t.read(buffer, sizeof buffer);
        if (r.status == IoStatus::Done)
            received.append(buffer, r.bytes);
        else if (r.status != IoStatus::WantRead)
            break;
    }
    CHECK(received == "from-the-client");

    RawClient bad(f.port, f.ca);
    bad.send("GET /upgrade HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    const std::string refused = bad.response();
    CHECK_THAT(refused, StartsWith("HTTP/1.1 400"));
    CHECK_THAT(refused, Contains("WebSocket handshake refused"));
}

TEST_CASE("http server: stopping finishes requests in progress", "[http_server]") {
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    ServerFixture f(tls);
    RawClient c(f.port, f.ca);
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

TEST_CASE("http server: a large answer arrives whole", "[http_server]") {
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    ServerFixture f(tls, ServerFixture::forFastReaders());
    RawClient c(f.port, f.ca);
    c.send(get("/big"));
    const std::string reply = c.response(60s);
    REQUIRE_THAT(reply, StartsWith("HTTP/1.1 200"));
    const std::string body = reply.substr(reply.find("\r\n\r\n") + 4);
    CHECK(body.size() == 8u * 1024 * 1024);
    CHECK(body.find_first_not_of('x') == std::string::npos);
    c.send(get("/next"));  // and the connection is still in step
    CHECK_THAT(c.response(), Contains("GET /next"));
}

// One complete response split into its head (through the empty line) and its body.
std::pair<std::string, std::string> headAndBody(const std::string& reply) {
    const size_t end = reply.find("\r\n\r\n");
    if (end == std::string::npos) return {reply, ""};
    return {reply.substr(0, end + 4), reply.substr(end + 4)};
}

// Waits until only the handler holds its kept bodies again (no connection or request keeps one).
bool sharedReleased(const EchoHandler& handler) {
    for (int i = 0; i < 500; ++i) {
        if (handler.sharedBig.use_count() == 1 && handler.sharedSmall.use_count() == 1) return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

TEST_CASE("http server: shared bodies reach a slow reader exactly, with requests pipelined behind them",
          "[http_server][shared]") {
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    ServerFixture f(tls, ServerFixture::forFastReaders());
    const EchoHandler& h = f.handler;
    RawClient c(f.port, f.ca);
    // A small receive window, read in pieces of what it holds: the server's writes stop part-way
    // (in bodies, in the 5 MiB head of /shared-padded, and one sendmsg crosses from that head
    // into its body) and go on where they stopped. Not smaller: below loopback's 64 KiB segment
    // the window opens only by zero-window probes, backing off to seconds each.
    const int small = 64 * 1024;
    ::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    c.send(get("/shared") + get("/shared-padded") + "HEAD /shared HTTP/1.1\r\nHost: t\r\n\r\n" + get("/shared-small") +
           get("/shared") + get("/after"));
    std::this_thread::sleep_for(300ms);  // the server fills the socket and waits for room

    const std::string length = "Content-Length: " + std::to_string(h.sharedBig->size()) + "\r\n";
    for (const bool padded : {false, true}) {
        CAPTURE(padded);
        const auto [head, body] = headAndBody(c.response(60s));
        REQUIRE_THAT(head, StartsWith("HTTP/1.1 200"));
        CHECK_THAT(head, Contains(length));
        CHECK_THAT(head, Contains("ETag: \"kept\"\r\n"));
        CHECK(head.size() > (padded ? EchoHandler::kPad : 0));
        CHECK(body.size() == h.sharedBig->size());
        CHECK(body == *h.sharedBig);  // not CHECK_THAT: 8 MiB in a failure message helps nobody
    }
    // HEAD: the length of the body, and none of it.
    const std::string headOnly = c.response(10s, true);
    CHECK_THAT(headOnly, StartsWith("HTTP/1.1 200"));
    CHECK_THAT(headOnly, Contains(length));
    CHECK(headOnly.ends_with("\r\n\r\n"));
    // Below the size sent uncopied: the same bytes on the wire.
    const auto [smallHead, smallBody] = headAndBody(c.response(10s));
    CHECK_THAT(smallHead, Contains("Content-Length: 1000\r\n"));
    CHECK(smallBody == *h.sharedSmall);
    CHECK(headAndBody(c.response(60s)).second == *h.sharedBig);
    CHECK_THAT(c.response(), Contains("GET /after"));
    // Sent: no connection holds the kept bodies any more.
    CHECK(sharedReleased(h));
}

TEST_CASE("http server: a client that leaves in the middle of a shared body is closed and holds nothing",
          "[http_server][shared][hostile]") {
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    ServerFixture f(tls, ServerFixture::forFastReaders());  // no write deadline ends it: the close does
    {
        RawClient c(f.port, f.ca);
        const int small = 4096;
        ::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        c.send(get("/shared") + get("/shared"));
        CHECK_THAT(c.read(10s, "\r\n\r\n"), StartsWith("HTTP/1.1 200"));
        std::this_thread::sleep_for(200ms);
    }  // gone with most of the first body unsent and the second request unanswered
    for (int i = 0; i < 500 && f.server->connections() > 0; ++i) std::this_thread::sleep_for(20ms);
    CHECK(f.server->connections() == 0u);
    CHECK(sharedReleased(f.handler));
    RawClient other(f.port, f.ca);
    other.send(get("/shared-small"));
    CHECK(headAndBody(other.response()).second == *f.handler.sharedSmall);
}

// A chunked body decoded; nullopt when it is malformed or unfinished.
std::optional<std::string> dechunked(std::string_view body) {
    wire::ChunkedDecoder decoder(UINT64_MAX);
    std::string out;
    auto finished = decoder.feed(body, out);
    if (!finished || !finished.value()) return std::nullopt;
    return out;
}

TEST_CASE("http server: a streamed answer goes out chunked, piece by piece, and the connection stays in step",
          "[http_server][stream]") {
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    ServerFixture f(tls, ServerFixture::forFastReaders());
    RawClient c(f.port, f.ca);
    c.send(get("/stream"));
    const std::string reply = c.response(60s);
    REQUIRE_THAT(reply, StartsWith("HTTP/1.1 200"));
    const std::string head = reply.substr(0, reply.find("\r\n\r\n") + 4);
    CHECK_THAT(head, Contains("Transfer-Encoding: chunked"));
    CHECK_THAT(head, !Contains("Content-Length"));
    CHECK_THAT(head, Contains("Connection: keep-alive"));
    const auto body = dechunked(std::string_view(reply).substr(head.size()));
    REQUIRE(body);
    CHECK(body->size() == size_t{EchoHandler::kStreamPieces} * kBodyPieceBytes);
    CHECK(body->find_first_not_of('x') == std::string::npos);
    CHECK(f.handler.pulls.load() == EchoHandler::kStreamPieces);
    c.send(get("/next"));
    CHECK_THAT(c.response(), Contains("GET /next"));

    // HEAD: the head only, and the body is never made.
    c.send("HEAD /stream HTTP/1.1\r\nHost: t\r\n\r\n");
    CHECK_THAT(c.response(10s, true), StartsWith("HTTP/1.1 200"));
    c.send(get("/after-head"));
    CHECK_THAT(c.response(), Contains("GET /after-head"));
    CHECK(f.handler.pulls.load() == EchoHandler::kStreamPieces);
}

TEST_CASE("http server: a streamed answer to an HTTP/1.0 client ends with the close", "[http_server][stream]") {
    ServerFixture f(false);
    RawClient c(f.port);
    c.send("GET /stream HTTP/1.0\r\nHost: t\r\n\r\n");
    const std::string reply = c.read(60s);  // up to the close
    REQUIRE_THAT(reply, StartsWith("HTTP/1.1 200"));
    const size_t end = reply.find("\r\n\r\n");
    CHECK_THAT(reply.substr(0, end), Contains("Connection: close"));
    CHECK_THAT(reply.substr(0, end), !Contains("Transfer-Encoding"));
    CHECK(reply.size() - end - 4 == size_t{EchoHandler::kStreamPieces} * kBodyPieceBytes);
}

TEST_CASE("http server: a streamed answer is made only as fast as its client reads, and holds no worker",
          "[http_server][stream][hostile]") {
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    ServerFixture f(tls);  // two workers, a 700 ms write deadline
    std::vector<std::unique_ptr<RawClient>> readers;
    for (int i = 0; i < 4; ++i) {  // more stalled downloads than workers
        readers.push_back(std::make_unique<RawClient>(f.port, f.ca));
        const int small = 4096;
        ::setsockopt(readers.back()->fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        readers.back()->send(get("/stream-long"));
    }
    std::this_thread::sleep_for(300ms);
    RawClient other(f.port, f.ca);
    other.send(get("/other"));
    CHECK_THAT(other.response(), Contains("GET /other"));
    // Each stalled download asked for what the socket buffers could take, far from all of it.
    CHECK(f.handler.pulls.load() < 4 * EchoHandler::kLongStreamPieces / 4);
    // The write deadline ends them.
    for (int i = 0; i < 200 && f.server->connections() > 1; ++i) std::this_thread::sleep_for(20ms);
    CHECK(f.server->connections() <= 1u);
}

TEST_CASE("http server: a streamed body that fails midway is cut short, not ended", "[http_server][stream]") {
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    ServerFixture f(tls);
    RawClient c(f.port, f.ca);
    c.send(get("/stream-fail"));
    const std::string reply = c.read(10s);  // up to the close
    REQUIRE_THAT(reply, StartsWith("HTTP/1.1 200"));
    CHECK(c.closedByPeer(5s));
    const std::string body = reply.substr(reply.find("\r\n\r\n") + 4);
    CHECK_FALSE(dechunked(body));              // no last chunk: the client knows the body is incomplete
    CHECK(body.size() > 2 * kBodyPieceBytes);  // the two pieces made before the failure went out
    RawClient other(f.port, f.ca);
    other.send(get("/other"));
    CHECK_THAT(other.response(), Contains("GET /other"));
}

// The first bytes of a TLS ClientHello record announcing 512 bytes, of which none follow.
const std::string kPartialClientHello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);

TEST_CASE("https: plain HTTP sent to the TLS port gets a plain-text 400, then the close", "[http_server][tls]") {
    ServerFixture f(true);
    RawClient plain(f.port);
    plain.send(get("/x"));
    const std::string reply = plain.response();
    CHECK_THAT(reply, StartsWith("HTTP/1.1 400"));
    CHECK_THAT(reply, Contains("HTTPS only"));
    CHECK(plain.closedByPeer(10s));
    CHECK(f.counter("paddock_http_tls_handshake_failures_total", {{"reason", "plaintext"}}) == 1);
    RawClient ok(f.port, f.ca);
    ok.send(get("/fine"));
    CHECK_THAT(ok.response(), Contains("GET /fine"));
}

TEST_CASE("https: a broken handshake is closed and counted; other clients go on", "[http_server][tls][hostile]") {
    ServerFixture f(true);
    RawClient junk(f.port);
    junk.send(std::string("\x16\x03\x01\x00\x09", 5) + "not-hello");
    CHECK(junk.closedByPeer(10s));
    auto gone = std::make_unique<RawClient>(f.port);
    gone->send(kPartialClientHello);
    gone.reset();  // leaves mid-handshake
    for (int i = 0; i < 250 && f.counter("paddock_http_tls_handshake_failures_total", {{"reason", "closed"}}) < 1; ++i)
        std::this_thread::sleep_for(20ms);
    CHECK(f.counter("paddock_http_tls_handshake_failures_total", {{"reason", "protocol"}}) == 1);
    CHECK(f.counter("paddock_http_tls_handshake_failures_total", {{"reason", "closed"}}) == 1);
    RawClient ok(f.port, f.ca);
    REQUIRE(ok.connected());
    ok.send(get("/fine"));
    CHECK_THAT(ok.response(), Contains("GET /fine"));
}

TEST_CASE("https: stalled handshakes hold no worker, and end at the head deadline", "[http_server][tls][hostile]") {
    HttpServerLimits patient = ServerFixture::defaults();  // two workers
    patient.head_timeout = 60s;
    ServerFixture f(true, patient);
    std::vector<std::unique_ptr<RawClient>> stalled;
    for (int i = 0; i < 32; ++i) {
        stalled.push_back(std::make_unique<RawClient>(f.port));
        stalled.back()->send(kPartialClientHello);
    }
    for (int i = 0; i < 250 && f.server->connections() < 32; ++i) std::this_thread::sleep_for(20ms);
    // All 32 are still mid-handshake while a TLS client is served.
    RawClient ok(f.port, f.ca);
    ok.send(get("/served"));
    CHECK_THAT(ok.response(), Contains("GET /served"));
    CHECK(f.server->connections() == 33u);

    ServerFixture g(true);  // 700 ms for a handshake
    std::vector<std::unique_ptr<RawClient>> late;
    for (int i = 0; i < 8; ++i) {
        late.push_back(std::make_unique<RawClient>(g.port));
        late.back()->send(kPartialClientHello);
    }
    RawClient silent(g.port);  // not even a byte
    for (auto& client : late) CHECK(client->closedByPeer(10s));
    CHECK(silent.closedByPeer(10s));
    CHECK(g.counter("paddock_http_tls_handshake_failures_total", {{"reason", "timeout"}}) == 9);
    CHECK(g.counter("paddock_http_timeouts_total", {{"phase", "handshake"}}) == 9);
}
