// VmService against the real libvirt-qemu plugin on libvirt's in-process test driver.
#include "paddock/core/vm_service.hpp"

#include "paddock/core/metadata_store.hpp"
#include "paddock/core/plugin_host.hpp"
#include "paddock/core/vm_metadata.hpp"
#include "result_checks.hpp"
#include "test_support.hpp"
#include "vm/test_site.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <mutex>
#include <thread>

using namespace paddock;
using namespace paddock::test;

namespace {

CreateVmRequest request(const std::string& name, bool start = false) {
    CreateVmRequest r;
    r.name = name;
    r.start = start;
    return r;
}

bool exists(BackendConnection& c, const std::string& name) { return c.getDomain(name).ok(); }

}  // namespace

TEST_CASE("create, start, stop, restart and delete a diskless VM", "[vm_service]") {
    TestSite site;
    auto& svc = *site.service;

    auto req = request("vm-1");
    req.owner = "alice";
    req.vcpus = 2;
    req.memory_mb = 256;
    auto created = svc.create(req, "tester");
    REQUIRE(created.ok());
    CHECK(created->domain.state == DomainState::Shutoff);
    CHECK(created->owner == "alice");
    CHECK(created->domain.vcpus == 2);
    CHECK(created->memory_mb() == 256);
    CHECK(created->domain.uuid.size() == 36);
    CHECK(site.audit.lastLine().find("\"action\":\"create\"") != std::string::npos);
    CHECK(site.audit.lastLine().find("\"actor\":\"tester\"") != std::string::npos);

    REQUIRE(svc.start("vm-1", "tester").ok());
    CHECK(svc.get("vm-1")->domain.state == DomainState::Running);

    auto again = svc.start("vm-1", "tester");
    REQUIRE_FALSE(again.ok());
    CHECK(failure(again).code == ErrorCode::Conflict);
    CHECK(site.audit.lastLine().find("\"result\":\"error\"") != std::string::npos);

    auto stopped = svc.stop("vm-1", "tester");
    REQUIRE(stopped.ok());
    CHECK(stopped->outcome == StopOutcome::Graceful);
    CHECK_FALSE(stopped->snapshot);  // no template asks for one
    CHECK(svc.get("vm-1")->domain.state == DomainState::Shutoff);
    CHECK(svc.stop("vm-1", "tester")->outcome == StopOutcome::AlreadyStopped);

    REQUIRE(svc.restart("vm-1", "tester").ok());
    CHECK(svc.get("vm-1")->domain.state == DomainState::Running);

    REQUIRE(svc.remove("vm-1", "tester").ok());
    auto gone = svc.get("vm-1");
    REQUIRE_FALSE(gone.ok());
    CHECK(failure(gone).code == ErrorCode::NotFound);
}

TEST_CASE("create starts the VM unless start is false", "[vm_service]") {
    TestSite site;
    auto created = site.service->create(request("runner", true), "tester");
    REQUIRE(created.ok());
    CHECK(created->domain.state == DomainState::Running);
}

TEST_CASE("create rejects bad input and leaves nothing behind", "[vm_service]") {
    TestSite site;
    auto& svc = *site.service;

    auto bad = svc.create(request("Bad_Name"), "tester");
    REQUIRE_FALSE(bad.ok());
    CHECK(failure(bad).code == ErrorCode::InvalidArgument);

    auto tooBig = request("big");
    tooBig.vcpus = 65;
    CHECK(failure(svc.create(tooBig, "tester")).code == ErrorCode::InvalidArgument);
    auto tooSmall = request("small");
    tooSmall.memory_mb = 8;
    CHECK(failure(svc.create(tooSmall, "tester")).code == ErrorCode::InvalidArgument);
    CHECK_FALSE(exists(*site.connection, "big"));
    CHECK_FALSE(exists(*site.connection, "small"));

    auto unknownTemplate = request("t1");
    unknownTemplate.template_name = "nope";
    auto r = svc.create(unknownTemplate, "tester");
    REQUIRE_FALSE(r.ok());
    CHECK(failure(r).code == ErrorCode::InvalidArgument);
    CHECK(failure(r).message.find("nope") != std::string::npos);

    REQUIRE(svc.create(request("dup"), "tester").ok());
    auto dup = svc.create(request("dup"), "tester");
    REQUIRE_FALSE(dup.ok());
    CHECK(failure(dup).code == ErrorCode::AlreadyExists);
}

TEST_CASE("a VM from a template gets its own overlay, removed with the VM", "[vm_service]") {
    SiteConfig cfg;
    TemplateConfig t;
    t.name = "base";
    t.base_image = "/var/lib/paddock/test/base.qcow2";
    t.base_format = "qcow2";
    t.memory_mb = 300;
    cfg.templates.push_back(t);
    TestSite site(cfg);
    auto& svc = *site.service;

    auto created = svc.create(request("with-disk"), "tester");
    REQUIRE(created.ok());
    CHECK(created->template_name == "base");
    CHECK(created->image == t.base_image);
    CHECK(created->memory_mb() == 300);
    REQUIRE_FALSE(created->disk.empty());
    CHECK(created->disk.find("with-disk.qcow2") != std::string::npos);

    // The listing carries Paddock's metadata too.
    auto listed = svc.list();
    REQUIRE(listed.ok());
    const auto it =
        std::find_if(listed->begin(), listed->end(), [](const VmView& v) { return v.domain.name == "with-disk"; });
    REQUIRE(it != listed->end());
    CHECK(it->disk == created->disk);

    REQUIRE(svc.remove("with-disk", "tester").ok());
    auto del = site.connection->deleteVolume(created->disk);
    REQUIRE_FALSE(del.ok());
    CHECK(failure(del).code == ErrorCode::NotFound);
}

TEST_CASE("a failed overlay leaves no domain and names the cause", "[vm_service]") {
    SiteConfig cfg;
    cfg.storage_pool = "no-such-pool";
    TemplateConfig t;
    t.name = "base";
    t.base_image = "/var/lib/paddock/test/base.qcow2";
    cfg.templates.push_back(t);
    TestSite site(cfg);
    auto r = site.service->create(request("orphan-check"), "tester");
    REQUIRE_FALSE(r.ok());
    CHECK(failure(r).code == ErrorCode::NotFound);
    CHECK(failure(r).message.find("no-such-pool") != std::string::npos);
    CHECK_FALSE(exists(*site.connection, "orphan-check"));
}

TEST_CASE("list comes from the backend with states", "[vm_service]") {
    TestSite site;
    REQUIRE(site.service->create(request("listed"), "tester").ok());
    auto listed = site.service->list();
    REQUIRE(listed.ok());
    std::vector<std::string> names;
    for (const auto& v : listed.value()) names.push_back(v.domain.name);
    CHECK(std::find(names.begin(), names.end(), "listed") != names.end());
    // The driver's own domain "test" is not Paddock's: only listed when asked for all.
    CHECK(std::find(names.begin(), names.end(), "test") == names.end());
    auto all = site.service->list(Scope::All);
    REQUIRE(all.ok());
    const auto foreign =
        std::find_if(all->begin(), all->end(), [](const VmView& v) { return v.domain.name == "test"; });
    REQUIRE(foreign != all->end());
    CHECK_FALSE(foreign->managed);
    CHECK(std::find_if(all->begin(), all->end(),
                       [](const VmView& v) { return v.domain.name == "listed" && v.managed; }) != all->end());
}

TEST_CASE("foreign domains are never acted on until an admin adopts them", "[vm_service][foreign]") {
    TestSite site;
    DomainSpec spec;
    spec.name = "foreign-1";
    spec.memory_mib = 128;
    REQUIRE(site.connection->defineDomain(spec).ok());  // made behind Paddock's back
    REQUIRE(site.connection->startDomain("foreign-1").ok());
    auto& svc = *site.service;
    CHECK(failure(svc.get("foreign-1")).code == ErrorCode::NotFound);
    CHECK(svc.get("foreign-1", Scope::All).ok());
    CHECK(failure(svc.start("foreign-1", "t")).code == ErrorCode::NotFound);
    CHECK(failure(svc.stop("foreign-1", "t")).code == ErrorCode::NotFound);
    CHECK(failure(svc.forceStop("foreign-1", "t")).code == ErrorCode::NotFound);
    CHECK(failure(svc.save("foreign-1", "t")).code == ErrorCode::NotFound);
    CHECK(failure(svc.restart("foreign-1", "t")).code == ErrorCode::NotFound);
    CHECK(failure(svc.remove("foreign-1", "t")).code == ErrorCode::NotFound);
    CHECK(failure(site.site->updateMetadata("foreign-1", {{"owner", "x"}})).code == ErrorCode::NotFound);
    CHECK(failure(site.site->metadata("foreign-1")).code == ErrorCode::NotFound);
    CHECK(failure(site.site->sshEndpoint("foreign-1")).code != ErrorCode::Internal);
    REQUIRE(site.connection->getDomain("foreign-1")->state == DomainState::Running);  // untouched

    auto adopted = svc.adopt("foreign-1", "alice", "root-admin");
    REQUIRE(adopted.ok());
    CHECK(adopted->managed);
    CHECK(adopted->owner == "alice");
    CHECK_THAT(site.audit.lastLine(), Catch::Contains("\"action\":\"adopt\""));
    CHECK(failure(svc.adopt("foreign-1", "", "root-admin")).code == ErrorCode::Conflict);
    CHECK(failure(svc.adopt("no-such-domain", "", "root-admin")).code == ErrorCode::NotFound);
    CHECK(svc.get("foreign-1").ok());
    auto stopped = svc.stop("foreign-1", "t");
    REQUIRE(stopped.ok());
    CHECK(svc.remove("foreign-1", "t").ok());
    CHECK_FALSE(exists(*site.connection, "foreign-1"));
}

TEST_CASE("operations on unknown VMs are NotFound", "[vm_service]") {
    TestSite site;
    auto& svc = *site.service;
    CHECK(failure(svc.start("ghost", "t")).code == ErrorCode::NotFound);
    CHECK(failure(svc.stop("ghost", "t")).code == ErrorCode::NotFound);
    CHECK(failure(svc.remove("ghost", "t")).code == ErrorCode::NotFound);
    CHECK(failure(svc.get("ghost")).code == ErrorCode::NotFound);
}

TEST_CASE("user-mode VMs get distinct SSH forward ports recorded in metadata", "[vm_service]") {
    SiteConfig cfg;
    cfg.network_mode = NetworkMode::User;
    cfg.ssh_port_min = static_cast<uint16_t>(test::freeLoopbackPort());
    cfg.ssh_port_max = cfg.ssh_port_min;  // room for exactly one VM
    cfg.ready_timeout_s = 1;
    TestSite site(cfg);
    auto& svc = *site.service;

    auto first = svc.create(request("port-a"), "tester");
    REQUIRE(first.ok());
    CHECK(first->ssh_port == cfg.ssh_port_min);
    CHECK(first->ssh_host == "127.0.0.1");
    CHECK(first->ssh_user == "student");
    CHECK(site.connection->getMetadata("port-a")->at("ssh_port") == std::to_string(cfg.ssh_port_min));

    // The only port is recorded by a live VM: the next create fails cleanly, leaving nothing.
    auto second = svc.create(request("port-b"), "tester");
    REQUIRE_FALSE(second.ok());
    CHECK(failure(second).code == ErrorCode::Unavailable);
    CHECK(failure(second).message.find("no free SSH forward port") != std::string::npos);
    CHECK_FALSE(exists(*site.connection, "port-b"));

    // Deleting the first frees the port for the next VM.
    REQUIRE(svc.remove("port-a", "tester").ok());
    auto third = svc.create(request("port-c"), "tester");
    REQUIRE(third.ok());
    CHECK(third->ssh_port == cfg.ssh_port_min);
}

TEST_CASE("lifecycle events are published for changes made behind Paddock's back", "[vm_service][events]") {
    TestSite site;
    std::mutex m;
    std::vector<VmEvent> seen;
    auto sub = site.events->subscribe([&](const VmEvent& e) {
        std::lock_guard lock(m);
        seen.push_back(e);
    });
    REQUIRE(site.service->create(request("evented"), "tester").ok());
    REQUIRE(site.connection->startDomain("evented").ok());  // not through VmService
    for (int i = 0; i < 50; ++i) {
        {
            std::lock_guard lock(m);
            if (std::any_of(seen.begin(), seen.end(),
                            [](const VmEvent& e) { return e.vm == "evented" && e.event == "started"; }))
                break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::lock_guard lock(m);
    const auto started = std::find_if(seen.begin(), seen.end(),
                                      [](const VmEvent& e) { return e.vm == "evented" && e.event == "started"; });
    REQUIRE(started != seen.end());
    CHECK(started->kind == "lifecycle");
    CHECK(started->state_code == 1);
    CHECK(started->site == "test");
}

TEST_CASE("a dropped hypervisor connection answers Unavailable, then heals", "[vm_service][reconnect]") {
    TestSite site;
    site.site->dropConnectionForTest();
    auto during = site.service->list();
    REQUIRE_FALSE(during.ok());
    CHECK(failure(during).code == ErrorCode::Unavailable);
    CHECK(failure(during).message.find("reconnecting") != std::string::npos);
    bool healed = false;
    for (int i = 0; i < 100 && !healed; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        healed = site.service->list().ok();
    }
    CHECK(healed);
}

TEST_CASE("a domain defined behind Paddock's back appears in the full listing", "[vm_service][events]") {
    TestSite site;
    REQUIRE(site.service->list().ok());
    DomainSpec spec;
    spec.name = "outsider";
    spec.memory_mib = 128;
    REQUIRE(site.connection->defineDomain(spec).ok());  // not through VmService
    bool seen = false;
    for (int i = 0; i < 50 && !seen; ++i) {
        auto listed = site.service->list(Scope::All);
        REQUIRE(listed.ok());
        seen = std::any_of(listed->begin(), listed->end(), [](const VmView& v) { return v.domain.name == "outsider"; });
        if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(seen);
    REQUIRE(site.connection->undefineDomain("outsider", false).ok());
}

TEST_CASE("create names the overlay in the definition before making it, and leaves no intent record",
          "[vm_service][crash]") {
    const TemplateConfig t = baseTemplate();
    TestSite site(withTemplate(t));
    auto created = site.service->create(request("planned", true), "tester");
    REQUIRE(created.ok());
    CHECK(created->disk == "/default-pool/planned.qcow2");  // where volume_path said it would be
    const Metadata m = site.connection->getMetadata("planned").value();
    CHECK(m.count(meta::kIntent) == 0);
    CHECK(m.count(meta::kIntentBy) == 0);
    CHECK(m.count(meta::kIntentAt) == 0);
    CHECK(m.at(meta::kDisk) == created->disk);

    // A volume in the way is refused before anything is defined.
    OverlaySpec squatter{"default-pool", "squatted.qcow2", t.base_image, "qcow2", 1 << 20};
    REQUIRE(site.connection->createOverlay(squatter).ok());
    CHECK(failure(site.service->create(request("squatted"), "tester")).code == ErrorCode::AlreadyExists);
    CHECK_FALSE(exists(*site.connection, "squatted"));
    CHECK(site.connection->deleteVolume("/default-pool/squatted.qcow2").ok());  // still there: not ours to remove
}

TEST_CASE("a deferred start: beginCreate defines, finishCreate makes the overlay and starts", "[vm_service][deferred]") {
    const TemplateConfig t = baseTemplate();
    TestSite site(withTemplate(t));
    VmService me(*site.site, site.audit, site.metrics, "pdk-me");
    auto& conn = *site.connection;
    const std::string disk = "/default-pool/later.qcow2";

    auto begun = me.beginCreate(request("later", true), "tester");
    REQUIRE(begun.ok());
    CHECK(begun->domain.state == DomainState::Shutoff);
    CHECK(begun->readiness.state == Readiness::Booting);
    CHECK(begun->disk == disk);
    CHECK(me.startDeferred("later"));
    // Defined with its intent record, the overlay not made yet; listed as booting.
    CHECK(conn.getMetadata("later").value().at(meta::kIntent) == "creating");
    CHECK(failure(conn.deleteVolume(disk)).code == ErrorCode::NotFound);
    auto listed = me.list();
    REQUIRE(listed.ok());
    REQUIRE(listed->size() == 1);
    CHECK(listed->front().readiness.state == Readiness::Booting);
    // Recovery leaves a deferred create alone although its record is this instance's.
    CHECK(me.recoverInterrupted(std::chrono::seconds(600)).value() == 0);
    CHECK(exists(conn, "later"));
    // The same name again is taken.
    CHECK(failure(me.beginCreate(request("later", true), "tester")).code == ErrorCode::AlreadyExists);

    auto made = me.finishCreate("later", "tester");
    REQUIRE(made.ok());
    CHECK(made->domain.state == DomainState::Running);
    CHECK_FALSE(me.startDeferred("later"));
    CHECK(conn.getMetadata("later").value().count(meta::kIntent) == 0);
    CHECK(site.audit.lastLine().find("\"action\":\"create\"") != std::string::npos);
    CHECK(failure(me.finishCreate("later", "tester")).code == ErrorCode::NotFound);  // once only
    REQUIRE(me.remove("later", "tester").ok());
    CHECK(failure(conn.deleteVolume(disk)).code == ErrorCode::NotFound);

    // Started by hand meanwhile: finishCreate makes the overlay and clears the record only.
    REQUIRE(me.beginCreate(request("early", true), "tester").ok());
    REQUIRE(conn.startDomain("early").ok());
    auto early = me.finishCreate("early", "tester");
    REQUIRE(early.ok());
    CHECK(early->domain.state == DomainState::Running);
    CHECK(conn.getMetadata("early").value().count(meta::kIntent) == 0);
    REQUIRE(me.remove("early", "tester").ok());

    // Deleted meanwhile: Conflict, nothing made, nothing left.
    REQUIRE(me.beginCreate(request("gone", true), "tester").ok());
    REQUIRE(me.remove("gone", "tester").ok());
    CHECK(failure(me.finishCreate("gone", "tester")).code == ErrorCode::Conflict);
    CHECK_FALSE(exists(conn, "gone"));
    CHECK(failure(conn.deleteVolume("/default-pool/gone.qcow2")).code == ErrorCode::NotFound);

    // Deleted and defined again under the same name by someone else (this service refuses the
    // name while its create waits): not ours to finish.
    REQUIRE(me.beginCreate(request("reused", true), "tester").ok());
    REQUIRE(me.remove("reused", "tester").ok());
    CHECK(failure(me.create(request("reused"), "tester")).code == ErrorCode::AlreadyExists);
    REQUIRE(site.service->create(request("reused"), "tester").ok());
    CHECK(failure(me.finishCreate("reused", "tester")).code == ErrorCode::Conflict);
    CHECK(exists(conn, "reused"));
    REQUIRE(me.remove("reused", "tester").ok());

    // A step after the answer fails: everything made is undone, what is not ours stays.
    REQUIRE(me.beginCreate(request("blocked", true), "tester").ok());
    OverlaySpec squatter{"default-pool", "blocked.qcow2", t.base_image, "qcow2", 1 << 20};
    REQUIRE(conn.createOverlay(squatter).ok());
    auto blocked = me.finishCreate("blocked", "tester");
    REQUIRE_FALSE(blocked.ok());
    CHECK(failure(blocked).code == ErrorCode::AlreadyExists);
    CHECK(failure(blocked).message.find("blocked") != std::string::npos);
    CHECK_FALSE(exists(conn, "blocked"));
    CHECK(me.list()->empty());
    CHECK(conn.deleteVolume("/default-pool/blocked.qcow2").ok());

    // Abandoned (the queue stops before it ran): removed.
    REQUIRE(me.beginCreate(request("dropped", true), "tester").ok());
    CHECK(me.abandonCreate("dropped", "system").ok());
    CHECK_FALSE(exists(conn, "dropped"));
    CHECK_FALSE(me.startDeferred("dropped"));

    // Nothing to defer without a start.
    CHECK_FALSE(me.beginCreate(request("idle", false), "tester").ok());
    CHECK_FALSE(exists(conn, "idle"));
}

TEST_CASE("recoverInterrupted finishes this instance's interrupted creates and deletes, another's only when old",
          "[vm_service][crash]") {
    const TemplateConfig t = baseTemplate();
    TestSite site(withTemplate(t));
    VmService me(*site.site, site.audit, site.metrics, "pdk-me");
    auto& conn = *site.connection;
    // What a SIGKILL at various steps leaves: a VM that still carries its intent record.
    const auto leave = [&](const std::string& name, const std::string& intent, const std::string& by,
                           const std::string& at, Metadata extra = {}) {
        auto made = me.create(request(name, true), "tester");
        REQUIRE(made.ok());
        Metadata m = conn.getMetadata(name).value();
        m[meta::kIntent] = intent;
        m[meta::kIntentBy] = by;
        m[meta::kIntentAt] = at;
        for (const auto& [k, v] : extra) m[k] = v;
        REQUIRE(conn.setMetadata(name, m, true).ok());
        return made->disk;
    };
    const std::string now = isoTime(std::chrono::system_clock::now());
    const std::string creating = leave("crash-create", "creating", "pdk-me", now);
    const std::string deleting = leave("crash-delete", "deleting", "pdk-me", now);
    REQUIRE(conn.destroyDomain("crash-delete").ok());
    REQUIRE(conn.deleteVolume(deleting).ok());  // killed after its overlay was deleted
    const std::string busy = leave("other-busy", "creating", "pdk-other", now);
    const std::string stale = leave("other-stale", "creating", "pdk-other", "2000-01-01T00:00:00Z");
    const std::string pooled = leave("pool-vm", "creating", "pdk-me", now, {{meta::kPool, "lab"}});
    const std::string whole = me.create(request("whole", true), "tester")->disk;

    auto recovered = me.recoverInterrupted(std::chrono::seconds(600));
    REQUIRE(recovered.ok());
    CHECK(recovered.value() == 3);
    for (const char* gone : {"crash-create", "crash-delete", "other-stale"}) CHECK_FALSE(exists(conn, gone));
    for (const std::string& disk : {creating, stale})
        CHECK(failure(conn.deleteVolume(disk)).code == ErrorCode::NotFound);
    for (const char* kept : {"other-busy", "pool-vm", "whole"}) CHECK(exists(conn, kept));
    CHECK(site.audit.lastLine().find("\"action\":\"recover\"") != std::string::npos);
    // Nothing is left to do on a second pass.
    CHECK(me.recoverInterrupted(std::chrono::seconds(600)).value() == 0);
    for (const char* vm : {"other-busy", "pool-vm", "whole"}) CHECK(me.remove(vm, "tester").ok());
    for (const std::string& disk : {busy, pooled, whole})
        CHECK(failure(conn.deleteVolume(disk)).code == ErrorCode::NotFound);
}

// libvirt-hyperv keeps no metadata; the fixture is libvirt-qemu without get/set_metadata and with
// a define_domain that refuses metadata, as libvirt-hyperv's does.
TEST_CASE("a backend without metadata: Paddock keeps it in its store, by UUID", "[vm_service][metadata_store]") {
    test::TempDir dir;
    const std::string path = dir.file("metadata/test.json");
    PluginHost host;
    REQUIRE(host.loadFile(test::fixturePluginDir() + "/metadataless_libvirt_backend.so").ok());
    auto plugin = host.backend("org.paddock.test.metadataless");
    REQUIRE(plugin.ok());
    REQUIRE(plugin.value()->vtable().get_metadata == nullptr);
    SiteConfig cfg;
    cfg.name = "test";
    cfg.uri = "test:///default";
    AuditLog audit{""};
    CoreMetrics metrics;
    auto events = EventHub::create();

    // Without a store the backend refuses what Paddock must record, and nothing is left.
    {
        Site bare(cfg, plugin.value(), events, SshIdentity{}, metrics);
        REQUIRE(bare.connect().ok());
        VmService svc(bare, audit, metrics);
        auto refused = svc.create(request("unkept"), "tester");
        REQUIRE_FALSE(refused.ok());
        CHECK(failure(refused).code == ErrorCode::InvalidArgument);
        CHECK_THAT(failure(refused).message, Catch::Contains("stores none"));
        CHECK_FALSE(exists(*bare.connection().value(), "unkept"));
    }

    auto store = MetadataStore::open(path);
    REQUIRE(store.ok());
    Site site(cfg, plugin.value(), events, SshIdentity{}, metrics);
    site.keepMetadataIn(store.value());
    REQUIRE(site.connect().ok());
    VmService svc(site, audit, metrics);
    auto req = request("kept-1");
    req.owner = "alice";
    auto created = svc.create(req, "tester");
    REQUIRE(created.ok());
    CHECK(created->owner == "alice");
    const std::string uuid = created->domain.uuid;
    REQUIRE(uuid.size() == 36);
    auto listed = svc.list();
    REQUIRE(listed.ok());
    REQUIRE(listed->size() == 1);  // the driver's own domain "test" stays foreign
    CHECK(listed->front().domain.name == "kept-1");
    CHECK(listed->front().owner == "alice");
    CHECK(svc.adopt("test", "bob", "tester").ok());
    CHECK(svc.get("test")->owner == "bob");

    // The file is Paddock's (0600) and a second site reading it (the same driver: the first
    // connection is still open) sees the same VMs: what a restarted paddockd does.
    struct stat st{};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(test::readFile(path).find(uuid) != std::string::npos);
    {
        auto reopened = MetadataStore::open(path);
        REQUIRE(reopened.ok());
        Site again(cfg, plugin.value(), events, SshIdentity{}, metrics);
        again.keepMetadataIn(reopened.value());
        REQUIRE(again.connect().ok());
        VmService svc2(again, audit, metrics);
        auto seen = svc2.get("kept-1");
        REQUIRE(seen.ok());
        CHECK(seen->owner == "alice");
        CHECK(svc2.get("test")->owner == "bob");
    }

    REQUIRE(svc.remove("kept-1", "tester").ok());
    CHECK(test::readFile(path).find(uuid) == std::string::npos);
    CHECK(svc.get("kept-1").error().code == ErrorCode::NotFound);
}

TEST_CASE("a damaged metadata store is refused with the file's name, never half read", "[metadata_store]") {
    test::TempDir dir;
    const std::string path = dir.file("store.json");
    const std::string nested = std::string(100000, '[') + std::string(100000, ']');
    for (const std::string& bad :
         {std::string("not json"), std::string("[]"), std::string(R"({"version":2,"domains":{}})"),
          std::string(R"({"version":1,"domains":{"u":{"k":1}}})"), std::string(R"({"version":1,"domains":[]})"), nested,
          std::string("{\"version\":1,\"domains\":{}}\0{", 28),            // found by fuzzing
          std::string(R"({"version":1,"domains":{"u":{"k":"\ude00"}}})")}) {  // a lone surrogate
        test::writeFile(path, bad);
        auto opened = MetadataStore::open(path);
        INFO(bad.substr(0, 60));
        REQUIRE_FALSE(opened.ok());
        CHECK(opened.error().code == ErrorCode::InvalidArgument);
        CHECK_THAT(opened.error().message, Catch::Contains(path));
    }
    test::writeFile(path, R"({"version":1,"domains":{"u-1":{"owner":"alice"}}})");
    auto opened = MetadataStore::open(path);
    REQUIRE(opened.ok());
    CHECK(opened.value()->get("u-1") == MetadataStore::Metadata{{"owner", "alice"}});
    CHECK(opened.value()->get("u-2").empty());
    REQUIRE(opened.value()->retainOnly({"u-2"}).ok());
    CHECK(opened.value()->get("u-1").empty());
    CHECK(test::readFile(path).find("u-1") == std::string::npos);
    // A NUL inside a value is kept whole (found by fuzzing: it used to cut the value short).
    const MetadataStore::Metadata withNul{{"note", std::string("a\0b", 3)}};
    REQUIRE(opened.value()->put("u-3", withNul).ok());
    CHECK(MetadataStore::open(path).value()->get("u-3") == withNul);
    CHECK(opened.value()->put("u-4", {{"bad", "\xff"}}).error().code == ErrorCode::InvalidArgument);
}
