// PoolManager against the real libvirt-qemu plugin on libvirt's in-process test driver. The
// driver keeps its state per connection, so restart recovery runs two managers in sequence
// over one VmService (one connection). Nothing here asserts on timing: conditions are polled
// with generous deadlines.
#include "paddock/core/pool_manager.hpp"

#include "paddock/core/plugin_host.hpp"
#include "result_checks.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace paddock;
using paddock::test::eventually;
using namespace std::chrono_literals;

namespace {

constexpr const char* kBaseImage = "/var/lib/paddock/test/base.qcow2";

PoolConfig poolConfig(const std::string& mode, uint32_t minIdle, uint32_t maxTotal) {
    PoolConfig p;
    p.name = "lab";
    p.template_name = "tiny";
    p.mode = parseEnum<PoolMode>(mode).value();
    p.min_idle = minIdle;
    p.max_total = maxTotal;
    p.max_per_owner = 0;
    return p;
}

// One test:///default site with a template whose VMs get an overlay, and its pool plumbing.
struct PoolSite {
    PoolSite() {
        REQUIRE(host.loadFile(test::pluginDir() + "/paddock_libvirt_qemu.so").ok());
        auto plugin = host.backend("org.paddock.libvirt-qemu");
        REQUIRE(plugin.ok());
        SiteConfig cfg;
        cfg.name = "test";
        cfg.uri = "test:///default";
        cfg.storage_pool = "default-pool";
        TemplateConfig t;
        t.name = "tiny";
        t.base_image = kBaseImage;
        t.memory_mb = 128;
        cfg.templates.push_back(t);
        site = std::make_unique<Site>(cfg, plugin.value(), events, SshIdentity{}, metrics);
        REQUIRE(site->connect().ok());
        service = std::make_unique<VmService>(*site, audit, metrics);
        connection = site->connection().value();
    }

    std::unique_ptr<PoolManager> makePool(const PoolConfig& config, OperationRegistry* registry = nullptr,
                                          std::function<Status(const std::string&)> prepare = {}) {
        PoolManager::Options options;
        options.prepare = std::move(prepare);
        options.reconcile_interval = 100ms;
        options.workers = 4;
        auto pool = std::make_unique<PoolManager>(config, *site, *service, audit, poolMetrics,
                                                  registry != nullptr ? *registry : operations, options);
        pool->start();
        return pool;
    }

    Metadata metadata(const std::string& vm) {
        auto m = connection->getMetadata(vm);
        return m ? m.value() : Metadata{};
    }

    bool exists(const std::string& vm) { return connection->getDomain(vm).ok(); }

    PluginHost host;
    AuditLog audit{""};
    CoreMetrics metrics;
    PoolMetrics poolMetrics{*metrics.registry()};
    OperationRegistry operations;
    std::shared_ptr<EventHub> events = EventHub::create();
    std::unique_ptr<Site> site;
    std::unique_ptr<VmService> service;  // declared after the site it uses: destroyed first
    std::shared_ptr<BackendConnection> connection;
};

bool settled(PoolManager& pool, size_t idle) {
    const auto s = pool.status();
    return s.recovered && s.counts.idle == idle && s.counts.booting == 0 &&
           s.counts.total == s.counts.idle + s.counts.allocated;
}

AllocateRequest forOwner(const std::string& owner, std::optional<uint64_t> ttl = std::nullopt) {
    AllocateRequest r;
    r.owner = owner;
    r.ttl_s = ttl;
    r.actor = "tester";
    return r;
}

Lease allocateOk(PoolManager& pool, const AllocateRequest& request) {
    auto a = pool.allocate(request);
    INFO((a.ok() ? std::string() : a.error().message));
    REQUIRE(a.ok());
    REQUIRE(a->lease.has_value());
    return *a->lease;
}

}  // namespace

TEST_CASE("pools fill in the background in every mode", "[pool]") {
    PoolSite site;
    const auto mode =
        GENERATE(std::string("running"), std::string("saved"), std::string("shutoff"), std::string("paused"));
    INFO("mode " << mode);
    auto pool = site.makePool(poolConfig(mode, 3, 5));
    REQUIRE(eventually([&] { return settled(*pool, 3); }));
    const auto names = pool->vmNames();
    REQUIRE(names.size() == 3);
    for (const auto& name : names) {
        CHECK(name.rfind("lab-", 0) == 0);
        auto d = site.connection->getDomain(name);
        REQUIRE(d.ok());
        CHECK(d->metadata[meta::kPool] == "lab");
        CHECK(d->metadata[meta::kPoolState] == "idle");
        CHECK_FALSE(d->metadata[meta::kDisk].empty());
        if (mode == "running") CHECK(d->state == DomainState::Running);
        if (mode == "saved") CHECK((d->state == DomainState::Shutoff && d->has_managed_save));
        if (mode == "shutoff") CHECK((d->state == DomainState::Shutoff && !d->has_managed_save));
        if (mode == "paused") CHECK(d->state == DomainState::Paused);
    }
    CHECK(site.audit.lastLine().find("pool_") != std::string::npos);
}

TEST_CASE("a pool publishes its configured min_idle beside its counts", "[pool][metrics]") {
    PoolSite site;
    const auto text = [&] { return prometheus::TextSerializer().Serialize(site.metrics.registry()->Collect()); };
    auto pool = site.makePool(poolConfig("running", 2, 3));
    // The gauges follow the pool's state after each change; the last change is the last fill.
    REQUIRE(eventually([&] {
        return settled(*pool, 2) &&
               text().find("paddock_pool_idle_vms{pool=\"lab\",site=\"test\"} 2\n") != std::string::npos;
    }));
    CHECK_THAT(text(), Catch::Contains("paddock_pool_min_idle_vms{pool=\"lab\",site=\"test\"} 2\n"));
    CHECK_THAT(text(), Catch::Contains("# TYPE paddock_pool_min_idle_vms gauge"));
}

TEST_CASE("a pool prepares (provisions) each VM while it runs, before it becomes idle; a failure writes it off",
          "[pool][provision]") {
    PoolSite site;
    const auto mode = GENERATE(std::string("running"), std::string("saved"), std::string("shutoff"));
    INFO("mode " << mode);
    std::mutex mutex;
    std::vector<std::string> prepared;
    std::vector<std::string> seenWhilePreparing;  // state and pool_state at the call
    bool failFirst = true;
    auto pool = site.makePool(poolConfig(mode, 2, 3), nullptr, [&](const std::string& vm) -> Status {
        auto d = site.connection->getDomain(vm);
        std::lock_guard lock(mutex);
        seenWhilePreparing.push_back(std::string(domainStateName(d->state)) + "/" + d->metadata[meta::kPoolState]);
        if (failFirst) {
            failFirst = false;
            return makeError(ErrorCode::Internal, "provisioning failed on purpose");
        }
        prepared.push_back(vm);
        return {};
    });
    REQUIRE(eventually([&] { return settled(*pool, 2); }));
    std::lock_guard lock(mutex);
    CHECK(prepared.size() == 2);
    for (const auto& seen : seenWhilePreparing) CHECK(seen == "running/filling");  // booted, not idle yet
    for (const auto& name : pool->vmNames()) {
        CHECK(std::find(prepared.begin(), prepared.end(), name) != prepared.end());  // only prepared ones are idle
        CHECK(site.metadata(name)[meta::kPoolState] == "idle");
    }
    CHECK(pool->status().last_error.find("provisioning failed on purpose") != std::string::npos);
}

TEST_CASE("an allocation makes the VM ready and writes the lease to libvirt first", "[pool]") {
    PoolSite site;
    const auto mode =
        GENERATE(std::string("running"), std::string("saved"), std::string("shutoff"), std::string("paused"));
    INFO("mode " << mode);
    auto cfg = poolConfig(mode, 2, 4);
    cfg.default_ttl_s = 600;
    cfg.max_ttl_s = 1200;
    auto pool = site.makePool(cfg);
    REQUIRE(eventually([&] { return settled(*pool, 2); }));

    const Lease lease = allocateOk(*pool, forOwner("alice"));
    CHECK(lease.owner == "alice");
    CHECK(lease.pool == "lab");
    CHECK(lease.site == "test");
    CHECK(lease.id.rfind("lease-", 0) == 0);
    CHECK(lease.expires_at - lease.created_at == std::chrono::seconds(600));
    auto d = site.connection->getDomain(lease.vm);
    REQUIRE(d.ok());
    CHECK(d->state == DomainState::Running);
    // Read back as libvirt has it (the live definition after a restore).
    CHECK(d->metadata[meta::kPoolState] == "allocated");
    CHECK(d->metadata[meta::kLeaseId] == lease.id);
    CHECK(d->metadata[meta::kLeaseOwner] == "alice");
    CHECK(d->metadata[meta::kOwner] == "alice");
    CHECK(parseIsoTime(d->metadata[meta::kLeaseExpiresAt]).has_value());
    CHECK(pool->lease(lease.id).has_value());
    CHECK(pool->leases("alice").size() == 1);
    CHECK(pool->leases("bob").empty());
    CHECK(site.service->get(lease.vm)->owner == "alice");

    // The pool refills behind the allocation.
    REQUIRE(eventually([&] { return pool->status().counts.idle == 2 && pool->status().counts.allocated == 1; }));

    // ttl_s is capped at max_ttl_s.
    const Lease capped = allocateOk(*pool, forOwner("bob", 100000));
    CHECK(capped.expires_at - capped.created_at == std::chrono::seconds(1200));
}

TEST_CASE("100 concurrent allocations never hand one VM to two owners", "[pool][atomicity]") {
    PoolSite site;
    const auto onEmpty = GENERATE(std::string("503"), std::string("cold"));
    INFO("on_empty " << onEmpty);
    auto cfg = poolConfig("running", 10, 15);
    cfg.on_empty = parseEnum<EmptyPoolPolicy>(onEmpty).value();
    auto pool = site.makePool(cfg);
    REQUIRE(eventually([&] { return settled(*pool, 10); }));

    std::mutex mutex;
    std::map<std::string, std::string> ownerOfVm;  // vm -> owner
    std::vector<std::string> duplicates;
    std::vector<Operation> operations;
    std::atomic<int> unavailable{0}, otherErrors{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 100; ++i) {
        threads.emplace_back([&, i] {
            auto a = pool->allocate(forOwner("student-" + std::to_string(i)));
            std::lock_guard lock(mutex);
            if (!a) {
                (a.error().code == ErrorCode::Unavailable ? unavailable : otherErrors)++;
            } else if (a->operation) {
                operations.push_back(*a->operation);
            } else if (!a->lease) {
                otherErrors++;  // neither a lease nor an operation
            } else if (!ownerOfVm.emplace(a->lease->vm, a->lease->owner).second) {
                duplicates.push_back(a->lease->vm);
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK(duplicates.empty());
    CHECK(otherErrors == 0);
    CHECK(ownerOfVm.size() >= 10);
    CHECK(ownerOfVm.size() + operations.size() <= 15);
    CHECK(static_cast<int>(ownerOfVm.size() + operations.size()) + unavailable == 100);
    if (onEmpty == "503") CHECK(operations.empty());

    // Cold allocations finish with VMs of their own.
    for (const auto& op : operations) {
        REQUIRE(eventually([&] { return site.operations.get(op.id)->status != Operation::Status::Pending; }));
        auto done = site.operations.get(op.id).value();
        INFO((done.error ? done.error->message : std::string()));
        REQUIRE(done.status == Operation::Status::Done);
        CHECK(done.lease->owner == op.owner);
        CHECK(ownerOfVm.emplace(done.lease->vm, done.lease->owner).second);
    }
    // libvirt agrees: each VM carries exactly the owner that got it.
    for (const auto& [vm, owner] : ownerOfVm) CHECK(site.metadata(vm)[meta::kLeaseOwner] == owner);
    CHECK(pool->status().counts.allocated == ownerOfVm.size());
    CHECK(pool->status().counts.total <= 15);
}

TEST_CASE("max_per_owner is enforced with a clear message", "[pool]") {
    PoolSite site;
    auto cfg = poolConfig("running", 3, 5);
    cfg.max_per_owner = 2;
    auto pool = site.makePool(cfg);
    REQUIRE(eventually([&] { return settled(*pool, 3); }));
    allocateOk(*pool, forOwner("alice"));
    allocateOk(*pool, forOwner("alice"));
    auto third = pool->allocate(forOwner("alice"));
    REQUIRE_FALSE(third.ok());
    CHECK(failure(third).code == ErrorCode::Conflict);
    CHECK_THAT(failure(third).message, Catch::Contains("alice") && Catch::Contains("(max_per_owner 2)"));
    allocateOk(*pool, forOwner("bob"));
    auto uncapped = forOwner("alice");
    uncapped.enforce_owner_cap = false;
    REQUIRE(eventually([&] { return pool->status().counts.idle > 0; }));
    allocateOk(*pool, uncapped);

    CHECK(failure(pool->allocate(forOwner(""))).code == ErrorCode::InvalidArgument);
    CHECK(failure(pool->allocate(forOwner("a\nb"))).code == ErrorCode::InvalidArgument);
    CHECK(failure(pool->allocate(forOwner("carol", 0))).code == ErrorCode::InvalidArgument);
}

TEST_CASE("an empty pool answers Unavailable, or a cold operation when configured", "[pool]") {
    PoolSite site;
    auto cfg = poolConfig("running", 0, 1);
    SECTION("503") {
        auto pool = site.makePool(cfg);
        REQUIRE(eventually([&] { return pool->status().recovered; }));
        auto a = pool->allocate(forOwner("alice"));
        REQUIRE_FALSE(a.ok());
        CHECK(failure(a).code == ErrorCode::Unavailable);
        CHECK_THAT(failure(a).message, Catch::Contains("no idle VM"));
    }
    SECTION("cold") {
        cfg.on_empty = EmptyPoolPolicy::Cold;
        auto pool = site.makePool(cfg);
        REQUIRE(eventually([&] { return pool->status().recovered; }));
        auto a = pool->allocate(forOwner("alice"));
        REQUIRE(a.ok());
        REQUIRE(a->operation.has_value());
        CHECK(a->operation->status == Operation::Status::Pending);
        REQUIRE(eventually([&] { return site.operations.get(a->operation->id)->status == Operation::Status::Done; }));
        const Lease lease = *site.operations.get(a->operation->id)->lease;
        CHECK(lease.owner == "alice");
        CHECK(site.metadata(lease.vm)[meta::kPoolState] == "allocated");
        CHECK(pool->lease(lease.id).has_value());
        // max_total reached: no second cold VM, and never through the compat path.
        auto full = pool->allocate(forOwner("bob"));
        REQUIRE_FALSE(full.ok());
        CHECK(failure(full).code == ErrorCode::Unavailable);
    }
}

TEST_CASE("release and expiry destroy the VM and its overlay, and the pool refills", "[pool]") {
    PoolSite site;
    auto pool = site.makePool(poolConfig("saved", 2, 4));
    REQUIRE(eventually([&] { return settled(*pool, 2); }));

    const Lease released = allocateOk(*pool, forOwner("alice"));
    const std::string disk = site.service->get(released.vm)->disk;
    REQUIRE_FALSE(disk.empty());
    REQUIRE(pool->release(released.id, "tester").ok());
    CHECK_FALSE(site.exists(released.vm));
    CHECK(failure(site.connection->deleteVolume(disk)).code == ErrorCode::NotFound);
    CHECK_FALSE(pool->lease(released.id).has_value());
    CHECK(failure(pool->release(released.id, "tester")).code == ErrorCode::NotFound);

    const Lease expiring = allocateOk(*pool, forOwner("bob", 1));
    REQUIRE(eventually([&] { return !site.exists(expiring.vm); }));
    CHECK_FALSE(pool->lease(expiring.id).has_value());
    REQUIRE(eventually([&] { return settled(*pool, 2); }));
    for (const auto& vm : pool->vmNames()) {
        CHECK(vm != released.vm);
        CHECK(vm != expiring.vm);
    }
}

TEST_CASE("extend moves the expiry, capped at max_ttl_s from creation", "[pool]") {
    PoolSite site;
    auto cfg = poolConfig("running", 1, 2);
    cfg.default_ttl_s = 60;
    cfg.max_ttl_s = 300;
    auto pool = site.makePool(cfg);
    REQUIRE(eventually([&] { return settled(*pool, 1); }));
    const Lease lease = allocateOk(*pool, forOwner("alice"));

    auto longer = pool->extend(lease.id, 200, "tester");
    REQUIRE(longer.ok());
    CHECK(longer->expires_at > lease.expires_at);
    CHECK(parseIsoTime(site.metadata(lease.vm)[meta::kLeaseExpiresAt]) ==
          std::chrono::time_point_cast<std::chrono::seconds>(longer->expires_at));
    auto capped = pool->extend(lease.id, 100000, "tester");
    REQUIRE(capped.ok());
    CHECK(capped->expires_at == lease.created_at + std::chrono::seconds(300));
    CHECK(failure(pool->extend(lease.id, 0, "tester")).code == ErrorCode::InvalidArgument);
    CHECK(failure(pool->extend("lease-nope", 10, "tester")).code == ErrorCode::NotFound);
}

TEST_CASE("an Idempotency-Key returns the same lease to the same owner only", "[pool]") {
    PoolSite site;
    auto pool = site.makePool(poolConfig("running", 3, 5));
    REQUIRE(eventually([&] { return settled(*pool, 3); }));
    auto request = forOwner("alice");
    request.idempotency_key = "retry-1";

    // Concurrent retries of one request claim one VM. The threads keep what they got; Catch2
    // is not thread-safe, so it is judged here afterwards.
    std::vector<std::thread> threads;
    std::mutex mutex;
    std::set<std::string> leaseIds;
    std::vector<std::string> failures;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            auto a = pool->allocate(request);
            std::lock_guard lock(mutex);
            if (!a)
                failures.push_back(a.error().message);
            else if (!a->lease)
                failures.push_back("no lease");
            else
                leaseIds.insert(a->lease->id);
        });
    }
    for (auto& t : threads) t.join();
    {
        std::string messages;
        for (const auto& message : failures) messages += message + "\n";
        INFO(messages);
        CHECK(failures.empty());
    }
    REQUIRE(leaseIds.size() == 1);
    CHECK(pool->leases().size() == 1);
    auto again = pool->allocate(request);
    REQUIRE(again.ok());
    CHECK(again->replayed);
    CHECK(again->lease->id == *leaseIds.begin());
    CHECK(site.metadata(again->lease->vm)[meta::kLeaseIdempotencyKey] == "retry-1");

    auto thief = request;
    thief.owner = "mallory";
    auto stolen = pool->allocate(thief);
    REQUIRE_FALSE(stolen.ok());
    CHECK(failure(stolen).code == ErrorCode::Conflict);
}

TEST_CASE("pool VMs deleted or broken behind Paddock's back are replaced", "[pool][healing]") {
    PoolSite site;
    auto pool = site.makePool(poolConfig("shutoff", 2, 3));
    REQUIRE(eventually([&] { return settled(*pool, 2); }));
    const Lease lease = allocateOk(*pool, forOwner("alice"));
    REQUIRE(eventually([&] { return settled(*pool, 2); }));

    std::string deleted, broken;
    for (const auto& vm : pool->vmNames()) {
        if (vm == lease.vm) continue;
        (deleted.empty() ? deleted : broken) = vm;
    }
    // Deleted: gone from libvirt without Paddock. Broken: an idle "shutoff" VM that runs.
    REQUIRE(site.connection->undefineDomain(deleted, true).ok());
    REQUIRE(site.connection->startDomain(broken).ok());
    REQUIRE(eventually([&] {
        const auto names = pool->vmNames();
        return settled(*pool, 2) && std::count(names.begin(), names.end(), deleted) == 0 &&
               std::count(names.begin(), names.end(), broken) == 0;
    }));
    CHECK_FALSE(site.exists(broken));
    CHECK(pool->lease(lease.id).has_value());

    // A leased VM deleted behind Paddock's back ends its lease.
    REQUIRE(site.connection->destroyDomain(lease.vm).ok());
    REQUIRE(site.connection->undefineDomain(lease.vm, true).ok());
    REQUIRE(eventually([&] { return !pool->lease(lease.id).has_value(); }));
}

TEST_CASE("a restarted manager recovers leases and idle VMs from libvirt and replaces half-made ones",
          "[pool][recovery]") {
    PoolSite site;
    // A paused pool's idle VMs are recovered paused; one resumed behind its back is replaced,
    // as a saved pool's restored one is.
    const auto mode = GENERATE(std::string("saved"), std::string("paused"));
    INFO("mode " << mode);
    auto cfg = poolConfig(mode, 2, 5);
    cfg.max_per_owner = 1;
    auto first = site.makePool(cfg);
    REQUIRE(eventually([&] { return settled(*first, 2); }));
    auto request = forOwner("alice", 900);
    request.idempotency_key = "k-1";
    const Lease lease = allocateOk(*first, request);
    REQUIRE(eventually([&] { return settled(*first, 2); }));
    const auto idleBefore = [&] {
        std::set<std::string> names;
        for (const auto& vm : first->vmNames())
            if (vm != lease.vm) names.insert(vm);
        return names;
    }();
    first.reset();  // "killed": threads stop, libvirt keeps everything

    // What a kill in the middle of a refill leaves: a pool VM still marked filling, and an
    // idle VM of a saved (paused) pool that runs (killed between restore/resume and lease record).
    CreateVmRequest half;
    half.name = "lab-halfmade";
    half.template_name = "tiny";
    half.start = true;
    half.metadata = {{meta::kPool, "lab"}, {meta::kPoolState, "filling"}};
    REQUIRE(site.service->create(half, "tester").ok());
    const std::string claimed = *idleBefore.begin();
    REQUIRE(site.service->start(claimed, "tester").ok());

    auto second = site.makePool(cfg);
    REQUIRE(eventually([&] { return second->status().recovered; }));
    auto recovered = second->lease(lease.id);
    REQUIRE(recovered.has_value());
    CHECK(recovered->vm == lease.vm);
    CHECK(recovered->owner == "alice");
    CHECK(recovered->expires_at == std::chrono::time_point_cast<std::chrono::seconds>(lease.expires_at));
    CHECK(recovered->idempotency_key == "k-1");

    REQUIRE(eventually([&] { return !site.exists("lab-halfmade") && !site.exists(claimed) && settled(*second, 2); }));
    // The survivor idle VM is handed out again, the leased one never.
    auto replay = second->allocate(request);
    REQUIRE(replay.ok());
    CHECK(replay->replayed);
    CHECK(replay->lease->id == lease.id);
    CHECK(failure(second->allocate(forOwner("alice"))).code == ErrorCode::Conflict);
    for (int i = 0; i < 2; ++i) {
        const Lease other = allocateOk(*second, forOwner("user-" + std::to_string(i)));
        CHECK(other.vm != lease.vm);
    }
    CHECK(second->leases().size() == 3);
}

TEST_CASE("a restarted manager settles the cold allocations a crash interrupted and replaces VMs left mid-operation",
          "[pool][recovery][crash]") {
    test::TempDir dir;
    const std::string file = dir.file("operations.json");
    PoolSite site;
    auto cfg = poolConfig("shutoff", 1, 4);
    cfg.on_empty = EmptyPoolPolicy::Cold;
    std::string leasedOp, lostOp;
    Lease coldLease;
    {
        OperationRegistry before;
        REQUIRE(before.persistTo(file).ok());
        auto first = site.makePool(cfg, &before);
        REQUIRE(eventually([&] { return settled(*first, 1); }));
        (void)allocateOk(*first, forOwner("alice"));  // takes the idle VM: the next one is cold
        auto cold = first->allocate(forOwner("bob"));
        REQUIRE(cold.ok());
        REQUIRE(cold->operation.has_value());
        REQUIRE(eventually([&] { return before.get(cold->operation->id)->status != Operation::Status::Pending; }));
        coldLease = before.get(cold->operation->id)->lease.value();
        // As if paddockd had died after writing the lease but before recording the operation
        // as done, and during another cold allocation whose VM never got a lease.
        leasedOp = before.begin(kOperationPoolAllocate, "lab", "bob", coldLease.vm).value().id;
        lostOp = before.begin(kOperationPoolAllocate, "lab", "carol", "lab-neverleased").value().id;
        REQUIRE(eventually([&] { return settled(*first, 1); }));
        // And a pool VM in the middle of its removal (VmService's intent record).
        const std::string idle = [&] {
            for (const auto& vm : first->vmNames())
                if (site.metadata(vm)[meta::kPoolState] == "idle") return vm;
            return std::string();
        }();
        REQUIRE_FALSE(idle.empty());
        first.reset();
        Metadata m = site.metadata(idle);
        m[meta::kIntent] = "deleting";
        m[meta::kIntentBy] = "pdk-test";
        REQUIRE(site.connection->setMetadata(idle, m, false).ok());

        OperationRegistry after;
        REQUIRE(after.persistTo(file).ok());
        CHECK(after.get(lostOp)->status == Operation::Status::Pending);  // not 404 while recovering
        auto second = site.makePool(cfg, &after);
        REQUIRE(eventually([&] { return second->status().recovered; }));
        const Operation leased = after.get(leasedOp).value();
        CHECK(leased.status == Operation::Status::Done);
        CHECK(leased.lease->id == coldLease.id);
        const Operation lost = after.get(lostOp).value();
        CHECK(lost.status == Operation::Status::Failed);
        CHECK(lost.error->message == kInterruptedByRestart);
        REQUIRE(eventually([&] { return !site.exists(idle) && settled(*second, 1); }));
        CHECK(second->leases().size() == 2);
    }
}
