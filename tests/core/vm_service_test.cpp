// VmService against the real libvirt-qemu plugin on libvirt's in-process test driver.
#include "paddock/core/vm_service.hpp"

#include "paddock/core/plugin_host.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace paddock;

namespace {

// One site on a fresh test:///default connection (the driver's state is per connection).
struct TestSite {
    explicit TestSite(SiteConfig cfg = {}) {
        auto loaded = host.loadFile(test::pluginDir() + "/paddock_libvirt_qemu.so");
        REQUIRE(loaded.ok());
        auto plugin = host.backend("org.paddock.libvirt-qemu");
        REQUIRE(plugin.ok());
        auto conn = plugin.value()->connect("test:///default");
        REQUIRE(conn.ok());
        connection = conn.value();
        cfg.name = "test";
        cfg.uri = "test:///default";
        if (cfg.storage_pool == SiteConfig{}.storage_pool) cfg.storage_pool = "default-pool";
        service = std::make_unique<VmService>(cfg, connection, audit, metrics);
    }
    PluginHost host;
    std::shared_ptr<BackendConnection> connection;
    AuditLog audit{""};
    CoreMetrics metrics;
    std::unique_ptr<VmService> service;
};

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
    CHECK(again.error().code == ErrorCode::Conflict);
    CHECK(site.audit.lastLine().find("\"result\":\"error\"") != std::string::npos);

    auto stopped = svc.stop("vm-1", "tester");
    REQUIRE(stopped.ok());
    CHECK(stopped.value() == StopOutcome::Graceful);
    CHECK(svc.get("vm-1")->domain.state == DomainState::Shutoff);
    CHECK(svc.stop("vm-1", "tester").value() == StopOutcome::AlreadyStopped);

    REQUIRE(svc.restart("vm-1", "tester").ok());
    CHECK(svc.get("vm-1")->domain.state == DomainState::Running);

    REQUIRE(svc.remove("vm-1", "tester").ok());
    auto gone = svc.get("vm-1");
    REQUIRE_FALSE(gone.ok());
    CHECK(gone.error().code == ErrorCode::NotFound);
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
    CHECK(bad.error().code == ErrorCode::InvalidArgument);

    auto tooBig = request("big");
    tooBig.vcpus = 65;
    CHECK(svc.create(tooBig, "tester").error().code == ErrorCode::InvalidArgument);
    auto tooSmall = request("small");
    tooSmall.memory_mb = 8;
    CHECK(svc.create(tooSmall, "tester").error().code == ErrorCode::InvalidArgument);
    CHECK_FALSE(exists(*site.connection, "big"));
    CHECK_FALSE(exists(*site.connection, "small"));

    auto unknownTemplate = request("t1");
    unknownTemplate.template_name = "nope";
    auto r = svc.create(unknownTemplate, "tester");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::InvalidArgument);
    CHECK(r.error().message.find("nope") != std::string::npos);

    REQUIRE(svc.create(request("dup"), "tester").ok());
    auto dup = svc.create(request("dup"), "tester");
    REQUIRE_FALSE(dup.ok());
    CHECK(dup.error().code == ErrorCode::AlreadyExists);
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
    const auto it = std::find_if(listed->begin(), listed->end(), [](const VmView& v) { return v.domain.name == "with-disk"; });
    REQUIRE(it != listed->end());
    CHECK(it->disk == created->disk);

    REQUIRE(svc.remove("with-disk", "tester").ok());
    auto del = site.connection->deleteVolume(created->disk);
    REQUIRE_FALSE(del.ok());
    CHECK(del.error().code == ErrorCode::NotFound);
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
    CHECK(r.error().code == ErrorCode::NotFound);
    CHECK(r.error().message.find("no-such-pool") != std::string::npos);
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
    CHECK(std::find(names.begin(), names.end(), "test") != names.end());  // the driver's own domain
}

TEST_CASE("operations on unknown VMs are NotFound", "[vm_service]") {
    TestSite site;
    auto& svc = *site.service;
    CHECK(svc.start("ghost", "t").error().code == ErrorCode::NotFound);
    CHECK(svc.stop("ghost", "t").error().code == ErrorCode::NotFound);
    CHECK(svc.remove("ghost", "t").error().code == ErrorCode::NotFound);
    CHECK(svc.get("ghost").error().code == ErrorCode::NotFound);
}
