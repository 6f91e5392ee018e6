// VmService's snapshots and a template's snapshot_on_stop, against the real libvirt-qemu plugin
// on libvirt's in-process test driver.
#include "paddock/core/plugin_host.hpp"
#include "paddock/core/vm_metadata.hpp"
#include "paddock/core/vm_service.hpp"
#include "result_checks.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace paddock;

namespace {

// A site on a fresh test:///default connection with one diskless template, "lab", whose VMs
// are snapshotted before every stop (the newest 2 kept, at most 3 snapshots per VM). The audit
// log is a file, to read every record.
struct SnapshotSite {
    SnapshotSite() {
        REQUIRE(host.loadFile(test::pluginDir() + "/paddock_libvirt_qemu.so").ok());
        auto plugin = host.backend("org.paddock.libvirt-qemu");
        REQUIRE(plugin.ok());
        SiteConfig cfg;
        cfg.name = "test";
        cfg.uri = "test:///default";
        cfg.storage_pool = "default-pool";
        TemplateConfig lab;
        lab.name = "lab";
        lab.snapshot_on_stop = true;
        lab.snapshot_on_stop_keep = 2;
        lab.snapshot_limit = 3;
        cfg.templates = {lab};
        site = std::make_unique<Site>(cfg, plugin.value(), events, SshIdentity{}, metrics);
        REQUIRE(site->connect().ok());
        service = std::make_unique<VmService>(*site, audit, metrics);
    }
    VmView make(const std::string& name, bool start, Metadata metadata = {}) {
        CreateVmRequest r;
        r.name = name;
        r.start = start;
        r.template_name = "lab";
        r.metadata = std::move(metadata);
        auto made = service->create(r, "tester");
        REQUIRE(made.ok());
        return made.value();
    }
    std::vector<std::string> names(const std::string& vm) {
        auto list = service->snapshots(vm);
        REQUIRE(list.ok());
        std::vector<std::string> out;
        for (const auto& s : list.value()) out.push_back(s.name);
        return out;
    }
    std::string auditText() const {
        std::ifstream in(dir.file("audit.log"));
        std::stringstream all;
        all << in.rdbuf();
        return all.str();
    }
    test::TempDir dir;
    PluginHost host;
    AuditLog audit{dir.file("audit.log")};
    CoreMetrics metrics;
    std::shared_ptr<EventHub> events = EventHub::create();
    std::unique_ptr<Site> site;
    std::unique_ptr<VmService> service;
};

const SnapshotInfo& find(const std::vector<SnapshotInfo>& list, const std::string& name) {
    for (const auto& s : list)
        if (s.name == name) return s;
    FAIL("no snapshot " << name);
    throw;
}

}  // namespace

TEST_CASE("snapshots: take, list with their facts, the replace rule, delete", "[vm_service][snapshots]") {
    SnapshotSite s;
    auto& svc = *s.service;
    s.make("snap-1", true);

    auto first = svc.createSnapshot("snap-1", {"before-lab", "clean state", false}, "tester");
    REQUIRE(first.ok());
    CHECK(first->name == "before-lab");
    CHECK(first->description == "clean state");
    CHECK(first->state == DomainState::Running);
    CHECK(first->has_memory);
    CHECK(first->created_at > 0);
    CHECK_THAT(s.audit.lastLine(), Catch::Contains("\"action\":\"snapshot_create\"") &&
                                       Catch::Contains("\"target\":\"before-lab\""));

    // A same-named snapshot: 409 unless replace.
    auto again = svc.createSnapshot("snap-1", {"before-lab", "", false}, "tester");
    CHECK(failure(again).code == ErrorCode::Conflict);
    CHECK_THAT(failure(again).message, Catch::Contains("replace"));
    auto replaced = svc.createSnapshot("snap-1", {"before-lab", "second take", true}, "tester");
    REQUIRE(replaced.ok());
    CHECK(replaced->description == "second take");
    CHECK(s.names("snap-1") == std::vector<std::string>{"before-lab"});

    REQUIRE(svc.forceStop("snap-1", "tester").ok());
    auto off = svc.createSnapshot("snap-1", {"powered-off", "", false}, "tester");
    REQUIRE(off.ok());
    CHECK(off->state == DomainState::Shutoff);
    CHECK_FALSE(off->has_memory);
    CHECK(off->is_current);
    CHECK(off->parent == "before-lab");

    // Bad names and texts are refused before anything happens.
    CHECK(failure(svc.createSnapshot("snap-1", {"Bad Name", "", false}, "t")).code == ErrorCode::InvalidArgument);
    CHECK(failure(svc.createSnapshot("snap-1", {"", "", false}, "t")).code == ErrorCode::InvalidArgument);
    CHECK(failure(svc.createSnapshot("snap-1", {"ok", std::string(2000, 'x'), false}, "t")).code ==
          ErrorCode::InvalidArgument);
    CHECK(failure(svc.createSnapshot("snap-1", {"ok", "a\x01" "b", false}, "t")).code == ErrorCode::InvalidArgument);
    CHECK(failure(svc.createSnapshot("no-such-vm", {"ok", "", false}, "t")).code == ErrorCode::NotFound);
    CHECK(failure(svc.snapshots("no-such-vm")).code == ErrorCode::NotFound);
    CHECK(failure(svc.snapshots("../etc")).code == ErrorCode::InvalidArgument);

    CHECK(failure(svc.deleteSnapshot("snap-1", "missing", "t")).code == ErrorCode::NotFound);
    REQUIRE(svc.deleteSnapshot("snap-1", "before-lab", "tester").ok());
    CHECK(s.names("snap-1") == std::vector<std::string>{"powered-off"});

    // Deleting the VM takes its snapshots along (libvirt refuses to undefine otherwise).
    REQUIRE(svc.remove("snap-1", "tester").ok());
    CHECK(failure(svc.snapshots("snap-1")).code == ErrorCode::NotFound);
}

TEST_CASE("revert restores the recorded power state unless told otherwise", "[vm_service][snapshots]") {
    SnapshotSite s;
    auto& svc = *s.service;
    s.make("rev-1", true);
    REQUIRE(svc.createSnapshot("rev-1", {"on", "", false}, "t").ok());
    REQUIRE(svc.forceStop("rev-1", "t").ok());
    REQUIRE(svc.createSnapshot("rev-1", {"off", "", false}, "t").ok());

    auto on = svc.revertSnapshot("rev-1", "on", std::nullopt, "tester");
    REQUIRE(on.ok());
    CHECK(on->domain.state == DomainState::Running);
    CHECK_THAT(s.audit.lastLine(), Catch::Contains("\"action\":\"snapshot_revert\"") &&
                                       Catch::Contains("\"target\":\"on\""));
    auto off = svc.revertSnapshot("rev-1", "off", std::nullopt, "tester");
    REQUIRE(off.ok());
    CHECK(off->domain.state == DomainState::Shutoff);

    auto onButOff = svc.revertSnapshot("rev-1", "on", false, "tester");
    REQUIRE(onButOff.ok());
    CHECK(onButOff->domain.state == DomainState::Shutoff);
    auto offButOn = svc.revertSnapshot("rev-1", "off", true, "tester");
    REQUIRE(offButOn.ok());
    CHECK(offButOn->domain.state == DomainState::Running);
    CHECK(svc.get("rev-1")->domain.state == DomainState::Running);

    CHECK(failure(svc.revertSnapshot("rev-1", "nope", std::nullopt, "t")).code == ErrorCode::NotFound);
    CHECK(failure(svc.revertSnapshot("rev-1", "a/b", std::nullopt, "t")).code == ErrorCode::InvalidArgument);
}

TEST_CASE("snapshot on stop: taken, pruned to the newest N, never for pool VMs, a failure reported",
          "[vm_service][snapshots]") {
    SnapshotSite s;
    auto& svc = *s.service;
    s.make("lab-1", false);

    std::vector<std::string> taken;
    for (int i = 0; i < 3; ++i) {
        REQUIRE(svc.start("lab-1", "teacher").ok());
        auto stopped = svc.stop("lab-1", "teacher");
        REQUIRE(stopped.ok());
        CHECK(stopped->outcome != StopOutcome::AlreadyStopped);
        REQUIRE(stopped->snapshot);
        CHECK_FALSE(stopped->snapshot->error);
        CHECK_THAT(stopped->snapshot->name, Catch::StartsWith(kStopSnapshotPrefix));
        taken.push_back(stopped->snapshot->name);
        if (i == 2) CHECK(stopped->snapshot->pruned == std::vector<std::string>{taken.front()});
    }
    // Three stops in the same second still get three names; the oldest was pruned (keep 2).
    CHECK(taken[0] != taken[1]);
    CHECK(taken[1] != taken[2]);
    CHECK(s.names("lab-1") == std::vector<std::string>{taken[1], taken[2]});
    auto list = svc.snapshots("lab-1");
    REQUIRE(list.ok());
    CHECK(find(list.value(), taken[2]).state == DomainState::Running);
    CHECK(find(list.value(), taken[2]).has_memory);

    // A stopped VM is not snapshotted again.
    auto idle = svc.stop("lab-1", "teacher");
    REQUIRE(idle.ok());
    CHECK(idle->outcome == StopOutcome::AlreadyStopped);
    CHECK_FALSE(idle->snapshot);

    // Forced failure: a manual snapshot fills the template's limit (3), so the next stop cannot
    // take one. The VM stops all the same; the failure is in the answer and in the audit log.
    REQUIRE(svc.createSnapshot("lab-1", {"keep-me", "", false}, "teacher").ok());
    REQUIRE(svc.start("lab-1", "teacher").ok());
    auto failed = svc.stop("lab-1", "teacher");
    REQUIRE(failed.ok());
    CHECK(failed->outcome != StopOutcome::AlreadyStopped);
    CHECK(svc.get("lab-1")->domain.state == DomainState::Shutoff);
    REQUIRE(failed->snapshot);
    REQUIRE(failed->snapshot->error);
    CHECK(failed->snapshot->error->code == ErrorCode::Conflict);
    CHECK_THAT(failed->snapshot->error->message,
               Catch::Contains("no snapshot was taken before the stop") && Catch::Contains("snapshot_limit"));
    CHECK(s.names("lab-1").size() == 3);
    const std::string audit = s.auditText();
    CHECK_THAT(audit, Catch::Contains("\"action\":\"snapshot_on_stop\"") && Catch::Contains("\"result\":\"error\""));
    CHECK_THAT(audit, Catch::Contains("\"action\":\"snapshot_prune\""));
    CHECK_THAT(s.audit.lastLine(), Catch::Contains("\"action\":\"stop\"") && Catch::Contains("\"result\":\"ok\""));

    // A pool's throwaway VM is never snapshotted, whatever its template says.
    s.make("pool-vm-1", true, {{meta::kPool, "p1"}});
    auto poolStop = svc.stop("pool-vm-1", "system");
    REQUIRE(poolStop.ok());
    CHECK_FALSE(poolStop->snapshot);
    CHECK(s.names("pool-vm-1").empty());
}
