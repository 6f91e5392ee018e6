// Placement over HTTP: paddockd with several sites, each an independent test hypervisor made from
// a node XML written into the test's temp dir (an empty host with the storage pool
// "default-pool"). POST /api/v1/vms without a site chooses one by config placement.policy and
// says so in `placement`; with a site it checks that site's capacity; names are unique across
// sites. See core/site/include/paddock/core/placement.hpp for the policy itself.
#include "paddockd_fixture.hpp"
#include "test_hosts.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace paddock::test;
using Catch::Matchers::Contains;

namespace {


// Sites named `names`, each on its own empty test hypervisor in `dir`; `extra` adds keys per site
// (each line indented by four spaces).
DaemonOptions sites(const TempDir& dir, const std::vector<std::string>& names, const std::string& policy,
                    const std::map<std::string, std::string>& extra = {}) {
    DaemonOptions options;
    options.tokens = {{"ops", "placement-token-0123456789", "admin"}, {"look", "placement-viewer-0123456789", "viewer"}};
    options.sites.clear();
    for (const auto& name : names) {
        SiteOptions site;
        site.name = name;
        site.uri = emptyTestHost(dir, name);
        site.storage_pool = "default-pool";
        site.stop_timeout_s = 5;
        if (const auto it = extra.find(name); it != extra.end()) site.extra_yaml = it->second;
        options.sites.push_back(site);
    }
    options.extra_yaml = "placement:\n  policy: " + policy + "\n";
    return options;
}

struct Placed {
    int status = 0;
    std::string site;    // vm.site
    std::string policy;  // placement.policy
    std::string reason;  // placement.reason
    std::string body;
};

Placed create(const PaddockdFixture& d, const std::string& body) {
    const auto reply = d.post("/api/v1/vms", body);
    Placed out{reply.status, {}, {}, {}, reply.body};
    if (reply.status != 201 && reply.status != 202) return out;
    const auto doc = reply.json();
    out.site = jsonString(doc["vm"]["site"]);
    REQUIRE(doc.HasMember("placement"));
    CHECK(jsonString(doc["placement"]["site"]) == out.site);
    out.policy = jsonString(doc["placement"]["policy"]);
    out.reason = jsonString(doc["placement"]["reason"]);
    return out;
}

Placed createNamed(const PaddockdFixture& d, const std::string& name, const std::string& more = {}) {
    return create(d, R"({"name":")" + name + R"(","start":false)" + more + "}");
}

}  // namespace

TEST_CASE("placement: spread takes turns over three sites, pack fills the first", "[server][integration][placement]") {
    SECTION("spread") {
        TempDir dir;
        PaddockdFixture d(sites(dir, {"a", "b", "c"}, "spread"));
        std::string order;
        for (int i = 0; i < 6; ++i) {
            const auto placed = createNamed(d, "s" + std::to_string(i));
            INFO(placed.body);
            REQUIRE(placed.status == 201);
            CHECK(placed.policy == "spread");
            CHECK_THAT(placed.reason, Contains("most headroom"));
            order += placed.site;
        }
        CHECK(order == "abcabc");
        // A site named by the client: policy "requested", and spread sees it afterwards.
        const auto requested = createNamed(d, "on-c", R"(,"site":"c")");
        REQUIRE(requested.status == 201);
        CHECK(requested.site == "c");
        CHECK(requested.policy == "requested");
        CHECK(createNamed(d, "next").site == "a");
        // Listings merge every site's view.
        CHECK(d.getJson("/api/v1/vms")["vms"].Size() == 8);
    }
    SECTION("pack") {
        TempDir dir;
        PaddockdFixture d(sites(dir, {"a", "b", "c"}, "pack"));
        for (int i = 0; i < 4; ++i) {
            const auto placed = createNamed(d, "p" + std::to_string(i));
            INFO(placed.body);
            REQUIRE(placed.status == 201);
            CHECK(placed.site == "a");
            CHECK(placed.policy == "pack");
            CHECK_THAT(placed.reason, Contains("first site in config order with room"));
        }
    }
}

TEST_CASE("placement: max_vms and max_memory_mb; all full is 409 naming every site", "[server][integration][placement]") {
    TempDir dir;
    PaddockdFixture d(sites(dir, {"a", "b", "c"}, "pack",
                            {{"a", "    max_vms: 2\n"}, {"b", "    max_memory_mb: 1024\n"}, {"c", "    max_vms: 1\n"}}));
    // Pack: a until max_vms, then b until its memory (512 MB each), then c.
    std::vector<std::string> placedOn;
    for (int i = 0; i < 5; ++i) {
        const auto placed = createNamed(d, "m" + std::to_string(i));
        INFO(placed.body);
        REQUIRE(placed.status == 201);
        placedOn.push_back(placed.site);
    }
    CHECK(placedOn == std::vector<std::string>{"a", "a", "b", "b", "c"});
    const auto last = createNamed(d, "m5");
    CHECK_THAT(last.body, Contains("max_memory_mb 1024 exceeded (1024 committed + 512 requested)"));

    const auto full = d.post("/api/v1/vms", R"({"name":"m6","start":false})");
    CHECK(full.status == 409);
    CHECK(full.errorCode() == "conflict");
    CHECK_THAT(full.body, Contains("no site can take the VM: a: max_vms 2 reached; b: max_memory_mb 1024 exceeded"));
    CHECK_THAT(full.body, Contains("c: max_vms 1 reached"));

    // A named site is checked too.
    const auto namedFull = d.post("/api/v1/vms", R"({"name":"m7","site":"a","start":false})");
    CHECK(namedFull.status == 409);
    CHECK_THAT(namedFull.body, Contains("site 'a' is full: max_vms 2 reached"));

    // Deleting one makes room again, on that site.
    REQUIRE(d.del("/api/v1/vms/m0").status == 200);
    const auto again = createNamed(d, "m8");
    REQUIRE(again.status == 201);
    CHECK(again.site == "a");
}

TEST_CASE("placement: a site that is down is skipped, and named in a refusal", "[server][integration][placement]") {
    TempDir dir;
    auto options = sites(dir, {"a", "b"}, "spread", {{"b", "    max_vms: 1\n"}});
    SiteOptions gone;
    gone.name = "gone";
    gone.uri = "test://" + dir.file("no-such-host.xml");
    gone.storage_pool = "default-pool";
    options.sites.insert(options.sites.begin(), gone);
    PaddockdFixture d(options);
    const auto status = d.getJson("/api/v1/sites");
    REQUIRE(status["sites"].Size() == 3);
    REQUIRE_FALSE(status["sites"][0]["reachable"].GetBool());

    CHECK(createNamed(d, "d0").site == "a");
    CHECK(createNamed(d, "d1").site == "b");
    const auto skipped = createNamed(d, "d2");
    CHECK(skipped.site == "a");
    CHECK_THAT(skipped.reason, Contains("skipped gone: down") && Contains("b: max_vms 1 reached"));
    // Named, the down site answers as before: unavailable.
    CHECK(d.post("/api/v1/vms", R"({"name":"d3","site":"gone","start":false})").status == 503);
}

TEST_CASE("placement: a template's site_selector restricts it to sites with those labels", "[server][integration][placement]") {
    TempDir dir;
    const std::string templates = "    templates:\n"
                                  "      - name: tiny\n"
                                  "      - name: gpu-only\n"
                                  "        site_selector: {gpu: \"yes\"}\n";
    PaddockdFixture d(sites(dir, {"a", "b", "c"}, "spread",
                            {{"a", "    labels: {zone: lab-a}\n" + templates},
                             {"b", "    labels: {zone: lab-b, gpu: \"yes\"}\n" + templates},
                             {"c", "    labels: {zone: lab-c}\n" + templates}}));
    for (int i = 0; i < 3; ++i) {
        const auto placed = createNamed(d, "g" + std::to_string(i), R"(,"template":"gpu-only")");
        INFO(placed.body);
        REQUIRE(placed.status == 201);
        CHECK(placed.site == "b");
        CHECK_THAT(placed.reason, Contains("a: labels do not match the template's site_selector"));
    }
    // Other templates spread over all three (b is the most loaded now).
    CHECK(createNamed(d, "t0", R"(,"template":"tiny")").site == "a");
    CHECK(createNamed(d, "t1", R"(,"template":"tiny")").site == "c");
    // A template no site has is bad input.
    const auto unknown = d.post("/api/v1/vms", R"({"name":"t2","template":"nope","start":false})");
    CHECK(unknown.status == 400);
    CHECK_THAT(unknown.body, Contains("a: no template 'nope'"));
    // Naming a site overrides the selector.
    const auto named = createNamed(d, "g-on-a", R"(,"template":"gpu-only","site":"a")");
    CHECK(named.status == 201);
    CHECK(named.site == "a");
}

TEST_CASE("placement: names are unique across sites", "[server][integration][placement]") {
    TempDir dir;
    PaddockdFixture d(sites(dir, {"a", "b"}, "spread"));
    REQUIRE(createNamed(d, "only-one", R"(,"site":"b")").status == 201);
    for (const std::string more : {"", R"(,"site":"a")", R"(,"site":"b")"}) {
        INFO(more);
        const auto again = d.post("/api/v1/vms", R"({"name":"only-one","start":false)" + more + "}");
        CHECK(again.status == 409);
        CHECK(again.errorCode() == "already_exists");
        CHECK_THAT(again.body, Contains("VM 'only-one' already exists on site 'b'"));
    }
    // The compat create places too, keeps its answer shape, and refuses the name the same way.
    const auto compat = d.post("/vms/create", R"({"name":"old-client"})");
    INFO(compat.body);
    REQUIRE(compat.status == 201);
    CHECK_FALSE(compat.json().HasMember("placement"));
    CHECK(jsonString(compat.json()["status"]) == "created");
    CHECK(d.post("/vms/create", R"({"name":"only-one"})").status == 409);
}

TEST_CASE("placement: hostile values of the create body's site", "[server][integration][placement][hostile]") {
    TempDir dir;
    PaddockdFixture d(sites(dir, {"a", "b"}, "spread"));
    const auto unknown = d.post("/api/v1/vms", R"({"name":"h0","site":"zzz","start":false})");
    CHECK(unknown.status == 404);
    CHECK(unknown.errorCode() == "not_found");
    for (const std::string site : {"42", "[\"a\"]", "{\"name\":\"a\"}", "true"}) {
        INFO(site);
        const auto wrong = d.post("/api/v1/vms", R"({"name":"h1","start":false,"site":)" + site + "}");
        CHECK(wrong.status == 400);
        CHECK(wrong.errorCode() == "invalid_argument");
    }
    const std::string huge(100000, 'a');
    const auto big = d.post("/api/v1/vms", R"({"name":"h2","start":false,"site":")" + huge + R"("})");
    CHECK(big.status == 400);
    CHECK(big.body.size() < 1000);  // not echoed whole
    for (const std::string site : {"A", "a b", "../a", "a\\u0000"}) {
        INFO(site);
        CHECK(d.post("/api/v1/vms", R"({"name":"h3","start":false,"site":")" + site + R"("})").status == 400);
    }
    CHECK(d.post("/api/v1/vms?site=" + std::string(5000, 'b'), R"({"name":"h4","start":false})").status == 400);
    // Without a token, with a wrong one, or as a viewer, nothing is placed.
    CHECK(d.call("POST", "/api/v1/vms", R"({"name":"h7","start":false})", std::string("placement-viewer-0123456789")).status == 403);
    CHECK(d.call("POST", "/api/v1/vms", R"({"name":"h5","start":false})", std::string()).status == 401);
    CHECK(d.call("POST", "/api/v1/vms", R"({"name":"h6","start":false})", std::string("wrong-token-0123456789")).status == 401);
    CHECK(d.getJson("/api/v1/vms")["vms"].Size() == 0);
}

TEST_CASE("placement: concurrent creates neither overfill a site nor share a name", "[server][integration][placement]") {
    TempDir dir;
    PaddockdFixture d(sites(dir, {"a", "b"}, "spread", {{"a", "    max_vms: 3\n"}, {"b", "    max_vms: 3\n"}}));
    // 12 creates at once for 6 places: each in-flight create holds its place (PlacementTicket).
    std::vector<int> statuses(12);
    {
        std::vector<std::thread> threads;
        for (size_t i = 0; i < statuses.size(); ++i)
            threads.emplace_back([&, i] {
                statuses[i] = d.post("/api/v1/vms", R"({"name":"c)" + std::to_string(i) + R"(","start":false})").status;
            });
        for (auto& t : threads) t.join();
    }
    CHECK(std::count(statuses.begin(), statuses.end(), 201) == 6);
    CHECK(std::count(statuses.begin(), statuses.end(), 409) == 6);
    std::map<std::string, int> perSite;
    for (const auto& vm : d.getJson("/api/v1/vms")["vms"].GetArray()) ++perSite[jsonString(vm["site"])];
    CHECK(perSite == std::map<std::string, int>{{"a", 3}, {"b", 3}});

    // One name asked for 8 times at once, on either site (both with room again): made once, the
    // others refused for the name.
    std::vector<std::string> made;
    for (const auto& vm : d.getJson("/api/v1/vms")["vms"].GetArray()) made.push_back(jsonString(vm["name"]));
    for (const auto& name : made) REQUIRE(d.del("/api/v1/vms/" + name).status == 200);
    std::vector<std::string> same(8);
    {
        std::vector<std::thread> threads;
        for (size_t i = 0; i < same.size(); ++i)
            threads.emplace_back([&, i] {
                const auto reply = d.post("/api/v1/vms", std::string(R"({"name":"same","start":false,"site":")") +
                                                             (i % 2 ? "a" : "b") + R"("})");
                same[i] = reply.status == 201 ? "created" : reply.errorCode();
            });
        for (auto& t : threads) t.join();
    }
    CHECK(std::count(same.begin(), same.end(), "created") == 1);
    CHECK(std::count(same.begin(), same.end(), "already_exists") == 7);
}
