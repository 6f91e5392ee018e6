// GET /api/v1/vms and the compat GET /vms/list against the real paddockd on test:///default:
// a strong ETag that stays while nothing changes and changes with every VM change (create,
// start, stop, adoption's owner, delete), 304 without a body for a matching If-None-Match, any
// other If-None-Match (a list, a weak tag, "*", garbage, 10 kB) answered 200 or 304, and the
// filtered listings (?site=, ?all=true, owner tokens) built for their caller with their own tag.
// The kept copy goes out without being copied per request (http_server.cpp): over HTTP and HTTPS
// a slow reader with many requests pipelined gets every answer exactly and in order, and one
// that leaves mid-body leaves paddockd answering.
#include "paddockd_fixture.hpp"
#include "raw_client.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <set>
#include <thread>

using namespace paddock::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const std::string kAdmin = "listing-etag-admin-0123456789";
const std::string kCarol = "listing-etag-carol-0123456789";

class ListingDaemon : public PaddockdFixture {
public:
    ListingDaemon() : PaddockdFixture(options()) {}

    HttpReply list(const std::string& path, const std::string& ifNoneMatch = {},
                   const std::string& token = kAdmin) const {
        std::vector<std::pair<std::string, std::string>> headers;
        if (!ifNoneMatch.empty()) headers.emplace_back("If-None-Match", ifNoneMatch);
        return call("GET", path, std::nullopt, token, headers);
    }

private:
    static DaemonOptions options() {
        DaemonOptions options;
        options.tokens = {{"admin", kAdmin, "admin"}, {"carol-kiosk", kCarol, "operator", "carol"}};
        return options;
    }
};

std::set<std::string> namesIn(const HttpReply& reply) {
    std::set<std::string> names;
    const auto json = reply.json();
    for (const auto& vm : json["vms"].GetArray()) names.insert(jsonString(vm["name"]));
    return names;
}

std::string stateOf(const HttpReply& reply, const std::string& name) {
    const auto json = reply.json();
    for (const auto& vm : json["vms"].GetArray())
        if (jsonString(vm["name"]) == name) return jsonString(vm["state"]);
    return "";
}

std::string ownerOf(const HttpReply& reply, const std::string& name) {
    const auto json = reply.json();
    for (const auto& vm : json["vms"].GetArray())
        if (jsonString(vm["name"]) == name) return vm["owner"].IsString() ? vm["owner"].GetString() : "";
    return "<absent>";
}

// The listing's tag once it has settled (a lifecycle event's re-read of the domain may land
// just after the change): two answers in a row with the same strong tag and body.
std::string stableTag(const ListingDaemon& d, const std::string& path) {
    auto previous = d.list(path);
    for (int attempt = 0; attempt < 100; ++attempt) {
        REQUIRE(previous.status == 200);
        const std::string tag = previous.header("ETag");
        REQUIRE(tag.size() > 2);
        CHECK(tag.front() == '"');
        CHECK(tag.back() == '"');
        auto next = d.list(path);
        REQUIRE(next.status == 200);
        if (next.header("ETag") == tag) {
            CHECK(next.body == previous.body);
            return tag;
        }
        CHECK(next.body != previous.body);  // a new tag only with a new body
        previous = std::move(next);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("the listing of " << path << " never settled");
    return {};
}

}  // namespace

TEST_CASE("listing ETag: stable, 304 when it matches, new after each VM change", "[listing-etag]") {
    ListingDaemon d;
    for (const std::string& path : {std::string("/api/v1/vms"), std::string("/vms/list")}) {
        INFO(path);
        const std::string tag = stableTag(d, path);
        const auto notModified = d.list(path, tag);
        CHECK(notModified.status == 304);
        CHECK(notModified.body.empty());
        CHECK(notModified.header("ETag") == tag);
    }

    const auto changed = [&](const std::string& before) {
        const std::string after = stableTag(d, "/api/v1/vms");
        CHECK(after != before);
        CHECK(d.list("/api/v1/vms", before).status == 200);
        return after;
    };
    std::string tag = stableTag(d, "/api/v1/vms");
    std::string compatTag = stableTag(d, "/vms/list");

    REQUIRE(d.call("POST", "/api/v1/vms", R"({"name":"etag-one","start":false})", kAdmin).status == 201);
    tag = changed(tag);
    CHECK(namesIn(d.list("/api/v1/vms")).count("etag-one") == 1);
    const std::string compatAfterCreate = stableTag(d, "/vms/list");
    CHECK(compatAfterCreate != compatTag);
    CHECK(namesIn(d.list("/vms/list")).count("etag-one") == 1);

    REQUIRE(d.call("POST", "/api/v1/vms/etag-one/start", std::nullopt, kAdmin).status == 200);
    tag = changed(tag);
    CHECK(stateOf(d.list("/api/v1/vms"), "etag-one") == "running");
    CHECK(stableTag(d, "/vms/list") != compatAfterCreate);

    REQUIRE(d.call("POST", "/api/v1/vms/etag-one/stop?force=true", std::nullopt, kAdmin).status == 200);
    tag = changed(tag);
    CHECK(stateOf(d.list("/api/v1/vms"), "etag-one") == "shut off");

    // The test driver's own domain "test" is foreign until adopted: then it is listed, with its owner.
    CHECK(namesIn(d.list("/api/v1/vms")).count("test") == 0);
    REQUIRE(d.call("POST", "/api/v1/vms/test/adopt", R"({"owner":"dave"})", kAdmin).status == 200);
    tag = changed(tag);
    CHECK(ownerOf(d.list("/api/v1/vms"), "test") == "dave");

    REQUIRE(d.call("DELETE", "/api/v1/vms/etag-one", std::nullopt, kAdmin).status == 200);
    tag = changed(tag);
    CHECK(namesIn(d.list("/api/v1/vms")).count("etag-one") == 0);
    CHECK(d.list("/api/v1/vms", tag).status == 304);
}

TEST_CASE("listing ETag: any If-None-Match is answered 200 or 304, never an error", "[listing-etag][hostile]") {
    ListingDaemon d;
    const std::string tag = stableTag(d, "/api/v1/vms");
    const std::string inner = tag.substr(1, tag.size() - 2);
    const std::vector<std::pair<std::string, int>> cases = {
        {"*", 304},
        {"\"nope\", " + tag + ", \"other\"", 304},
        {"\"nope\",\"other\"", 200},
        {"W/" + tag, 304},
        {inner, 200},  // unquoted: not a tag
        {"garbage;;,,\x01", 200},
        {",,, ,", 200},
        {"\"" + std::string(7 * 1024, 'a') + "\", " + tag, 304},
    };
    for (const auto& [value, status] : cases) {
        INFO(value.substr(0, 80));
        const auto reply = d.list("/api/v1/vms", value);
        CHECK(reply.status == status);
        if (status == 304) CHECK(reply.body.empty());
    }
    CHECK(d.list("/vms/list", "*").status == 304);
    // 10 kB in one header field is past the wire's limit (8 kB a field, as Poco reads it): the
    // request is refused before any route, 400, and the daemon goes on answering.
    CHECK(d.list("/api/v1/vms", "\"" + std::string(10 * 1024, 'a') + "\"").status == 400);
    CHECK(d.list("/api/v1/vms", tag).status == 304);
}

TEST_CASE("listing ETag: filtered listings and owner tokens get their own answer", "[listing-etag][owner]") {
    ListingDaemon d;
    REQUIRE(d.call("POST", "/api/v1/vms", R"({"name":"carols","owner":"carol","start":false})", kAdmin).status == 201);
    REQUIRE(d.call("POST", "/api/v1/vms", R"({"name":"daves","owner":"dave","start":false})", kAdmin).status == 201);
    const auto all = d.list("/api/v1/vms");
    REQUIRE(all.status == 200);
    const std::string allTag = all.header("ETag");
    CHECK(namesIn(all) == std::set<std::string>{"carols", "daves"});

    // Carol's token: her VM only, whatever tag she presents; the unfiltered tag is not hers.
    for (const std::string& presented : {std::string(), allTag, std::string("*")}) {
        INFO(presented);
        const auto mine = d.list("/api/v1/vms", presented, kCarol);
        if (presented == "*") {
            CHECK(mine.status == 304);
            continue;
        }
        REQUIRE(mine.status == 200);
        CHECK(namesIn(mine) == std::set<std::string>{"carols"});
        CHECK(mine.header("ETag") != allTag);
        CHECK(mine.body.find("daves") == std::string::npos);
    }
    const std::string carolTag = d.list("/api/v1/vms", {}, kCarol).header("ETag");
    CHECK(d.list("/api/v1/vms", carolTag, kCarol).status == 304);
    CHECK(d.list("/api/v1/vms", carolTag).status == 200);  // the admin's listing is another

    // ?site= and ?all=true: correct bodies, their own tags, 304 on their own tag.
    const auto bySite = d.list("/api/v1/vms?site=local");
    REQUIRE(bySite.status == 200);
    CHECK(namesIn(bySite) == std::set<std::string>{"carols", "daves"});
    CHECK(d.list("/api/v1/vms?site=local", bySite.header("ETag")).status == 304);
    const auto everything = d.list("/api/v1/vms?all=true");
    REQUIRE(everything.status == 200);
    CHECK(namesIn(everything).count("test") == 1);  // the foreign domain, for admins who ask
    CHECK(everything.header("ETag") != allTag);
    CHECK(d.list("/api/v1/vms?site=nowhere").status == 404);

    // A change after the filtered answers: each answers anew.
    REQUIRE(d.call("POST", "/api/v1/vms/carols/start", std::nullopt, kAdmin).status == 200);
    const auto mineNow = d.list("/api/v1/vms", carolTag, kCarol);
    REQUIRE(mineNow.status == 200);
    CHECK(stateOf(mineNow, "carols") == "running");
    CHECK(d.list("/api/v1/vms", allTag).status == 200);
}

TEST_CASE("listing filters: ?owner= and ?state= keep what they name, hostile values refused", "[listing-etag][filter]") {
    ListingDaemon d;
    REQUIRE(d.call("POST", "/api/v1/vms", R"({"name":"carol-up","owner":"carol","start":true})", kAdmin).status == 201);
    REQUIRE(d.call("POST", "/api/v1/vms", R"({"name":"carol-off","owner":"carol","start":false})", kAdmin).status ==
            201);
    REQUIRE(d.call("POST", "/api/v1/vms", R"({"name":"dave-up","owner":"dave","start":true})", kAdmin).status == 201);
    REQUIRE(d.call("POST", "/api/v1/vms", R"({"name":"nobodys","start":false})", kAdmin).status == 201);
    const std::set<std::string> everyone{"carol-up", "carol-off", "dave-up", "nobodys"};
    REQUIRE(namesIn(d.list("/api/v1/vms")) == everyone);

    using Names = std::set<std::string>;
    const std::vector<std::pair<std::string, Names>> kept = {
        {"?owner=carol", {"carol-up", "carol-off"}},
        {"?owner=dave", {"dave-up"}},
        {"?owner=erin", {}},
        {"?state=running", {"carol-up", "dave-up"}},
        {"?state=shut%20off", {"carol-off", "nobodys"}},
        {"?state=shut+off", {"carol-off", "nobodys"}},
        {"?state=shutoff", {"carol-off", "nobodys"}},
        {"?state=paused,running", {"carol-up", "dave-up"}},
        {"?state=running,shutoff", everyone},
        {"?state=crashed", {}},
        {"?owner=carol&state=running", {"carol-up"}},
        {"?owner=carol&state=shutoff&site=local", {"carol-off"}},
    };
    for (const auto& [query, names] : kept) {
        INFO(query);
        const auto reply = d.list("/api/v1/vms" + query);
        REQUIRE(reply.status == 200);
        CHECK(namesIn(reply) == names);
        CHECK(d.list("/api/v1/vms" + query, reply.header("ETag")).status == 304);
    }
    // A filtered answer is not the unfiltered one, and the kept copy is not disturbed by it.
    const std::string allTag = stableTag(d, "/api/v1/vms");
    CHECK(d.list("/api/v1/vms?state=running").header("ETag") != allTag);
    CHECK(d.list("/api/v1/vms", allTag).status == 304);

    // Carol's owner token: her own VMs whatever she filters by; another owner's finds none.
    CHECK(namesIn(d.list("/api/v1/vms?owner=carol", {}, kCarol)) == Names{"carol-up", "carol-off"});
    CHECK(namesIn(d.list("/api/v1/vms?state=running", {}, kCarol)) == Names{"carol-up"});
    const auto others = d.list("/api/v1/vms?owner=dave", {}, kCarol);
    REQUIRE(others.status == 200);
    CHECK(namesIn(others).empty());
    CHECK(others.body.find("dave-up") == std::string::npos);

    // Hostile values: the documented 400, never a 500 or a listing.
    const std::vector<std::string> refused = {
        "?state=",
        "?state=bogus",
        "?state=running,",
        "?state=,running",
        "?state=RUNNING",
        "?state=running%00",
        "?state=" + std::string(4000, 'r'),
        "?owner=",
        "?owner=" + std::string(200, 'x'),
        "?owner=car%0Aol",
        "?owner=%FF%FE",
    };
    for (const auto& query : refused) {
        INFO(query.substr(0, 60));
        const auto reply = d.list("/api/v1/vms" + query);
        CHECK(reply.status == 400);
        CHECK(reply.body.find("\"error\"") != std::string::npos);
        CHECK(reply.body.find("carol-up") == std::string::npos);
    }
    // Without a token nothing is listed, filter or not.
    CHECK(d.call("GET", "/api/v1/vms?owner=carol", std::nullopt, "").status == 401);
}

namespace {

// One complete response split into its head (through the empty line) and its body.
std::pair<std::string, std::string> headAndBody(const std::string& reply) {
    const size_t end = reply.find("\r\n\r\n");
    if (end == std::string::npos) return {reply, ""};
    return {reply.substr(0, end + 4), reply.substr(end + 4)};
}

// The settled body of a listing (two answers in a row alike) and its tag.
std::pair<std::string, std::string> settled(const PaddockdFixture& d, const std::string& path) {
    for (int attempt = 0; attempt < 100; ++attempt) {
        const auto a = d.call("GET", path, std::nullopt, kAdmin);
        const auto b = d.call("GET", path, std::nullopt, kAdmin);
        REQUIRE(a.status == 200);
        if (a.body == b.body && a.header("ETag") == b.header("ETag")) return {a.body, a.header("ETag")};
        std::this_thread::sleep_for(50ms);
    }
    FAIL("the listing of " << path << " never settled");
    return {};
}

}  // namespace

TEST_CASE(
    "listing: kept listings reach a slow reader exactly over HTTP and HTTPS, pipelined; leaving mid-body is harmless",
    "[listing-etag][wire][hostile]") {
    const bool tls = GENERATE(false, true);
    CAPTURE(tls);
    DaemonOptions options;
    options.tokens = {{"admin", kAdmin, "admin"}};
    options.tls = tls;
    PaddockdFixture d(options);
    // Enough VMs that both listings are past the size the server copies (4 KiB; a compat entry
    // is ~100 bytes).
    for (int i = 0; i < 48; ++i)
        REQUIRE(d.call("POST", "/api/v1/vms", R"({"name":"wire-)" + std::to_string(i) + R"(","start":false})", kAdmin)
                    .status == 201);
    const auto [listing, tag] = settled(d, "/api/v1/vms");
    const auto [compat, compatTag] = settled(d, "/vms/list");
    REQUIRE(listing.size() > 4096);
    REQUIRE(compat.size() > 4096);

    const std::string auth = "Host: 127.0.0.1\r\nAuthorization: Bearer " + kAdmin + "\r\n";
    const std::string kinds[] = {"GET /api/v1/vms", "HEAD /api/v1/vms", "GET /api/v1/vms?If-None-Match",
                                 "GET /vms/list"};
    const auto request = [&](int kind) {
        if (kind == 2) return "GET /api/v1/vms HTTP/1.1\r\n" + auth + "If-None-Match: " + tag + "\r\n\r\n";
        const std::string line = kind == 1 ? "HEAD /api/v1/vms" : kind == 3 ? "GET /vms/list" : "GET /api/v1/vms";
        return line + " HTTP/1.1\r\n" + auth + "\r\n";
    };
    constexpr int kRequests = 400;
    {
        RawClient c(d.port(), d.caFile());
        REQUIRE(c.connected());
        const int small = 64 * 1024;  // see http_server_test: smaller windows crawl on loopback
        ::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        std::string pipelined;
        for (int i = 0; i < kRequests; ++i) pipelined += request(i % 4);
        REQUIRE(c.send(pipelined));
        std::this_thread::sleep_for(300ms);  // paddockd fills the socket and waits for room
        for (int i = 0; i < kRequests; ++i) {
            const int kind = i % 4;
            INFO("answer " << i << " to " << kinds[kind]);
            const auto [head, body] = headAndBody(c.response(30s, kind == 1));
            REQUIRE_THAT(head, StartsWith(kind == 2 ? "HTTP/1.1 304" : "HTTP/1.1 200"));
            CHECK_THAT(head, Contains("ETag: " + (kind == 3 ? compatTag : tag)));
            if (kind == 2) continue;
            const std::string& expected = kind == 3 ? compat : listing;
            CHECK_THAT(head, Contains("Content-Length: " + std::to_string(expected.size()) + "\r\n"));
            if (kind == 1) continue;
            REQUIRE(body.size() == expected.size());
            REQUIRE(body == expected);
        }
    }
    // Leaving with answers half sent: paddockd drops the connection and answers the next client.
    for (int round = 0; round < 3; ++round) {
        auto c = std::make_unique<RawClient>(d.port(), d.caFile());
        const int small = 64 * 1024;
        ::setsockopt(c->fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        std::string pipelined;
        for (int i = 0; i < 200; ++i) pipelined += request(0);
        REQUIRE(c->send(pipelined));
        CHECK_THAT(c->read(10s, "\r\n\r\n"), StartsWith("HTTP/1.1 200"));
        c.reset();
    }
    const auto after = d.call("GET", "/api/v1/vms", std::nullopt, kAdmin);
    CHECK(after.status == 200);
    CHECK(after.body == listing);
    CHECK(d.running());
}
