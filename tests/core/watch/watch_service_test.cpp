// WatchService against the real libvirt-qemu plugin on libvirt's in-process test driver: reverts
// really happen (the test driver reverts snapshots), lifecycle events really arrive. Time is a
// manual clock the test moves, so timeouts pass without sleeping; the service's thread still
// runs, so each reaction is awaited (eventually) rather than assumed.
#include "paddock/core/plugin_host.hpp"
#include "paddock/core/vm_metadata.hpp"
#include "paddock/core/vm_service.hpp"
#include "paddock/core/watch_service.hpp"
#include "result_checks.hpp"
#include "test_support.hpp"

#include <prometheus/text_serializer.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <sstream>

using namespace paddock;
using namespace std::chrono_literals;

namespace {

struct ManualClock {
    std::atomic<int64_t> ms{1'000'000};
    Watchdog::TimePoint now() const { return Watchdog::TimePoint(std::chrono::milliseconds(ms.load())); }
    void advance(std::chrono::milliseconds d) { ms += d.count(); }
};

struct WatchSite {
    explicit WatchSite(NetworkMode mode = NetworkMode::None) {
        REQUIRE(host.loadFile(test::pluginDir() + "/paddock_libvirt_qemu.so").ok());
        auto plugin = host.backend("org.paddock.libvirt-qemu");
        REQUIRE(plugin.ok());
        SiteConfig cfg;
        cfg.name = "test";
        cfg.uri = "test:///default";
        cfg.storage_pool = "default-pool";
        cfg.network_mode = mode;
        TemplateConfig lab;
        lab.name = "lab";
        TemplateConfig kiosk;
        kiosk.name = "kiosk";
        kiosk.watch = WatchPolicy{};
        kiosk.watch->revert_on_start = false;
        cfg.templates = {lab, kiosk};
        site = std::make_unique<Site>(cfg, plugin.value(), events, SshIdentity{}, metrics);
        REQUIRE(site->connect().ok());
        vms = std::make_unique<VmService>(*site, audit, metrics);
    }
    ~WatchSite() { watch.reset(); }

    void startWatch(WatchConfig config = {}, ExhibitConfig exhibit = {}) {
        watch.reset();  // a restarted paddockd: the old one is gone first
        watch = std::make_unique<WatchService>(std::vector<WatchService::SiteServices>{{site.get(), vms.get()}},
                                               std::move(config), std::move(exhibit), audit, metrics, events,
                                               [this] { return clock.now(); });
        watch->start();
    }
    void make(const std::string& name, const std::string& tpl = "lab") {
        CreateVmRequest r;
        r.name = name;
        r.template_name = tpl;
        REQUIRE(vms->create(r, "tester").ok());
        REQUIRE(vms->createSnapshot(name, SnapshotRequest{"ready", "", false}, "tester").ok());
    }
    WatchView view(const std::string& vm) {
        auto v = watch->view("test", vm);
        REQUIRE(v.ok());
        return v.value();
    }
    WatchState state(const std::string& vm) { return view(vm).state; }
    bool waitState(const std::string& vm, WatchState wanted) {
        return test::eventually([&] { return state(vm) == wanted; }, 20s);
    }
    uint64_t reverts(const std::string& vm) { return view(vm).reverts; }
    DomainState domainState(const std::string& vm) {
        auto conn = site->connection();
        REQUIRE(conn.ok());
        auto info = conn.value()->getDomain(vm);
        REQUIRE(info.ok());
        return info->state;
    }
    std::string auditText() const {
        std::ifstream in(dir.file("audit.log"));
        std::stringstream all;
        all << in.rdbuf();
        return all.str();
    }
    std::string metricsText() const { return prometheus::TextSerializer().Serialize(metrics.registry()->Collect()); }
    void heartbeat(const std::string& vm) { REQUIRE(watch->heartbeat("test", vm, "ok", "").ok()); }
    // A watched, running VM whose guest has sent its first heartbeat: the timeout is armed.
    void armed(const std::string& vm, WatchPatch patch = {}) {
        REQUIRE(watch->watch("test", vm, patch, "tester").ok());
        heartbeat(vm);
        REQUIRE(state(vm) == WatchState::Healthy);
    }

    test::TempDir dir;
    PluginHost host;
    AuditLog audit{dir.file("audit.log")};
    CoreMetrics metrics;
    std::shared_ptr<EventHub> events = EventHub::create();
    std::unique_ptr<Site> site;
    std::unique_ptr<VmService> vms;
    ManualClock clock;
    std::unique_ptr<WatchService> watch;
};

}  // namespace

TEST_CASE("watch: a silent guest is reverted to its snapshot and watched again once it answers", "[watch]") {
    WatchSite w;
    w.make("art1");
    w.startWatch();
    w.armed("art1");
    w.clock.advance(14s);
    w.heartbeat("art1");  // still in time
    w.clock.advance(14s);
    REQUIRE(w.reverts("art1") == 0);
    w.clock.advance(2s);  // 16 s without a heartbeat: over the default 15 s
    REQUIRE(w.waitState("art1", WatchState::WaitingProbe));
    CHECK(w.reverts("art1") == 1);
    CHECK(w.domainState("art1") == DomainState::Running);
    // The first heartbeat after the revert starts the grace; after it the timeout is armed again.
    w.heartbeat("art1");
    CHECK(w.state("art1") == WatchState::Grace);
    w.clock.advance(11s);
    REQUIRE(w.waitState("art1", WatchState::Healthy));
    const std::string audit = w.auditText();
    CHECK(audit.find("\"actor\":\"watchdog\",\"site\":\"test\",\"vm\":\"art1\",\"action\":\"snapshot_revert\"") !=
          std::string::npos);
    CHECK(audit.find("\"action\":\"watch_revert\"") != std::string::npos);
    CHECK(audit.find("no heartbeat for") != std::string::npos);
    const std::string metrics = w.metricsText();
    CHECK(metrics.find("paddock_watch_reverts_total{reason=\"heartbeat_timeout\",site=\"test\",vm=\"art1\"} 1") !=
          std::string::npos);
    CHECK(metrics.find("paddock_watch_state{site=\"test\",state=\"healthy\",vm=\"art1\"} 1") != std::string::npos);
}

TEST_CASE("watch: two watched VMs, one failing, the other untouched", "[watch]") {
    WatchSite w;
    w.make("left");
    w.make("right");
    w.startWatch();
    w.armed("left");
    w.armed("right");
    for (int i = 0; i < 4; ++i) {
        w.clock.advance(5s);
        w.heartbeat("right");
    }
    REQUIRE(w.waitState("left", WatchState::WaitingProbe));
    CHECK(w.reverts("left") == 1);
    CHECK(w.reverts("right") == 0);
    CHECK(w.state("right") == WatchState::Healthy);
}

TEST_CASE("watch: a VM stopped through the API stays stopped, also across a restart", "[watch]") {
    WatchSite w;
    w.make("art2");
    w.startWatch();
    w.armed("art2");
    REQUIRE(w.vms->stop("art2", "staff").ok());
    CHECK(w.state("art2") == WatchState::Stopped);
    w.clock.advance(120s);
    std::this_thread::sleep_for(300ms);  // give the thread ticks to (not) act on
    CHECK(w.reverts("art2") == 0);
    CHECK(w.domainState("art2") == DomainState::Shutoff);
    REQUIRE(test::eventually([&] {
        auto m = w.site->metadata("art2");
        return m.ok() && metaValue(m.value(), meta::kWatchStopped) == "api";
    }));
    // A new paddockd finds it watched and stopped: revert_on_start leaves it alone.
    w.startWatch();
    CHECK(w.view("art2").watched);
    CHECK(w.state("art2") == WatchState::Stopped);
    CHECK(w.reverts("art2") == 0);
    // Started through the API: watched again from its first heartbeat.
    REQUIRE(w.vms->start("art2", "staff").ok());
    CHECK(w.state("art2") == WatchState::WaitingFirstHeartbeat);
    REQUIRE(test::eventually([&] {
        auto m = w.site->metadata("art2");
        return m.ok() && metaValue(m.value(), meta::kWatchStopped).empty();
    }));
}

TEST_CASE("watch: a VM that goes down outside the API is recovered", "[watch]") {
    WatchSite w;
    w.make("art3");
    w.startWatch();
    w.armed("art3");
    auto conn = w.site->connection();
    REQUIRE(conn.ok());
    REQUIRE(conn.value()->destroyDomain("art3").ok());  // as if QEMU died
    REQUIRE(w.waitState("art3", WatchState::WaitingProbe));
    CHECK(w.domainState("art3") == DomainState::Running);
    CHECK(w.metricsText().find("reason=\"vm_down\"") != std::string::npos);
}

TEST_CASE("watch: maintenance observes and reports but never acts", "[watch]") {
    WatchSite w;
    w.make("art4");
    w.startWatch();
    w.armed("art4");
    REQUIRE(w.watch->setAutoRevert("test", "art4", false, "staff").ok());
    w.clock.advance(60s);
    REQUIRE(test::eventually([&] {
        for (const auto& d : w.view("art4").decisions)
            if (d.reason.find("maintenance: no action") != std::string::npos) return true;
        return false;
    }));
    CHECK(w.reverts("art4") == 0);
    CHECK_FALSE(w.view("art4").policy.auto_revert);
    // A guest's revert request is refused while in maintenance.
    auto refused = w.watch->requestRevert("test", "art4", "artwork crashed", "error", 0s, "guest");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == ErrorCode::Conflict);
    // Back on: the silence of the maintenance window is forgiven, the next heartbeat arms again.
    REQUIRE(w.watch->setAutoRevert("test", "art4", true, "staff").ok());
    CHECK(w.state("art4") == WatchState::WaitingFirstHeartbeat);
    CHECK(w.reverts("art4") == 0);
    // The setting is the VM's own now: a new paddockd keeps it.
    REQUIRE(w.watch->setAutoRevert("test", "art4", false, "staff").ok());
    w.startWatch();
    CHECK_FALSE(w.view("art4").policy.auto_revert);
}

TEST_CASE("watch: guest revert requests and idle resets", "[watch]") {
    WatchSite w;
    w.make("art5");
    w.startWatch();
    w.armed("art5");
    auto in = w.watch->requestRevert("test", "art5", "process crashed", "error", 30s, "guest");
    REQUIRE(in.ok());
    CHECK(in.value() == 30s);
    REQUIRE(w.view("art5").revert_in_s.has_value());
    w.clock.advance(10s);
    w.heartbeat("art5");
    w.clock.advance(21s);
    REQUIRE(w.waitState("art5", WatchState::WaitingProbe));
    CHECK(w.reverts("art5") == 1);
    w.heartbeat("art5");
    w.clock.advance(11s);
    REQUIRE(w.waitState("art5", WatchState::Healthy));
    auto idle = w.watch->idleReset("test", "art5", 720, "guest");
    REQUIRE(idle.ok());
    CHECK(idle.value() == 0s);
    REQUIRE(test::eventually([&] { return w.reverts("art5") == 2; }));
    CHECK(w.metricsText().find("reason=\"idle_reset\"") != std::string::npos);
    CHECK(w.auditText().find("idle for 720 s") != std::string::npos);
}

TEST_CASE("watch: switching watching on and off is kept in the VM's metadata", "[watch]") {
    WatchSite w;
    w.make("art6");
    w.make("kiosk1", "kiosk");  // its template watches it
    w.startWatch();
    CHECK_FALSE(w.view("art6").watched);
    auto k = w.view("kiosk1");
    CHECK(k.watched);
    CHECK(k.source == "template");
    WatchPatch patch;
    patch.heartbeat_timeout_ms = 30000;
    patch.revert_on_start = false;
    auto on = w.watch->watch("test", "art6", patch, "staff");
    REQUIRE(on.ok());
    CHECK(on->source == "api");
    CHECK(on->policy.heartbeat_timeout_ms == 30000);
    REQUIRE(w.watch->unwatch("test", "kiosk1", "staff").ok());
    CHECK_FALSE(w.view("kiosk1").watched);
    w.startWatch();  // a restarted paddockd
    CHECK(w.view("art6").watched);
    CHECK(w.view("art6").policy.heartbeat_timeout_ms == 30000);
    CHECK_FALSE(w.view("kiosk1").watched);
    CHECK(w.auditText().find("\"action\":\"watch_off\"") != std::string::npos);
}

TEST_CASE("watch: revert_on_start reverts watched VMs when paddockd starts", "[watch]") {
    WatchSite w;
    w.make("art7");
    w.startWatch();
    REQUIRE(w.watch->watch("test", "art7", {}, "staff").ok());  // revert_on_start: true by default
    w.startWatch();
    REQUIRE(test::eventually([&] { return w.reverts("art7") == 1; }, 20s));
    CHECK(w.auditText().find("revert_on_start") != std::string::npos);
    // A VM found off (not stopped through the API) is recovered too, whatever revert_on_start says.
    REQUIRE(w.waitState("art7", WatchState::WaitingProbe));
    WatchPatch keep;
    keep.revert_on_start = false;
    REQUIRE(w.watch->watch("test", "art7", keep, "staff").ok());
    w.watch.reset();
    auto conn = w.site->connection();
    REQUIRE(conn.ok());
    REQUIRE(conn.value()->destroyDomain("art7").ok());
    w.startWatch();
    REQUIRE(test::eventually([&] { return w.reverts("art7") == 1; }, 20s));
    CHECK(test::eventually([&] { return w.domainState("art7") == DomainState::Running; }, 20s));
}

TEST_CASE("watch: a VM made later from a watched template is watched", "[watch]") {
    WatchSite w;
    w.startWatch();
    w.make("kiosk2", "kiosk");
    REQUIRE(test::eventually([&] { return w.view("kiosk2").watched; }, 20s));
    CHECK(w.state("kiosk2") == WatchState::WaitingFirstHeartbeat);
}

TEST_CASE("watch: refusals", "[watch]") {
    WatchSite w;
    w.make("art8");
    w.startWatch();
    CHECK(w.watch->view("test", "nope").error().code == ErrorCode::NotFound);
    CHECK(w.watch->watch("test", "nope", {}, "staff").error().code == ErrorCode::NotFound);
    CHECK(w.watch->view("other", "art8").error().code == ErrorCode::NotFound);
    // Not watched: heartbeats and revert requests have nobody to go to.
    CHECK(w.watch->heartbeat("test", "art8", "", "").error().code == ErrorCode::Conflict);
    CHECK(w.watch->requestRevert("test", "art8", "x", "", 0s, "guest").error().code == ErrorCode::Conflict);
    // No snapshot to go back to.
    WatchPatch other;
    other.snapshot = "missing";
    auto refused = w.watch->watch("test", "art8", other, "staff");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == ErrorCode::Conflict);
    CHECK(refused.error().message.find("missing") != std::string::npos);
    // Rate limit.
    REQUIRE(w.watch->watch("test", "art8", {}, "staff").ok());
    w.startWatch(WatchConfig{{"127.0.0.0/8"}, 2, ""});
    REQUIRE(w.watch->heartbeat("test", "art8", "", "").ok());
    REQUIRE(w.watch->heartbeat("test", "art8", "", "").ok());
    auto limited = w.watch->heartbeat("test", "art8", "", "");
    REQUIRE_FALSE(limited.ok());
    CHECK(limited.error().code == ErrorCode::TooManyRequests);
    w.clock.advance(1s);
    CHECK(w.watch->heartbeat("test", "art8", "", "").ok());
    // Status and message are kept within bounds whatever a caller sends.
    REQUIRE(w.watch->heartbeat("test", "art8", std::string(5000, 's'), std::string(100000, 'm')).ok());
    CHECK(w.view("art8").last_message.size() <= WatchService::kMaxLabelBytes);
}

TEST_CASE("watch: which guest addresses may speak for a VM without a token", "[watch]") {
    SECTION("user-mode networking: the host's loopback, where QEMU connects from") {
        WatchSite w(NetworkMode::User);
        w.startWatch();
        CHECK(w.watch->guestSource("127.0.0.1"));
        CHECK(w.watch->guestSource("::1"));
        CHECK_FALSE(w.watch->guestSource("192.0.2.7"));
        CHECK(w.watch->guestMayAct("test", "any", "127.0.0.1").ok());
        CHECK(w.watch->guestMayAct("test", "any", "192.0.2.7").error().code == ErrorCode::Forbidden);
    }
    SECTION("no network: no address speaks for a VM") {
        WatchSite w(NetworkMode::None);
        w.startWatch(WatchConfig{{"10.0.0.0/8"}, 10, ""});
        CHECK(w.watch->guestSource("10.1.2.3"));
        CHECK_FALSE(w.watch->guestSource("127.0.0.1"));
        CHECK(w.watch->guestMayAct("test", "any", "10.1.2.3").error().code == ErrorCode::Forbidden);
    }
}

TEST_CASE("watch: the policy record kept in metadata reads back and refuses nonsense", "[watch]") {
    WatchPolicy p;
    p.snapshot = "golden";
    p.heartbeat_timeout_ms = 2500;
    p.probe = WatchProbeKind::Agent;
    p.auto_revert = false;
    auto back = parseWatchPolicy(watchPolicyJson(p), WatchPolicy{});
    REQUIRE(back.ok());
    CHECK(back->snapshot == "golden");
    CHECK(back->heartbeat_timeout_ms == 2500);
    CHECK(back->probe == WatchProbeKind::Agent);
    CHECK_FALSE(back->auto_revert);
    for (const char* bad : {"", "[]", "{\"snapshot\":\"../x\"}", "{\"heartbeat_timeout_s\":-1}",
                            "{\"heartbeat_timeout_s\":\"15\"}", "{\"probe\":\"ping\"}", "{\"auto_revert\":1}",
                            "{\"check_interval_s\":1e308}"}) {
        INFO(bad);
        CHECK_FALSE(parseWatchPolicy(bad, WatchPolicy{}).ok());
    }
}
