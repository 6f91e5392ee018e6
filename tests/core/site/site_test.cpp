// Site: the per-site infrastructure (link, view, metadata, templates, locks) on libvirt's test
// driver through the real libvirt-qemu plugin.
#include "paddock/core/site.hpp"

#include "paddock/core/plugin_host.hpp"
#include "paddock/core/vm_metadata.hpp"
#include "paddock/core/vm_service.hpp"
#include "result_checks.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

using namespace paddock;

namespace {

SiteConfig testConfig() {
    SiteConfig cfg;
    cfg.name = "here";
    cfg.uri = "test:///default";
    cfg.storage_pool = "default-pool";
    for (const char* name : {"small", "large"}) {
        TemplateConfig t;
        t.name = name;
        cfg.templates.push_back(t);
    }
    cfg.default_template = "large";
    return cfg;
}

struct SiteFixture {
    explicit SiteFixture(SiteConfig cfg = testConfig()) {
        REQUIRE(host.loadFile(test::pluginDir() + "/paddock_libvirt_qemu.so").ok());
        auto plugin = host.backend("org.paddock.libvirt-qemu");
        REQUIRE(plugin.ok());
        site = std::make_unique<Site>(std::move(cfg), plugin.value(), events, SshIdentity{}, metrics);
        REQUIRE(site->connect().ok());
        vms = std::make_unique<VmService>(*site, audit, metrics);
    }
    PluginHost host;
    AuditLog audit{""};
    CoreMetrics metrics;
    std::shared_ptr<EventHub> events = EventHub::create();
    std::unique_ptr<Site> site;
    std::unique_ptr<VmService> vms;
};

}  // namespace

TEST_CASE("site: templates resolve by name, default, or first", "[site]") {
    SiteFixture f;
    CHECK(f.site->resolveTemplate("small").value()->name == "small");
    CHECK(f.site->resolveTemplate("").value()->name == "large");  // default_template
    const Error unknown = failure(f.site->resolveTemplate("huge"));
    CHECK(unknown.code == ErrorCode::InvalidArgument);
    CHECK_THAT(unknown.message, Catch::Contains("unknown template 'huge' on site here (known: small, large)"));

    SiteConfig noDefault = testConfig();
    noDefault.default_template.clear();
    SiteFixture first(noDefault);
    CHECK(first.site->resolveTemplate("").value()->name == "small");

    SiteConfig none = testConfig();
    none.templates.clear();
    none.default_template.clear();
    SiteFixture diskless(none);
    CHECK(diskless.site->resolveTemplate("").value() == nullptr);
    CHECK_THAT(failure(diskless.site->resolveTemplate("small")).message, Catch::Contains("(known: none)"));
}

TEST_CASE("site: metadata updates merge, erase with an empty value, and reach listings", "[site]") {
    SiteFixture f;
    CreateVmRequest request;
    request.name = "meta-vm";
    request.start = false;
    request.owner = "alice";
    REQUIRE(f.vms->create(request, "tester").ok());
    REQUIRE(f.site->updateMetadata("meta-vm", {{"lease_id", "lease-1"}, {meta::kOwner, ""}}).ok());
    const Metadata now = f.site->metadata("meta-vm").value();
    CHECK(metaValue(now, "lease_id") == "lease-1");
    CHECK(now.count(meta::kOwner) == 0);
    CHECK(metaValue(now, meta::kTemplate) == "large");
    // The cached metadata of the listing saw the same update.
    auto listed = f.site->domains();
    REQUIRE(listed.ok());
    const auto it =
        std::find_if(listed->begin(), listed->end(), [](const DomainInfo& d) { return d.name == "meta-vm"; });
    REQUIRE(it != listed->end());
    CHECK(metaValue(it->metadata, "lease_id") == "lease-1");
    CHECK(failure(f.site->updateMetadata("no-such-vm", {{"a", "b"}})).code == ErrorCode::NotFound);
    // Any name libvirt accepts is looked up; only unsafe ones are refused before that.
    CHECK(failure(f.site->updateMetadata("Old Name", {{"a", "b"}})).code == ErrorCode::NotFound);
    CHECK(failure(f.site->updateMetadata("bad/name", {{"a", "b"}})).code == ErrorCode::InvalidArgument);
    REQUIRE(f.vms->remove("meta-vm", "tester").ok());
}

TEST_CASE("site: status and reachability come from one place", "[site]") {
    SiteFixture f;
    CHECK(f.site->reachable());
    const SiteStatus up = f.site->status();
    CHECK(up.reachable);
    CHECK(up.name == "here");
    CHECK(up.uri == "test:///default");
    CHECK(up.error.empty());
    CHECK_FALSE(up.host.hypervisor.empty());
    f.site->dropConnectionForTest();
    const SiteStatus down = f.site->status();
    CHECK_FALSE(down.reachable);
    CHECK_FALSE(f.site->reachable());
    CHECK_THAT(down.error, Catch::Contains("reconnecting"));
}

TEST_CASE("site: per-VM locks do not pile up for unknown names", "[site]") {
    SiteFixture f;
    for (int i = 0; i < 300; ++i)
        CHECK(failure(f.vms->start("ghost-" + std::to_string(i), "t")).code == ErrorCode::NotFound);
    CHECK(f.site->locks().size() == 0);
}

TEST_CASE("site: a backend without events is polled and its changes become lifecycle events", "[site][poll]") {
    PluginHost host;
    REQUIRE(host.loadFile(test::fixturePluginDir() + "/polled_libvirt_backend.so").ok());
    auto plugin = host.backend("org.paddock.test.polled");
    REQUIRE(plugin.ok());
    REQUIRE(plugin.value()->vtable().subscribe_events == nullptr);

    SiteConfig cfg = testConfig();
    cfg.poll_interval_ms = 500;
    AuditLog audit{""};
    CoreMetrics metrics;
    auto events = EventHub::create();
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::pair<std::string, std::string>> seen;  // (vm, event)
    auto sub = events->subscribe([&](const VmEvent& e) {
        if (e.kind != "lifecycle") return;
        std::lock_guard lock(mutex);
        seen.emplace_back(e.vm, e.event);
        changed.notify_all();
    });
    Site site(cfg, plugin.value(), events, SshIdentity{}, metrics);
    REQUIRE(site.connect().ok());
    const SiteStatus status = site.status();
    CHECK(status.reachable);
    CHECK_FALSE(status.pushes_events);

    const auto waitFor = [&](const std::string& vm, const std::string& event) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, std::chrono::seconds(20), [&] {
            return std::find(seen.begin(), seen.end(), std::make_pair(vm, event)) != seen.end();
        });
    };
    // Changes made behind Paddock's back, through a second connection of the same process
    // (test:///default is shared within a process): only a listing can reveal them.
    auto other = plugin.value()->connect("test:///default");
    REQUIRE(other.ok());
    REQUIRE(site.domains().ok());  // the baseline exists before the changes
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    REQUIRE(other.value()->destroyDomain("test").ok());
    CHECK(waitFor("test", "stopped"));
    REQUIRE(other.value()->startDomain("test").ok());
    CHECK(waitFor("test", "started"));

    DomainSpec spec;
    spec.name = "polled-new";
    spec.vcpus = 1;
    spec.memory_mib = 64;
    REQUIRE(other.value()->defineDomain(spec).ok());
    CHECK(waitFor("polled-new", "defined"));
    REQUIRE(other.value()->undefineDomain("polled-new", false).ok());
    CHECK(waitFor("polled-new", "undefined"));
    {
        // Nothing is reported twice: each change was seen once.
        std::lock_guard lock(mutex);
        CHECK(std::count(seen.begin(), seen.end(), std::make_pair(std::string("test"), std::string("stopped"))) == 1);
    }
}

TEST_CASE("site: an evented backend pushes events and reports it", "[site][poll]") {
    SiteFixture f;
    const SiteStatus status = f.site->status();
    CHECK(status.reachable);
    CHECK(status.pushes_events);
}

TEST_CASE("site: paddock_site_connected is 1 for a reachable site, 0 for one that cannot connect", "[site][metrics]") {
    SiteFixture f;
    SiteConfig lostCfg = testConfig();
    lostCfg.name = "lost";
    lostCfg.uri = "test:///nonexistent/paddock-node.xml";  // the test driver cannot read it: never connects
    auto plugin = f.host.backend("org.paddock.libvirt-qemu");
    REQUIRE(plugin.ok());
    Site lost(lostCfg, plugin.value(), f.events, SshIdentity{}, f.metrics);
    CHECK_FALSE(lost.connect().ok());

    const auto text = [&] { return prometheus::TextSerializer().Serialize(f.metrics.registry()->Collect()); };
    CHECK_THAT(text(), !Catch::Contains("paddock_site_connected"));  // set when /metrics is read
    f.site->publishConnectionState();
    lost.publishConnectionState();
    CHECK_THAT(text(), Catch::Contains("paddock_site_connected{site=\"here\"} 1\n"));
    CHECK_THAT(text(), Catch::Contains("paddock_site_connected{site=\"lost\"} 0\n"));
    CHECK_THAT(text(), Catch::Contains("# TYPE paddock_site_connected gauge"));
}

TEST_CASE("site: host resources and template files are known after connect, without a hypervisor call", "[site]") {
    const auto dir = std::filesystem::temp_directory_path() / "pdk-site-host-facts";
    std::filesystem::create_directories(dir);
    const auto image = dir / "base.raw";
    { std::ofstream(image) << std::string(8192, '\0'); }
    SiteConfig cfg = testConfig();
    cfg.templates[0].base_image = image.string();                   // "small": there
    cfg.templates[1].base_image = (dir / "missing.qcow2").string();  // "large": not there
    cfg.templates[1].kernel = image.string();
    TemplateConfig diskless;
    diskless.name = "diskless";
    cfg.templates.push_back(diskless);
    SiteFixture f(cfg);

    const SiteResources r = f.site->resources();
    REQUIRE(r.host);
    CHECK(r.host->cpus == 16);
    CHECK(r.host->memory_total_bytes == 3221225472ull);
    CHECK(r.host->memory_free_bytes == r.host->memory_total_bytes);
    CHECK(r.error.empty());
    CHECK(r.checked_at.time_since_epoch().count() != 0);

    const auto checks = f.site->templateChecks();
    REQUIRE(checks.size() == 3);
    CHECK(checks[0].name == "small");
    CHECK(checks[0].usable);
    CHECK(checks[0].checked);
    CHECK(checks[0].reason.empty());
    CHECK(checks[1].name == "large");
    CHECK_FALSE(checks[1].usable);
    CHECK_THAT(checks[1].reason, Catch::Contains("base image " + (dir / "missing.qcow2").string()) &&
                                     Catch::Contains("no storage pool holds it"));
    CHECK(checks[2].usable);
    CHECK(f.site->templateCheck("")->name == "large");  // the default template

    const PlacementHostFacts small = f.site->placementFacts("small");
    CHECK(small.free_memory_mb == 3072);
    CHECK(small.template_unusable.empty());
    CHECK_THAT(f.site->placementFacts("large").template_unusable, Catch::Contains("missing.qcow2"));

    // The image appears: the next check (here forced) finds it.
    std::filesystem::copy_file(image, dir / "missing.qcow2");
    f.site->refreshHostFactsNow();
    CHECK(f.site->templateCheck("large")->usable);
    std::filesystem::remove_all(dir);
}

TEST_CASE("site: SSH ports in use come from an index the listings keep, not from a listing per create", "[site][ports]") {
    // One port, below Linux's ephemeral range and apart from port_allocator_test's bands.
    constexpr uint16_t kPort = 29400;
    SiteConfig cfg = testConfig();
    cfg.network_mode = NetworkMode::User;
    cfg.ssh_port_min = kPort;
    cfg.ssh_port_max = kPort;
    SiteFixture f(cfg);
    // Until a reservation fails (or succeeds), asking again while the refresher re-lists.
    const auto reservable = [&](bool wanted) {
        for (int i = 0; i < 100; ++i) {
            if (f.site->reserveSshPort().ok() == wanted) return true;  // a reservation ends at once
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    };
    REQUIRE(reservable(true));

    // A domain defined behind Paddock's back records the port: nothing here lists the domains,
    // the refresher's next full listing puts its port in the index.
    auto conn = f.site->connection().value();
    DomainSpec spec;
    spec.name = "port-holder";
    spec.memory_mib = 128;
    spec.metadata = {{meta::kCreatedAt, "2026-01-01T00:00:00Z"}, {meta::kSshPort, std::to_string(kPort)}};
    REQUIRE(conn->defineDomain(spec).ok());
    CHECK(reservable(false));
    CHECK_THAT(failure(f.site->reserveSshPort()).message, Catch::Contains("no free SSH forward port"));

    // Removed behind Paddock's back as well: a later listing drops it from the index again.
    REQUIRE(conn->undefineDomain("port-holder", false).ok());
    CHECK(reservable(true));
}

TEST_CASE("site: load and name lookups follow creates, deletes and listings without a listing each", "[site][placement]") {
    SiteFixture f;
    const auto waitFor = [&](auto&& done) {
        for (int i = 0; i < 100 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return done();
    };
    // Once the first full listing is indexed, load() is the index (the same as counting a listing).
    REQUIRE(waitFor([&] { return f.site->viewGeneration().has_value(); }));
    const SiteLoad before = f.site->load().value();
    CHECK(before.vm_count == siteLoad(f.site->domains().value()).vm_count);
    CHECK_FALSE(f.site->hasDomain("load-a").value());

    CreateVmRequest req;
    req.name = "load-a";
    req.template_name = "small";
    req.memory_mb = 256;
    REQUIRE(f.vms->create(req, "tester").ok());
    CHECK(f.site->hasDomain("load-a").value());
    SiteLoad after = f.site->load().value();
    CHECK(after.vm_count == before.vm_count + 1);
    CHECK(after.committed_memory_mb == before.committed_memory_mb + 256);

    // A managed domain defined behind Paddock's back counts from the next listing on, and stops
    // counting once a listing no longer has it.
    auto conn = f.site->connection().value();
    DomainSpec spec;
    spec.name = "load-outsider";
    spec.memory_mib = 128;
    spec.metadata = {{meta::kCreatedAt, "2026-01-01T00:00:00Z"}};
    REQUIRE(conn->defineDomain(spec).ok());
    CHECK(waitFor([&] { return f.site->load()->vm_count == before.vm_count + 2; }));
    CHECK(f.site->hasDomain("load-outsider").value());
    REQUIRE(conn->undefineDomain("load-outsider", false).ok());
    CHECK(waitFor([&] { return f.site->load()->vm_count == before.vm_count + 1; }));

    REQUIRE(f.vms->remove("load-a", "tester").ok());
    after = f.site->load().value();
    CHECK(after.vm_count == before.vm_count);
    CHECK(after.committed_memory_mb == before.committed_memory_mb);
    CHECK_FALSE(f.site->hasDomain("load-a").value());
}
