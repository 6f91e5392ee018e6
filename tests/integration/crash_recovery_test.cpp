// Crash consistency against the real qemu:///system: for every kill point paddockd has
// (kCrashPoints), paddockd is started with that point armed, made to reach it, and SIGKILLs
// itself there (no destructor, no flush). A new paddockd on the same state directory must then
// settle, by itself, to a state where nothing is lost and nothing is orphaned:
//   - no domain still carries an intent record (a half-made or half-removed VM);
//   - every overlay volume is the disk of a domain, and every domain is one paddockd knows;
//   - every pool's counts add up and no VM is left booting; every lease names a VM that exists;
//   - a cold allocation's operation ends done (with a lease whose VM exists) or failed (and its
//     VM is gone); a lease being released is gone.
// The guests are TCG machines with a blank 16 MiB disk: nothing boots, which is all that is
// needed here (network mode none: no SSH readiness to wait for).
#include "paddock/core/crash_point.hpp"
#include "paddockd_site.hpp"

#include <Poco/Exception.h>
#include <catch2/catch.hpp>

#include <unistd.h>

#include <csignal>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

using namespace paddock::test;
using namespace std::chrono_literals;

namespace {

enum class Scenario { Create, Delete, PoolFill, PoolAllocate, PoolRelease, PoolExpire, ColdAllocate };

Scenario scenarioOf(std::string_view point) {
    const std::map<std::string_view, Scenario> byPrefix = {
        {"vm.create.", Scenario::Create},         {"vm.delete.", Scenario::Delete},
        {"pool.fill.", Scenario::PoolFill},       {"pool.allocate.", Scenario::PoolAllocate},
        {"pool.release.", Scenario::PoolRelease}, {"pool.expire.", Scenario::PoolExpire},
        {"pool.cold.", Scenario::ColdAllocate}};
    for (const auto& [prefix, scenario] : byPrefix)
        if (point.substr(0, prefix.size()) == prefix) return scenario;
    FAIL("crash point " << point << " has no scenario here: add one");
    return Scenario::Create;
}

bool isPool(Scenario s) { return s != Scenario::Create && s != Scenario::Delete; }

// A blank 16 MiB qcow2 in `dir`, the template's base image.
std::string makeBaseImage(const TempDir& dir) {
    const std::string base = dir.file("base.qcow2");
    if (std::system(("qemu-img create -q -f qcow2 '" + base + "' 16M").c_str()) != 0)
        throw std::runtime_error("qemu-img create failed for " + base);
    return base;
}

// One crash point's world: its own names on qemu:///system, a template over a blank base
// image, and for pool scenarios one pool named like the prefix (its VMs: "<prefix>-...").
// Members go in reverse order: paddockd stops, then the sweeper removes what is left, then
// the base image goes.
struct CrashSite {
    std::string prefix;
    TempDir images;
    DomainSweeper sweeper;
    PaddockdFixture paddockd;

    CrashSite(const std::string& prefix_, Scenario scenario)
        : prefix(prefix_), sweeper{prefix_}, paddockd(options(prefix_, scenario, makeBaseImage(images))) {}

    static DaemonOptions options(const std::string& prefix, Scenario scenario, const std::string& baseImage) {
        auto options = systemOptions();
        options.start = false;
        SiteOptions& site = options.sites.front();
        site.stop_timeout_s = 2;  // nothing in the guest answers ACPI
        site.templates = {{.name = "blank", .base_image = baseImage, .memory_mb = 64}};
        if (isPool(scenario)) {
            PoolOptions pool;
            pool.name = prefix;
            pool.template_name = "blank";
            pool.mode = "saved";
            pool.max_total = 2;
            pool.max_per_owner = 0;
            if (scenario == Scenario::ColdAllocate) {
                pool.min_idle = 0;
                pool.max_total = 1;
                pool.on_empty = "cold";
            } else {
                pool.min_idle = 1;
            }
            site.pools = {pool};
        }
        return options;
    }
};

bool poolIdle(PaddockdFixture& d, const std::string& pool, unsigned idle) {
    auto reply = d.call("GET", "/api/v1/pools/" + pool);
    return reply.status == 200 && reply.json()["idle"].GetUint() >= idle;
}

std::string allocate(PaddockdFixture& d, const std::string& pool, const std::string& body) {
    auto reply = d.call("POST", "/api/v1/pools/" + pool + "/allocate", body);
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    return jsonString(reply.json()["id"]);
}

// A request whose connection may drop: paddockd is meant to die while it answers.
std::optional<HttpReply> fire(PaddockdFixture& d, const std::string& method, const std::string& path,
                              const std::string& body = {}) {
    try {
        return d.call(method, path, body.empty() ? std::nullopt : std::optional<std::string>(body));
    } catch (const Poco::Exception&) {
        return std::nullopt;
    }
}

// What the scenario did that the check needs: the cold operation's id, the lease released.
struct Done {
    std::string operation;
    std::string lease;
};

// Makes paddockd reach the scenario's points; the request that meets the armed one gets no
// answer (the connection drops), which the scenario does not look at.
Done drive(CrashSite& s, Scenario scenario) {
    PaddockdFixture& d = s.paddockd;
    const std::string vm = s.prefix + "-vm";
    Done done;
    switch (scenario) {
        case Scenario::Create:
            (void)fire(d, "POST", "/api/v1/vms", R"({"name":")" + vm + R"(","template":"blank","start":true})");
            break;
        case Scenario::Delete: {
            auto created = d.call("POST", "/api/v1/vms", R"({"name":")" + vm + R"(","template":"blank","start":true})");
            INFO(created.body);
            REQUIRE(created.status == 201);
            (void)fire(d, "DELETE", "/api/v1/vms/" + vm);
            break;
        }
        case Scenario::PoolFill: break;  // the pool fills by itself at start
        case Scenario::PoolAllocate:
            REQUIRE(eventually([&] { return poolIdle(d, s.prefix, 1); }, 180s, 250ms));
            (void)fire(d, "POST", "/api/v1/pools/" + s.prefix + "/allocate", R"({"owner":"alice"})");
            break;
        case Scenario::PoolRelease:
            REQUIRE(eventually([&] { return poolIdle(d, s.prefix, 1); }, 180s, 250ms));
            done.lease = allocate(d, s.prefix, R"({"owner":"alice"})");
            (void)fire(d, "DELETE", "/api/v1/leases/" + done.lease);
            break;
        case Scenario::PoolExpire:
            REQUIRE(eventually([&] { return poolIdle(d, s.prefix, 1); }, 180s, 250ms));
            done.lease = allocate(d, s.prefix, R"({"owner":"alice","ttl_s":1})");
            break;  // the reconciler expires it within seconds
        case Scenario::ColdAllocate: {
            auto accepted = fire(d, "POST", "/api/v1/pools/" + s.prefix + "/allocate", R"({"owner":"alice"})");
            if (accepted && accepted->status == 202) done.operation = jsonString(accepted->json()["id"]);
            break;
        }
    }
    return done;
}

// The invariants of the file comment; "" when they hold, else what does not.
std::string inconsistency(CrashSite& s, Scenario scenario, const Done& done) {
    PaddockdFixture& d = s.paddockd;
    const auto domains = systemDomains(s.prefix);
    std::set<std::string> disks;
    for (const auto& name : domains) {
        const std::string xml = commandOutput("virsh -q -c qemu:///system dumpxml '" + name + "' 2>/dev/null");
        if (xml.find("key=\"intent\"") != std::string::npos)
            return "domain " + name + " still carries an intent record";
        for (const auto& line : outputLines("virsh -q -c qemu:///system domblklist '" + name + "' 2>/dev/null")) {
            const auto slash = line.rfind('/');
            if (slash != std::string::npos) disks.insert(line.substr(slash + 1));
        }
        auto reply = d.call("GET", "/api/v1/vms/" + name);
        if (reply.status != 200)
            return "domain " + name + " is unknown to paddockd (" + std::to_string(reply.status) + ")";
    }
    for (const auto& volume : systemVolumes("paddock", s.prefix))
        if (disks.count(volume) == 0) return "volume " + volume + " is no domain's disk";
    if (!isPool(scenario)) return {};

    auto pool = d.call("GET", "/api/v1/pools/" + s.prefix);
    if (pool.status != 200) return "pool answers " + std::to_string(pool.status);
    const auto p = pool.json();
    if (!p["recovered"].GetBool()) return "pool not recovered yet";
    if (p["booting"].GetUint() != 0) return "pool still booting";
    if (p["idle"].GetUint() + p["allocated"].GetUint() != p["total"].GetUint())
        return "pool counts do not add up: " + pool.body;
    if (p["total"].GetUint() != domains.size())
        return "pool counts " + std::to_string(p["total"].GetUint()) + " VMs, libvirt has " +
               std::to_string(domains.size());
    // Back to its target: min_idle 1 idle VM, unless max_total leaves no room for one.
    if (scenario != Scenario::ColdAllocate && p["idle"].GetUint() < 1 &&
        p["total"].GetUint() < p["max_total"].GetUint())
        return "pool not back to its target: " + pool.body;
    const std::set<std::string> names(domains.begin(), domains.end());
    auto leases = d.call("GET", "/api/v1/leases?pool=" + s.prefix);
    if (leases.status != 200) return "leases answer " + std::to_string(leases.status);
    const auto l = leases.json();
    for (const auto& lease : l["leases"].GetArray())
        if (names.count(jsonString(lease["vm"])) == 0)
            return "lease " + jsonString(lease["id"]) + " names a VM that is gone";
    if (scenario == Scenario::PoolRelease && d.call("GET", "/api/v1/leases/" + done.lease).status != 404)
        return "released lease " + done.lease + " is still there";
    if (!done.operation.empty()) {
        auto op = d.call("GET", "/api/v1/operations/" + done.operation);
        if (op.status != 200) return "operation answers " + std::to_string(op.status);
        const auto o = op.json();
        const std::string status = jsonString(o["status"]);
        if (status == "pending") return "operation still pending";
        if (status == "done" && d.call("GET", "/api/v1/leases/" + jsonString(o["lease"]["id"])).status != 200)
            return "operation done but its lease is gone";
        if (status == "failed" && !domains.empty() && p["allocated"].GetUint() != 0)
            return "operation failed but a VM is allocated";
    }
    return {};
}

}  // namespace

TEST_CASE("killed at every crash point, a restarted paddockd loses nothing and leaves nothing behind",
          "[system][crash]") {
    requireLibvirt("qemu:///system");
    REQUIRE(paddock::kCrashPoints.size() > 0);
    int index = 0;
    for (const auto point : paddock::kCrashPoints) {
        const Scenario scenario = scenarioOf(point);
        DYNAMIC_SECTION(point) {
            CrashSite s("crash-" + std::to_string(::getpid()) + "-" + std::to_string(index), scenario);
            s.paddockd.start({"PADDOCK_CRASH_POINT=" + std::string(point)});
            const Done done = drive(s, scenario);
            const int code = s.paddockd.waitExit(180);
            INFO("paddockd log before the restart:\n" << s.paddockd.log());
            REQUIRE(code == 128 + SIGKILL);  // it reached the point and killed itself there
            s.paddockd.start();
            std::string last;
            const bool settled =
                eventually([&] { return (last = inconsistency(s, scenario, done)).empty(); }, 180s, 500ms);
            INFO("last inconsistency: " << last << "\npaddockd log after the restart:\n" << s.paddockd.log());
            CHECK(settled);
            // Whatever is left is still paddockd's to remove: delete every VM through the API.
            for (const auto& name : systemDomains(s.prefix)) {
                if (isPool(scenario)) break;  // pool VMs go with the pool's own teardown
                CHECK(s.paddockd.call("DELETE", "/api/v1/vms/" + name).status == 200);
            }
            if (!isPool(scenario)) {
                CHECK(systemDomains(s.prefix).empty());
                CHECK(systemVolumes("paddock", s.prefix).empty());
            }
        }
        ++index;
    }
}
