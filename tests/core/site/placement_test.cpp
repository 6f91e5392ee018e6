#include "paddock/core/placement.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using Catch::Matchers::Contains;
using paddock::choosePlacement;
using paddock::ErrorCode;
using paddock::PlacementCandidate;
using paddock::PlacementPolicy;
using paddock::PlacementRequest;
using paddock::placementRefusal;

namespace {

PlacementCandidate site(std::string name, uint32_t vms = 0, uint32_t maxVms = 0) {
    PlacementCandidate c;
    c.site = std::move(name);
    c.up = true;
    c.has_template = true;
    c.vm_count = vms;
    c.committed_memory_mb = uint64_t{vms} * 512;
    c.max_vms = maxVms;
    c.new_vm_memory_mb = 512;
    return c;
}

std::string chosen(const std::vector<PlacementCandidate>& candidates, PlacementPolicy policy) {
    auto decision = choosePlacement(candidates, PlacementRequest{"t", policy});
    REQUIRE(decision);
    return decision.value().site;
}

std::string refused(const std::vector<PlacementCandidate>& candidates, PlacementPolicy policy = PlacementPolicy::Spread) {
    auto decision = choosePlacement(candidates, PlacementRequest{"t", policy});
    REQUIRE_FALSE(decision);
    CHECK(decision.error().code == ErrorCode::Conflict);
    return decision.error().message;
}

}  // namespace

TEST_CASE("placementRefusal: each reason a site cannot take a VM", "[placement]") {
    const PlacementRequest request{"t", PlacementPolicy::Spread};
    CHECK_FALSE(placementRefusal(site("a"), request));

    auto down = site("a");
    down.up = false;
    CHECK(placementRefusal(down, request) == "down");
    down.down_reason = "connection refused";
    CHECK(placementRefusal(down, request) == "down (connection refused)");

    auto noTemplate = site("a");
    noTemplate.has_template = false;
    CHECK(placementRefusal(noTemplate, request) == "no template 't'");
    CHECK(placementRefusal(noTemplate, PlacementRequest{"", PlacementPolicy::Spread}) == "no template");

    auto selector = site("a");
    selector.selector_matches = false;
    CHECK(placementRefusal(selector, request) == "labels do not match the template's site_selector");

    CHECK(placementRefusal(site("a", 10, 10), request) == "max_vms 10 reached");
    CHECK(placementRefusal(site("a", 11, 10), request) == "max_vms 10 reached");
    CHECK_FALSE(placementRefusal(site("a", 9, 10), request));
    CHECK_FALSE(placementRefusal(site("a", 1000, 0), request));

    auto memory = site("a", 3);  // 1536 committed
    memory.max_memory_mb = 2048;
    CHECK_FALSE(placementRefusal(memory, request));  // exactly fits
    memory.max_memory_mb = 2047;
    CHECK(placementRefusal(memory, request) == "max_memory_mb 2047 exceeded (1536 committed + 512 requested)");
    memory.max_memory_mb = 1000;  // already over (a VM grown by hand): refused, no underflow
    CHECK(placementRefusal(memory, request) == "max_memory_mb 1000 exceeded (1536 committed + 512 requested)");

    auto free = site("a");
    free.free_memory_mb = 511;
    CHECK(placementRefusal(free, request) == "free memory 511 MiB < 512 MiB requested");
    free.free_memory_mb = 512;
    CHECK_FALSE(placementRefusal(free, request));

    // The first reason wins: down before capacity.
    auto both = site("a", 10, 10);
    both.up = false;
    CHECK(placementRefusal(both, request) == "down");
}

TEST_CASE("spread: the fewest VMs for the capacity, then the most memory, then config order", "[placement]") {
    const auto spread = PlacementPolicy::Spread;
    CHECK(chosen({site("a"), site("b"), site("c")}, spread) == "a");
    CHECK(chosen({site("a", 1), site("b"), site("c")}, spread) == "b");
    CHECK(chosen({site("a", 1), site("b", 1), site("c")}, spread) == "c");
    CHECK(chosen({site("a", 1), site("b", 1), site("c", 1)}, spread) == "a");
    CHECK(chosen({site("a", 2), site("b", 1), site("c", 2)}, spread) == "b");

    // Relative to max_vms: 5 of 100 is less loaded than 1 of 4.
    CHECK(chosen({site("a", 1, 4), site("b", 5, 100)}, spread) == "b");
    // Equal fractions (1 of 2, 2 of 4): the tie goes to memory, then to config order.
    CHECK(chosen({site("a", 1, 2), site("b", 2, 4)}, spread) == "a");
    // A site without max_vms counts as large as the largest configured one (10 here).
    CHECK(chosen({site("a", 3, 10), site("b", 4)}, spread) == "a");
    CHECK(chosen({site("a", 5, 10), site("b", 4)}, spread) == "b");

    // Same load: more memory left wins; unlimited memory is the most.
    auto small = site("a", 1);
    small.max_memory_mb = 4096;
    auto large = site("b", 1);
    large.max_memory_mb = 8192;
    CHECK(chosen({small, large}, spread) == "b");
    CHECK(chosen({large, site("c", 1)}, spread) == "c");
    auto reported = site("d", 1);
    reported.free_memory_mb = 100000;
    CHECK(chosen({large, reported}, spread) == "d");
    reported.free_memory_mb = 1000;
    CHECK(chosen({reported, large}, spread) == "b");

    // Sites that cannot take it are passed over however empty.
    auto down = site("a");
    down.up = false;
    CHECK(chosen({down, site("b", 7)}, spread) == "b");
    CHECK(chosen({site("a", 2, 2), site("b", 50)}, spread) == "b");
}

TEST_CASE("pack: the first site in config order that fits", "[placement]") {
    const auto pack = PlacementPolicy::Pack;
    CHECK(chosen({site("a", 5), site("b"), site("c")}, pack) == "a");
    CHECK(chosen({site("a", 2, 2), site("b", 9), site("c")}, pack) == "b");
    auto noTemplate = site("a");
    noTemplate.has_template = false;
    auto selector = site("b");
    selector.selector_matches = false;
    CHECK(chosen({noTemplate, selector, site("c", 3)}, pack) == "c");
}

TEST_CASE("choosePlacement: the reason says why, a refusal names every site", "[placement]") {
    auto decision = choosePlacement({site("a", 2, 2), site("b", 1, 10), site("c", 3)}, {"t", PlacementPolicy::Spread});
    REQUIRE(decision);
    CHECK(decision->site == "b");
    CHECK(decision->policy == "spread");
    CHECK_THAT(decision->reason, Contains("most headroom (1 of 10 VMs, memory unlimited)") &&
                                     Contains("also fit: c 3 VMs") && Contains("skipped a: max_vms 2 reached"));

    auto packed = choosePlacement({site("a", 2, 2), site("b", 1, 10)}, {"t", PlacementPolicy::Pack});
    REQUIRE(packed);
    CHECK(packed->policy == "pack");
    CHECK(packed->reason == "first site in config order with room (1 of 10 VMs); skipped a: max_vms 2 reached");

    auto down = site("lab-b");
    down.up = false;
    auto noTemplate = site("lab-d");
    noTemplate.has_template = false;
    const std::string message = refused({site("lab-a", 4, 4), down, site("lab-c", 10, 10), noTemplate});
    CHECK(message ==
          "no site can take the VM: lab-a: max_vms 4 reached; lab-b: down; lab-c: max_vms 10 reached; lab-d: no template 't'");
    CHECK(refused({site("a", 1, 1)}, PlacementPolicy::Pack) == "no site can take the VM: a: max_vms 1 reached");
    CHECK(refused({}) == "no site can take the VM: no sites");

    // Every site down is the hypervisors' trouble, not a full deployment: 503, not 409.
    auto downToo = site("lab-e");
    downToo.up = false;
    downToo.down_reason = "connection refused";
    auto allDown = choosePlacement({down, downToo}, {"t", PlacementPolicy::Pack});
    REQUIRE_FALSE(allDown);
    CHECK(allDown.error().code == ErrorCode::Unavailable);
    CHECK(allDown.error().message == "no site can take the VM: lab-b: down; lab-e: down (connection refused)");

    // Down where the template is and no template elsewhere: still 503. No template anywhere: 400.
    auto stillDown = choosePlacement({down, noTemplate}, {"t", PlacementPolicy::Spread});
    REQUIRE_FALSE(stillDown);
    CHECK(stillDown.error().code == ErrorCode::Unavailable);
    auto nowhere = choosePlacement({noTemplate, noTemplate}, {"t", PlacementPolicy::Spread});
    REQUIRE_FALSE(nowhere);
    CHECK(nowhere.error().code == ErrorCode::InvalidArgument);
    CHECK(nowhere.error().message == "no site can take the VM: lab-d: no template 't'; lab-d: no template 't'");
}

TEST_CASE("choosePlacement: deterministic, and spread evens out a run of creates", "[placement]") {
    // Simulate 200 creates on four sites, one of them smaller: each decision is applied and the
    // next one sees it. Spread keeps loads within one VM of each other, relative to capacity.
    std::vector<PlacementCandidate> sites{site("a", 0, 100), site("b", 0, 100), site("c", 0, 20), site("d", 0, 100)};
    for (int i = 0; i < 200; ++i) {
        auto first = choosePlacement(sites, {"t", PlacementPolicy::Spread});
        auto again = choosePlacement(sites, {"t", PlacementPolicy::Spread});
        REQUIRE(first);
        REQUIRE(again);
        REQUIRE(first->site == again->site);
        for (auto& s : sites)
            if (s.site == first->site) ++s.vm_count;
    }
    CHECK(sites[0].vm_count + sites[1].vm_count + sites[2].vm_count + sites[3].vm_count == 200);
    // Each site's last VM went there when it was the least loaded: (vi-1)/ci <= vj/cj for all j.
    for (const auto& i : sites)
        for (const auto& j : sites) CHECK(uint64_t{i.vm_count - 1} * j.max_vms <= uint64_t{j.vm_count} * i.max_vms);
    CHECK(sites[2].vm_count < sites[0].vm_count);

    // Equal sites take turns in config order.
    std::vector<PlacementCandidate> equal{site("a"), site("b"), site("c"), site("d")};
    std::string order;
    for (int i = 0; i < 8; ++i) {
        auto decision = choosePlacement(equal, {"t", PlacementPolicy::Spread});
        REQUIRE(decision);
        order += decision->site;
        for (auto& s : equal)
            if (s.site == decision->site) ++s.vm_count;
    }
    CHECK(order == "abcdabcd");

    // Pack fills in config order.
    std::vector<PlacementCandidate> packed{site("a", 0, 50), site("b", 0, 100), site("c", 0, 100)};
    for (int i = 0; i < 120; ++i) {
        auto decision = choosePlacement(packed, {"t", PlacementPolicy::Pack});
        REQUIRE(decision);
        for (auto& s : packed)
            if (s.site == decision->site) ++s.vm_count;
    }
    CHECK(packed[0].vm_count == 50);
    CHECK(packed[1].vm_count == 70);
    CHECK(packed[2].vm_count == 0);
}

TEST_CASE("host facts: an unusable template or too little free memory passes a site over", "[placement]") {
    const PlacementRequest request{"t", PlacementPolicy::Spread};
    auto missing = site("a");
    missing.template_unusable = "base image /img/t.qcow2: no storage pool on the remote host holds /img/t.qcow2";
    CHECK(placementRefusal(missing, request) ==
          "template 't' unusable here (base image /img/t.qcow2: no storage pool on the remote host holds "
          "/img/t.qcow2)");
    CHECK(placementRefusal(missing, PlacementRequest{"", PlacementPolicy::Spread})->rfind("template unusable here", 0) ==
          0);
    // Passed over however empty, and named in the reason; with no other site: 409 naming it.
    auto decision = choosePlacement({missing, site("b", 9)}, request);
    REQUIRE(decision);
    CHECK(decision.value().site == "b");
    CHECK_THAT(decision.value().reason, Contains("skipped a: template 't' unusable here"));
    CHECK_THAT(refused({missing}), Contains("a: template 't' unusable here"));
    CHECK_THAT(refused({missing}, PlacementPolicy::Pack), Contains("a: template 't' unusable here"));

    // Free memory in MiB, checked against the new VM's memory; spread prefers more free memory.
    auto tight = site("c");
    tight.free_memory_mb = 300;
    CHECK(placementRefusal(tight, request) == "free memory 300 MiB < 512 MiB requested");
    CHECK(chosen({tight, site("d", 3)}, PlacementPolicy::Spread) == "d");
    auto roomy = site("e", 1);
    roomy.free_memory_mb = 8000;
    auto roomier = site("f", 1);
    roomier.free_memory_mb = 16000;
    CHECK(chosen({roomy, roomier}, PlacementPolicy::Spread) == "f");
    CHECK(chosen({roomy, roomier}, PlacementPolicy::Pack) == "e");
}

TEST_CASE("placementCandidate takes the host facts it is given", "[placement]") {
    paddock::SiteConfig config;
    config.name = "lab";
    paddock::TemplateConfig t;
    t.name = std::string("t");  // moved in: g++ 12 warns falsely (-Wrestrict) on t.name = "t" at -O2
    t.memory_mb = 1024;
    config.templates.push_back(t);
    const paddock::Result<paddock::SiteLoad> none = paddock::SiteLoad{};
    auto plain = paddock::placementCandidate(config, none, "t", 0);
    CHECK_FALSE(plain.free_memory_mb);
    CHECK(plain.template_unusable.empty());
    CHECK_FALSE(placementRefusal(plain, PlacementRequest{"t", PlacementPolicy::Spread}));

    paddock::PlacementHostFacts facts;
    facts.free_memory_mb = 1000;
    auto low = paddock::placementCandidate(config, none, "t", 0, facts);
    CHECK(placementRefusal(low, PlacementRequest{"t", PlacementPolicy::Spread}) ==
          "free memory 1000 MiB < 1024 MiB requested");
    facts.free_memory_mb = 4096;
    facts.template_unusable = "base image /x: gone";
    auto gone = paddock::placementCandidate(config, none, "t", 0, facts);
    CHECK(placementRefusal(gone, PlacementRequest{"t", PlacementPolicy::Spread}) ==
          "template 't' unusable here (base image /x: gone)");
}
