// Pools and leases through the real paddockd (test:///default through the real plugin): the
// native routes, the compatibility routes, metrics, and claim atomicity under 100 concurrent
// HTTP requests. Restart recovery is covered at the core level (pool_manager_test.cpp): the
// test driver's state does not outlive the process.
#include "paddockd_fixture.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <thread>

using namespace paddock::test;
using namespace std::chrono_literals;

namespace {

// paddockd with three pools on one test:///default site.
class PoolDaemon : public PaddockdFixture {
public:
    PoolDaemon() : PaddockdFixture(options()) {}

    // GET /api/v1/pools/{pool}
    rapidjson::Document pool(const std::string& name) { return getJson("/api/v1/pools/" + name); }

    bool idle(const std::string& name, unsigned count) {
        auto p = pool(name);
        return p["recovered"].GetBool() && p["idle"].GetUint() == count && p["booting"].GetUint() == 0;
    }

private:
    static DaemonOptions options() {
        DaemonOptions options;
        options.threads = 32;
        options.tokens = {{"lab-app", "pool-http-token-0123456789", "operator"}};
        SiteOptions& site = options.sites.front();
        site.storage_pool = "default-pool";
        site.templates = {{.name = "tiny", .base_image = "/var/lib/paddock/test/base.qcow2", .memory_mb = 128}};
        site.pools = {
            {.name = "lab",
             .template_name = "tiny",
             .mode = "saved",
             .min_idle = 5,
             .max_total = 5,
             .max_per_owner = 1,
             .default_ttl_s = 600,
             .max_ttl_s = 900},
            {.name = "burst",
             .template_name = "tiny",
             .mode = "running",
             .min_idle = 0,
             .max_total = 2,
             .on_empty = "cold"},
            {.name = "crowd",
             .template_name = "tiny",
             .mode = "running",
             .min_idle = 10,
             .max_total = 10,
             .max_per_owner = 0},
        };
        return options;
    }
};

}  // namespace

TEST_CASE("pools over HTTP: list, allocate, caps, idempotency, extend, release, expiry", "[pool][http]") {
    PoolDaemon d;
    REQUIRE(eventually([&] { return d.idle("lab", 5); }));

    auto pools = d.call("GET", "/api/v1/pools");
    REQUIRE(pools.status == 200);
    const auto list = pools.json();
    REQUIRE(list["pools"].Size() == 3);
    const auto& lab = list["pools"][0];
    CHECK(jsonString(lab["name"]) == "lab");
    CHECK(jsonString(lab["site"]) == "local");
    CHECK(jsonString(lab["mode"]) == "saved");
    CHECK(jsonString(lab["template"]) == "tiny");
    CHECK(lab["min_idle"].GetUint() == 5);
    CHECK(lab["max_total"].GetUint() == 5);
    CHECK(lab["total"].GetUint() == 5);
    CHECK(lab["allocated"].GetUint() == 0);
    CHECK(d.call("GET", "/api/v1/pools/nope").status == 404);
    CHECK(d.call("POST", "/api/v1/pools/nope/allocate", "{}").status == 404);

    // Allocate: the lease with its VM, owner and expiry.
    auto first = d.call("POST", "/api/v1/pools/lab/allocate", R"({"owner":"alice","ttl_s":120})");
    REQUIRE(first.status == 200);
    const auto lease = first.json();
    const std::string leaseId = jsonString(lease["id"]);
    const std::string vm = jsonString(lease["vm"]);
    CHECK(jsonString(lease["owner"]) == "alice");
    CHECK(jsonString(lease["pool"]) == "lab");
    CHECK(lease["ttl_s"].GetInt() <= 120);
    CHECK(lease["ttl_s"].GetInt() > 100);
    CHECK(lease["ssh"].IsNull());  // network_mode none
    auto vmReply = d.call("GET", "/api/v1/vms/" + vm);
    REQUIRE(vmReply.status == 200);
    CHECK(jsonString(vmReply.json()["vm"]["state"]) == "running");
    CHECK(jsonString(vmReply.json()["vm"]["owner"]) == "alice");

    // Per-owner cap; bad input.
    auto capped = d.call("POST", "/api/v1/pools/lab/allocate", R"({"owner":"alice"})");
    CHECK(capped.status == 409);
    CHECK(capped.body.find("(max_per_owner 1)") != std::string::npos);
    CHECK(d.call("POST", "/api/v1/pools/lab/allocate", R"({"owner":"bob","ttl_s":0})").status == 400);
    CHECK(d.call("POST", "/api/v1/pools/lab/allocate", R"({"owner":"bob","color":"red"})").status == 400);

    // Idempotency-Key: the same lease again, for the same owner only.
    const std::vector<std::pair<std::string, std::string>> key{{"Idempotency-Key", "req-42"}};
    auto bob = d.call("POST", "/api/v1/pools/lab/allocate", R"({"owner":"bob"})", std::nullopt, key);
    REQUIRE(bob.status == 200);
    auto bobAgain = d.call("POST", "/api/v1/pools/lab/allocate", R"({"owner":"bob"})", std::nullopt, key);
    REQUIRE(bobAgain.status == 200);
    CHECK(jsonString(bobAgain.json()["id"]) == jsonString(bob.json()["id"]));
    CHECK(bobAgain.headers["Idempotent-Replayed"] == "true");
    CHECK(d.call("POST", "/api/v1/pools/lab/allocate", R"({"owner":"carol"})", std::nullopt, key).status == 409);

    // Without an owner, the token's name owns the lease.
    auto app = d.call("POST", "/api/v1/pools/lab/allocate");
    REQUIRE(app.status == 200);
    CHECK(jsonString(app.json()["owner"]) == "lab-app");

    // Listing with filters, one lease, extend (capped at max_ttl_s from creation).
    auto all = d.call("GET", "/api/v1/leases?pool=lab");
    REQUIRE(all.status == 200);
    CHECK(all.json()["leases"].Size() == 3);
    auto alices = d.call("GET", "/api/v1/leases?owner=alice");
    REQUIRE(alices.json()["leases"].Size() == 1);
    CHECK(jsonString(alices.json()["leases"][0]["id"]) == leaseId);
    CHECK(d.call("GET", "/api/v1/leases?pool=nope").status == 404);
    CHECK(d.call("GET", "/api/v1/leases/" + leaseId).status == 200);
    auto extended = d.call("POST", "/api/v1/leases/" + leaseId + "/extend", R"({"ttl_s":100000})");
    REQUIRE(extended.status == 200);
    CHECK(extended.json()["ttl_s"].GetInt() > 800);
    CHECK(extended.json()["ttl_s"].GetInt() <= 900);
    CHECK(d.call("POST", "/api/v1/leases/" + leaseId + "/extend", "{}").status == 400);
    CHECK(d.call("POST", "/api/v1/leases/lease-nope/extend", R"({"ttl_s":10})").status == 404);

    // Release: the VM is gone, the lease too, and the pool refills.
    auto released = d.call("DELETE", "/api/v1/leases/" + leaseId);
    REQUIRE(released.status == 200);
    CHECK(jsonString(released.json()["status"]) == "released");
    CHECK(d.call("GET", "/api/v1/vms/" + vm).status == 404);
    CHECK(d.call("GET", "/api/v1/leases/" + leaseId).status == 404);
    CHECK(d.call("DELETE", "/api/v1/leases/" + leaseId).status == 404);

    // Expiry: a 1 s lease ends by itself.
    auto shortLease = d.call("POST", "/api/v1/pools/lab/allocate", R"({"owner":"dave","ttl_s":1})");
    REQUIRE(shortLease.status == 200);
    const std::string shortVm = jsonString(shortLease.json()["vm"]);
    REQUIRE(eventually([&] { return d.call("GET", "/api/v1/vms/" + shortVm).status == 404; }));
    REQUIRE(eventually([&] { return d.idle("lab", 3); }));  // 5 minus bob's and lab-app's leases

    // Metrics.
    auto metrics = d.call("GET", "/metrics");
    REQUIRE(metrics.status == 200);
    for (const char* family :
         {"paddock_pool_idle_vms{", "paddock_pool_allocated_vms{", "paddock_pool_vms{",
          "paddock_pool_allocations_total{", "paddock_pool_releases_total{", "paddock_pool_expiries_total{",
          "paddock_pool_allocate_duration_seconds_bucket{", "paddock_pool_refill_duration_seconds_bucket{"}) {
        INFO(family);
        CHECK(metrics.body.find(family) != std::string::npos);
    }
}

TEST_CASE("100 concurrent HTTP allocations: each VM to at most one owner, the rest 503", "[pool][http][atomicity]") {
    PoolDaemon d;
    REQUIRE(eventually([&] { return d.idle("crowd", 10); }));
    // Catch2 is not thread-safe, and json() throws on a body that is not JSON: the threads only
    // keep what they got (or the exception's text); everything is judged here afterwards.
    struct Outcome {
        std::string owner;
        std::optional<HttpReply> reply;
        std::string error;
    };
    std::vector<Outcome> outcomes(100);
    std::vector<std::thread> threads;
    for (int i = 0; i < 100; ++i) {
        threads.emplace_back([&d, &outcome = outcomes[i], i] {
            outcome.owner = "student-" + std::to_string(i);
            try {
                outcome.reply =
                    d.call("POST", "/api/v1/pools/crowd/allocate", R"({"owner":")" + outcome.owner + R"("})");
            } catch (const std::exception& e) {
                outcome.error = e.what();
            }
        });
    }
    for (auto& t : threads) t.join();
    std::map<std::string, std::string> ownerOfVm;
    std::vector<std::string> duplicates;
    std::map<int, int> statuses;
    for (const auto& outcome : outcomes) {
        INFO(outcome.owner << ": " << outcome.error);
        REQUIRE(outcome.reply.has_value());
        ++statuses[outcome.reply->status];
        if (outcome.reply->status != 200) continue;
        const auto doc = outcome.reply->json();
        if (!ownerOfVm.emplace(jsonString(doc["vm"]), outcome.owner).second)
            duplicates.push_back(jsonString(doc["vm"]));
    }
    CHECK(duplicates.empty());
    CHECK(statuses[200] == 10);
    CHECK(statuses[503] == 90);
    const auto leases = d.call("GET", "/api/v1/leases?pool=crowd").json();
    REQUIRE(leases["leases"].Size() == 10);
    for (const auto& l : leases["leases"].GetArray()) CHECK(ownerOfVm[l["vm"].GetString()] == l["owner"].GetString());
}

TEST_CASE("an empty cold pool answers 202 with an operation that ends in a lease", "[pool][http]") {
    PoolDaemon d;
    REQUIRE(eventually([&] { return d.pool("burst")["recovered"].GetBool(); }));
    auto accepted = d.call("POST", "/api/v1/pools/burst/allocate", R"({"owner":"erin"})");
    REQUIRE(accepted.status == 202);
    const auto op = accepted.json();
    const std::string id = jsonString(op["id"]);
    CHECK(accepted.headers["Location"] == "/api/v1/operations/" + id);
    CHECK(jsonString(op["status"]) == "pending");
    rapidjson::Document done;
    REQUIRE(eventually([&] {
        auto reply = d.call("GET", "/api/v1/operations/" + id);
        REQUIRE(reply.status == 200);
        done = reply.json();
        return jsonString(done["status"]) != "pending";
    }));
    REQUIRE(jsonString(done["status"]) == "done");
    CHECK(jsonString(done["lease"]["owner"]) == "erin");
    CHECK(d.call("GET", "/api/v1/leases/" + jsonString(done["lease"]["id"])).status == 200);
    CHECK(d.call("GET", "/api/v1/operations/op-nope").status == 404);
}

TEST_CASE("compat /pool/status and /pool/allocate keep the old shapes, backed by leases", "[pool][http][compat]") {
    PoolDaemon d;
    REQUIRE(eventually([&] { return d.idle("lab", 5); }));
    auto status = d.call("GET", "/pool/status");
    REQUIRE(status.status == 200);
    auto vms = status.json();
    REQUIRE(vms.IsArray());
    REQUIRE(vms.Size() == 5);
    for (const auto& v : vms.GetArray()) {
        CHECK(std::string(v["name"].GetString()).rfind("lab-", 0) == 0);
        CHECK(v["state_code"].GetInt() == 5);
        CHECK(jsonString(v["state"]) == "shut off");
        CHECK(v.MemberCount() == 3);
    }

    // No owner: "anonymous", and the old clients may allocate repeatedly; unknown fields ignored.
    std::set<std::string> names;
    for (int i = 0; i < 5; ++i) {
        auto reply = d.call("POST", "/pool/allocate",
                            i == 0 ? std::optional<std::string>() : std::optional<std::string>(R"({"x":1})"));
        REQUIRE(reply.status == 200);
        const auto doc = reply.json();
        CHECK(doc.MemberCount() == 1);
        names.insert(jsonString(doc["vm_name"]));
    }
    CHECK(names.size() == 5);
    auto empty = d.call("POST", "/pool/allocate");
    CHECK(empty.status == 503);
    auto anonymous = d.call("GET", "/api/v1/leases?owner=anonymous");
    CHECK(anonymous.json()["leases"].Size() == 5);
    auto running = d.call("GET", "/pool/status").json();
    size_t runningCount = 0;
    for (const auto& v : running.GetArray()) runningCount += std::string(v["state"].GetString()) == "running";
    CHECK(runningCount == 5);
}

TEST_CASE("allocations that wait for a boot are capped; beyond the cap 503 at once, and the API stays up",
          "[pool][http][hostile]") {
    // SSH readiness on the test driver never comes: an allocation from a shutoff pool starts the
    // VM and waits for it until ready_timeout_s, holding its worker all that time.
    DaemonOptions options;
    options.threads = 4;
    options.server_yaml = "  max_waiting_allocations: 1\n";
    options.tokens = {{"lab-app", "pool-http-token-0123456789", "operator"}};
    SiteOptions& site = options.sites.front();
    site.storage_pool = "default-pool";
    site.network_mode = "user";
    site.ssh_port_min = 40100;
    site.ssh_port_max = 40199;
    site.ready_timeout_s = 6;
    site.templates = {{.name = "tiny", .base_image = "/var/lib/paddock/test/base.qcow2", .memory_mb = 128}};
    site.pools = {{.name = "slow",
                   .template_name = "tiny",
                   .mode = "shutoff",
                   .min_idle = 2,
                   .max_total = 2,
                   .max_per_owner = 0}};
    PaddockdFixture d(options);
    REQUIRE(eventually([&] {
        auto p = d.call("GET", "/api/v1/pools/slow");
        return p.status == 200 && p.json()["idle"].GetUint() == 2;
    }));

    HttpReply first;
    std::thread waiting([&] { first = d.call("POST", "/api/v1/pools/slow/allocate", R"({"owner":"alice"})"); });
    REQUIRE(eventually([&] { return d.metric("paddock_http_waiting_allocations") == 1; }, 30s));
    const auto refused = d.call("POST", "/api/v1/pools/slow/allocate", R"({"owner":"bob"})");
    CHECK(refused.status == 503);
    CHECK(refused.body.find("max_waiting_allocations") != std::string::npos);
    const auto compat = d.call("POST", "/pool/allocate", R"({"owner":"carol"})");
    CHECK(compat.status == 503);
    // The other workers still serve.
    CHECK(d.call("GET", "/healthz").status != 0);
    CHECK(d.call("GET", "/api/v1/vms").status == 200);
    CHECK(d.metric("paddock_http_waiting_allocations_refused_total") == 2);
    waiting.join();
    CHECK(first.status >= 500);  // the guest never answered SSH
    CHECK(d.metric("paddock_http_waiting_allocations") == 0);
}
