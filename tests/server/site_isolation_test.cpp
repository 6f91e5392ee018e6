// One hung hypervisor host stalls no other site (issue 16). paddockd runs with site "a" on
// libvirt's test driver (data/site_a.xml) and site "b" on `qemu+tcp://127.0.0.1:<port>/system`,
// a listener in this test (HostRelay) that
//  - accepts and never answers: libvirt's remote client connects, sends its first call and waits
//    for ever (libvirt has no timeout on opening a connection), as with a host whose libvirtd is
//    wedged or whose network path dies behind a live TCP endpoint; or
//  - relays to this machine's libvirtd (its unix socket, so no TLS or SASL is involved) and then
//    freezes: b is connected, its calls are sent, no answer comes, until libvirt's keepalive
//    (every 5 s, 3 unanswered) declares the connection dead and b's reconnect hangs as above.
// Either way paddockd starts, site a answers every route, b answers 503 with the reason (or from
// its view while its connection still counts as alive), and SIGTERM ends paddockd by itself.
//
// Every request is timed against kStallBound. That bound is functional, not a performance
// assertion: the hang is indefinite (or ~20 s of keepalive), so a request that waits on b would
// answer late or never; the bound is generous (a request on the test driver answers in
// milliseconds) so that a slow, loaded CI machine never trips it. The figures printed (latency
// with and without the hung site, the slowest answer while b froze) are for the README and
// assert nothing.
#include "host_relay.hpp"
#include "paddockd_fixture.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using namespace paddock::test;

namespace {

constexpr auto kStallBound = std::chrono::seconds(20);
// paddockd waits for a site's first connection attempt at most Site::kFirstConnectWait (5 s);
// this bound only separates "started" from "waits on b for ever".
constexpr auto kStartBound = std::chrono::seconds(60);

SiteOptions siteA() {
    SiteOptions site;
    site.name = "a";
    site.uri = "test://" + sourceDir() + "/tests/server/data/site_a.xml";
    site.storage_pool = "default-pool";
    site.stop_timeout_s = 5;
    return site;
}

SiteOptions hungSite(const HostRelay& host) {
    SiteOptions site;
    site.name = "b";
    site.backend = "org.paddock.libvirt-qemu";
    site.uri = host.uri();
    site.storage_pool = "default";
    return site;
}

DaemonOptions withSites(std::vector<SiteOptions> sites) {
    DaemonOptions options;
    options.tokens = {{"ops", "site-isolation-token-0123456789", "admin"}};
    options.sites = std::move(sites);
    return options;
}

double secondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Timed {
    HttpReply reply;
    double seconds = 0;
};

// One request with the fixture's token; a client timeout far beyond kStallBound, so a stalled
// request fails on the bound (with its route named) rather than on the client.
Timed timed(const PaddockdFixture& d, const std::string& method, const std::string& path,
            std::optional<std::string> body = std::nullopt) {
    HttpOptions options;
    options.token = d.token();
    options.body = std::move(body);
    options.timeout_s = 120;
    const auto start = std::chrono::steady_clock::now();
    Timed t{httpRequest(d.port(), method, path, options), 0};
    t.seconds = secondsSince(start);
    return t;
}

#define CHECK_PROMPT(t)                                                                                  \
    do {                                                                                                 \
        INFO("answered in " << (t).seconds << " s: " << (t).reply.status << " " << (t).reply.body);      \
        CHECK((t).seconds < std::chrono::duration<double>(kStallBound).count());                         \
    } while (0)

// An answer about site b while it hangs: prompt, 503 `unavailable`, naming the site.
#define CHECK_UNAVAILABLE_ON_B(t)                                       \
    do {                                                                \
        CHECK_PROMPT(t);                                                \
        CHECK((t).reply.status == 503);                                 \
        CHECK((t).reply.errorCode() == "unavailable");                  \
        CHECK_THAT((t).reply.body, Catch::Contains("site 'b'"));        \
    } while (0)

// p50 and p99 of `n` sequential GETs of `path`, in milliseconds; every answer must be 200.
std::pair<double, double> latency(const PaddockdFixture& d, const std::string& path, int n) {
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
        const Timed t = timed(d, "GET", path);
        REQUIRE(t.reply.status == 200);
        ms.push_back(t.seconds * 1000);
    }
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)]};
}

}  // namespace

TEST_CASE("a hung site stalls neither startup, nor the other site's requests, nor shutdown",
          "[server][integration][sites]") {
    HostRelay hung;
    const auto startedAt = std::chrono::steady_clock::now();
    PaddockdFixture d(withSites({siteA(), hungSite(hung)}));
    const double startup = secondsSince(startedAt);
    INFO("paddockd listened after " << startup << " s");
    CHECK(startup < std::chrono::duration<double>(kStartBound).count());
    // b really is hung: paddockd reached the listener (a refused connection would be another test).
    REQUIRE(eventually([&] { return hung.accepted() >= 1; }, std::chrono::seconds(30)));
    CHECK_THAT(d.log(), Catch::Contains("site 'b'") && Catch::Contains("has not answered yet"));

    SECTION("site a answers every route; site b answers 503 with the reason") {
        const Timed health = timed(d, "GET", "/healthz");
        CHECK_PROMPT(health);
        CHECK(health.reply.status == 503);
        CHECK(jsonString(health.reply.json()["status"]) == "degraded");

        const Timed sites = timed(d, "GET", "/api/v1/sites");
        CHECK_PROMPT(sites);
        REQUIRE(sites.reply.status == 200);
        const auto doc = sites.reply.json();
        REQUIRE(doc["sites"].Size() == 2);
        CHECK(jsonString(doc["sites"][0]["state"]) == "connected");
        CHECK(jsonString(doc["sites"][1]["state"]) == "unavailable");
        // The reason says the host has not answered, and for how long.
        CHECK_THAT(jsonString(doc["sites"][1]["reason"]),
                   Catch::Contains(hung.uri()) && Catch::Contains("has had no answer for"));

        const Timed onA = timed(d, "GET", "/api/v1/vms?site=a");
        CHECK_PROMPT(onA);
        REQUIRE(onA.reply.status == 200);
        CHECK(onA.reply.json()["vms"].Size() == 2);  // only-a and twin

        // The unfiltered listing answers at once too. Today it answers for all sites or none: one
        // unreachable site makes it 503 naming that site (a partial listing is the lead's call).
        const Timed merged = timed(d, "GET", "/api/v1/vms");
        CHECK_UNAVAILABLE_ON_B(merged);

        const Timed created = timed(d, "POST", "/api/v1/vms", R"({"name":"beside-hung","site":"a","start":false})");
        CHECK_PROMPT(created);
        CHECK(created.reply.status == 201);
        const Timed started = timed(d, "POST", "/api/v1/vms/beside-hung/start?site=a");
        CHECK_PROMPT(started);
        CHECK(started.reply.status == 200);
        // By name alone: a is looked at first and has it.
        const Timed stopped = timed(d, "POST", "/api/v1/vms/beside-hung/stop?force=true");
        CHECK_PROMPT(stopped);
        CHECK(stopped.reply.status == 200);
        const Timed got = timed(d, "GET", "/api/v1/vms/beside-hung?site=a");
        CHECK_PROMPT(got);
        REQUIRE(got.reply.status == 200);
        CHECK(jsonString(got.reply.json()["vm"]["state"]) == "shut off");
        const Timed deleted = timed(d, "DELETE", "/api/v1/vms/beside-hung?site=a");
        CHECK_PROMPT(deleted);
        CHECK(deleted.reply.status == 200);

        const Timed metrics = timed(d, "GET", "/metrics");
        CHECK_PROMPT(metrics);
        CHECK(metricValue(metrics.reply.body, R"(paddock_site_connected{site="a"})") == 1);
        CHECK(metricValue(metrics.reply.body, R"(paddock_site_connected{site="b"})") == 0);

        // Site b: 503 with the documented error shape, at once.
        const std::vector<std::pair<std::string, std::string>> onB = {
            {"GET", "/api/v1/vms?site=b"},
            {"GET", "/api/v1/vms/only-b?site=b"},
            {"POST", "/api/v1/vms/only-b/start?site=b"},
        };
        for (const auto& [method, path] : onB) {
            INFO(method << " " << path);
            const Timed t = timed(d, method, path);
            CHECK_UNAVAILABLE_ON_B(t);
        }
        const Timed createOnB = timed(d, "POST", "/api/v1/vms", R"({"name":"on-hung","site":"b","start":false})");
        CHECK_PROMPT(createOnB);
        CHECK(createOnB.reply.status == 503);
        CHECK(createOnB.reply.errorCode() == "unavailable");
        // Unknown on a, unreachable on b: the lookup by name alone cannot say "not found".
        const Timed byName = timed(d, "GET", "/api/v1/vms/nowhere");
        CHECK_PROMPT(byName);
        CHECK(byName.reply.status == 503);
    }

    SECTION("requests on a in parallel with requests on b") {
        // Every worker busy with b would starve a; b's requests answer at once, so none is.
        std::vector<std::thread> workers;
        std::atomic<int> bAnswered{0};
        for (int i = 0; i < 8; ++i)
            workers.emplace_back([&] {
                for (int k = 0; k < 10; ++k)
                    if (timed(d, "GET", "/api/v1/vms?site=b").reply.status == 503) ++bAnswered;
            });
        const Timed onA = timed(d, "GET", "/api/v1/vms?site=a");
        for (auto& w : workers) w.join();
        CHECK_PROMPT(onA);
        CHECK(onA.reply.status == 200);
        CHECK(bAnswered == 80);
    }

    // SIGTERM ends paddockd by itself (exit 0, not killed after the fixture's grace period)
    // although b's connection attempt still hangs.
    const auto stoppingAt = std::chrono::steady_clock::now();
    CHECK(d.stop() == 0);
    INFO("stopped after " << secondsSince(stoppingAt) << " s");
    CHECK(secondsSince(stoppingAt) < std::chrono::duration<double>(kStallBound).count());
}

TEST_CASE("figures: site a's listing with and without a hung site b", "[server][integration][sites][figures]") {
    constexpr int kRequests = 200;
    std::pair<double, double> alone;
    {
        PaddockdFixture d(withSites({siteA()}));
        (void)latency(d, "/api/v1/vms?site=a", 20);  // warm-up
        alone = latency(d, "/api/v1/vms?site=a", kRequests);
    }
    HostRelay hung;
    PaddockdFixture d(withSites({siteA(), hungSite(hung)}));
    REQUIRE(eventually([&] { return hung.accepted() >= 1; }, std::chrono::seconds(30)));
    (void)latency(d, "/api/v1/vms?site=a", 20);
    const auto beside = latency(d, "/api/v1/vms?site=a", kRequests);
    std::printf("GET /api/v1/vms?site=a, %d sequential requests: without site b p50 %.2f ms p99 %.2f ms; "
                "with site b hung p50 %.2f ms p99 %.2f ms\n",
                kRequests, alone.first, alone.second, beside.first, beside.second);
    std::fflush(stdout);
}

TEST_CASE("a site whose host stops answering mid-connection stalls no other site", "[server][integration][sites]") {
    // Site b is the machine's libvirtd (qemu:///system) reached through the relay, which then
    // freezes: b's connection is up, its calls are sent, and no answer ever comes. libvirt's
    // keepalive (every 5 s, 3 unanswered) declares it dead after about 20 s; until then every call
    // on b waits, and nothing on a may wait with it.
    requireLibvirt("qemu:///system");
    HostRelay host("/var/run/libvirt/libvirt-sock");
    PaddockdFixture d(withSites({siteA(), hungSite(host)}));
    REQUIRE(eventually([&] {
        const auto doc = d.call("GET", "/api/v1/sites");
        return doc.status == 200 && doc.body.find("\"unavailable\"") == std::string::npos;
    }, std::chrono::seconds(30)));
    host.freeze();
    const auto frozenAt = std::chrono::steady_clock::now();
    // A request that asks b live waits until keepalive gives up on b, then answers 503 (the
    // host is out of reach), not 500.
    std::atomic<int> liveOnB{-1};
    std::thread askB([&] {
        try {
            liveOnB = timed(d, "GET", "/api/v1/vms/nowhere-on-b?site=b").reply.status;
        } catch (const std::exception&) {
            liveOnB = 0;
        }
    });
    // Through the whole life of b's dead connection: until keepalive gives up on it, the
    // reconnect (which then hangs like the host of the first test case), and after.
    double slowest = 0;
    std::string slowestRoute;
    for (int round = 0; secondsSince(frozenAt) < 30; ++round) {
        const std::string vm = "beside-frozen-" + std::to_string(round);
        const std::vector<std::tuple<std::string, std::string, std::optional<std::string>>> onA = {
            {"GET", "/api/v1/vms?site=a", std::nullopt},
            {"GET", "/healthz", std::nullopt},
            {"GET", "/api/v1/sites", std::nullopt},
            {"GET", "/metrics", std::nullopt},
            {"POST", "/api/v1/vms", R"({"name":")" + vm + R"(","site":"a","start":false})"},
            {"POST", "/api/v1/vms/" + vm + "/start?site=a", std::nullopt},
            {"POST", "/api/v1/vms/" + vm + "/stop?site=a&force=true", std::nullopt},
            {"DELETE", "/api/v1/vms/" + vm + "?site=a", std::nullopt},
        };
        for (const auto& [method, path, body] : onA) {
            INFO(method << " " << path << " at " << secondsSince(frozenAt) << " s after b froze");
            const Timed t = timed(d, method, path, body);
            CHECK_PROMPT(t);
            if (path == "/healthz")
                CHECK((t.reply.status == 200 || t.reply.status == 503));  // 503 "degraded" once b is lost
            else
                CHECK(t.reply.status < 300);
            if (t.seconds > slowest) {
                slowest = t.seconds;
                slowestRoute = method + " " + path;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    std::printf("site a while b froze (30 s of rounds): slowest answer %.3f s (%s)\n", slowest, slowestRoute.c_str());
    askB.join();
    CHECK(liveOnB == 503);
    // libvirt's keepalive has declared b's connection dead; the site says so.
    CHECK(eventually([&] {
        const auto doc = d.call("GET", "/api/v1/sites");
        return doc.status == 200 && std::string(doc.json()["sites"][1]["state"].GetString()) == "unavailable";
    }, std::chrono::seconds(30)));
    std::fflush(stdout);
    // Calls on b may still be blocked: SIGTERM ends paddockd by itself all the same (exit 0, not
    // killed after the fixture's grace period).
    const auto stoppingAt = std::chrono::steady_clock::now();
    CHECK(d.stop() == 0);
    std::printf("b frozen: paddockd stopped %.1f s after SIGTERM\n", secondsSince(stoppingAt));
    INFO("stopped after " << secondsSince(stoppingAt) << " s");
    CHECK(secondsSince(stoppingAt) < std::chrono::duration<double>(kStallBound).count());
}

TEST_CASE("SIGTERM while requests and site threads wait on a host that stopped answering",
          "[server][integration][sites]") {
    requireLibvirt("qemu:///system");
    HostRelay host("/var/run/libvirt/libvirt-sock");
    PaddockdFixture d(withSites({siteA(), hungSite(host)}));
    REQUIRE(eventually([&] {
        const auto doc = d.call("GET", "/api/v1/sites");
        return doc.status == 200 && doc.body.find("\"unavailable\"") == std::string::npos;
    }, std::chrono::seconds(30)));
    host.freeze();
    // A request that asks b live (not from its view) now waits for an answer that never comes,
    // and b's view refresher (every second) waits too.
    std::atomic<int> blockedStatus{-1};
    std::thread blocked([&] {
        try {
            blockedStatus = timed(d, "GET", "/api/v1/vms/nowhere-on-b?site=b").reply.status;
        } catch (const std::exception&) {
            blockedStatus = 0;  // the connection closed without an answer: paddockd went away
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    const auto stoppingAt = std::chrono::steady_clock::now();
    const int code = d.stop();
    const double took = secondsSince(stoppingAt);
    blocked.join();
    std::printf("b frozen with a request on it: paddockd exited %d %.1f s after SIGTERM; the request got %d\n", code,
                took, blockedStatus.load());
    std::fflush(stdout);
    CHECK(code == 0);
    CHECK(took < std::chrono::duration<double>(kStallBound).count());
}
