#include "paddock/core/domain_cache.hpp"

#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <thread>

using namespace paddock;
using namespace std::chrono_literals;

namespace {

DomainInfo domain(const std::string& name, DomainState state = DomainState::Shutoff) {
    DomainInfo d;
    d.name = name;
    d.state = state;
    return d;
}

// Polls `pred` every 10 ms for up to 5 s.
bool eventually(const std::function<bool()>& pred) { return paddock::test::eventually(pred, 5s, 10ms); }

struct FakeHypervisor {
    std::mutex mutex;
    std::map<std::string, DomainInfo> domains;
    std::atomic<int> fullListings{0};
    std::atomic<bool> down{false};

    DomainCache::ListAll listAll() {
        return [this]() -> Result<std::vector<DomainInfo>> {
            ++fullListings;
            if (down) return makeError(ErrorCode::Unavailable, "down");
            std::lock_guard lock(mutex);
            std::vector<DomainInfo> out;
            for (const auto& [n, d] : domains) out.push_back(d);
            return out;
        };
    }
    DomainCache::GetOne getOne() {
        return [this](const std::string& name) -> Result<DomainInfo> {
            std::lock_guard lock(mutex);
            const auto it = domains.find(name);
            if (it == domains.end()) return makeError(ErrorCode::NotFound, "no " + name);
            return it->second;
        };
    }
};

}  // namespace

TEST_CASE("the view fills from one bulk listing and refreshes periodically", "[domain_cache]") {
    FakeHypervisor hv;
    hv.domains["a"] = domain("a");
    DomainCache cache(100ms);
    CHECK_FALSE(cache.snapshot().has_value());
    cache.start(hv.listAll(), hv.getOne(), nullptr);
    REQUIRE(eventually([&] { return cache.snapshot().has_value(); }));
    CHECK(cache.snapshot()->size() == 1);
    {
        std::lock_guard lock(hv.mutex);
        hv.domains["a"].cpu_time_ns = 42;
    }
    CHECK(eventually([&] { return cache.snapshot()->front().cpu_time_ns == 42; }));
    CHECK(hv.fullListings > 1);
}

TEST_CASE("touch re-reads one domain; a vanished one is dropped", "[domain_cache]") {
    FakeHypervisor hv;
    hv.domains["a"] = domain("a");
    DomainCache cache(1h);  // only the first full listing: changes must come from touch()
    cache.start(hv.listAll(), hv.getOne(), nullptr);
    REQUIRE(eventually([&] { return cache.snapshot().has_value(); }));
    {
        std::lock_guard lock(hv.mutex);
        hv.domains["a"].state = DomainState::Running;
        hv.domains["b"] = domain("b");
    }
    cache.touch("a");
    cache.touch("b");
    CHECK(eventually([&] {
        auto s = cache.snapshot();
        return s->size() == 2 && s->front().state == DomainState::Running;
    }));
    {
        std::lock_guard lock(hv.mutex);
        hv.domains.erase("a");
    }
    cache.touch("a");
    CHECK(eventually([&] { return cache.snapshot()->size() == 1; }));
    CHECK(hv.fullListings == 1);
}

TEST_CASE("put and erase show at once; an unreachable hypervisor invalidates the view", "[domain_cache]") {
    FakeHypervisor hv;
    DomainCache cache(50ms);
    cache.start(hv.listAll(), hv.getOne(), nullptr);
    REQUIRE(eventually([&] { return cache.snapshot().has_value(); }));
    {
        std::lock_guard lock(hv.mutex);
        hv.domains["new"] = domain("new");
    }
    cache.put(domain("new"));
    CHECK(cache.snapshot()->size() == 1);
    cache.erase("new");
    CHECK(cache.snapshot()->empty());

    hv.down = true;
    CHECK(eventually([&] { return !cache.snapshot().has_value(); }));
    hv.down = false;
    CHECK(eventually([&] { return cache.snapshot().has_value(); }));
}

TEST_CASE("the view's version stays while listings repeat it and moves with every change", "[domain_cache]") {
    FakeHypervisor hv;
    hv.domains["a"] = domain("a");
    DomainCache cache(20ms);
    CHECK_FALSE(cache.version().has_value());
    cache.start(hv.listAll(), hv.getOne(), nullptr);
    REQUIRE(eventually([&] { return cache.version().has_value(); }));
    const uint64_t filled = *cache.version();

    // Listings that find the same domains keep it.
    const int listings = hv.fullListings;
    REQUIRE(eventually([&] { return hv.fullListings >= listings + 3; }));
    CHECK(cache.version() == filled);

    // A counter that moved on its own: the next listing differs.
    {
        std::lock_guard lock(hv.mutex);
        hv.domains["a"].cpu_time_ns = 42;
    }
    REQUIRE(eventually([&] { return cache.version() != filled; }));
    const uint64_t listed = *cache.version();

    cache.put(domain("b"));
    const uint64_t put = cache.version().value_or(listed);
    CHECK(put != listed);
    cache.erase("b");
    CHECK(cache.version() != put);

    // An event's re-read of one domain.
    const uint64_t beforeTouch = *cache.version();
    {
        std::lock_guard lock(hv.mutex);
        hv.domains["a"].state = DomainState::Running;
    }
    cache.touch("a");
    REQUIRE(eventually([&] { return cache.version() != beforeTouch; }));

    // Lost: no version (nothing derived may be kept); back: a new one.
    const uint64_t beforeDown = *cache.version();
    hv.down = true;
    cache.invalidate();
    REQUIRE(eventually([&] { return !cache.version().has_value(); }));
    hv.down = false;
    REQUIRE(eventually([&] { return cache.version().has_value(); }));
    CHECK(*cache.version() != beforeDown);
}
