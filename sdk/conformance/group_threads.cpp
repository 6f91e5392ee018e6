// threads: one connection used from several threads at once; no crash, the same answers.
#include "groups.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace paddock::conformance {

namespace {

constexpr int kThreads = 8;
constexpr int kRounds = 20;
// A slow backend (one that runs a program per call) does fewer rounds: each thread stops after
// this long, having done at least one.
constexpr auto kTimeBudget = std::chrono::seconds(3);

struct Expected {
    std::string fixture;
    SeenDomain domain;
    std::string hostname;
    Metadata metadata;
};

// What one entry answered across all threads.
struct Tally {
    std::atomic<int> calls{0};
    std::atomic<int> wrong{0};
    std::mutex mutex;
    std::string first;
    void bad(const std::string& why) {
        ++wrong;
        std::lock_guard lock(mutex);
        if (first.empty()) first = why;
    }
};

struct Tallies {
    Tally list, get, hostInfo, metadata;
};

void oneRound(Session& s, const Expected& e, Tallies& t) {
    ErrorRecord err;
    if (s.vt.list_domains != nullptr) {
        ++t.list.calls;
        const auto all = listAll(s);
        const SeenDomain* d = nullptr;
        if (all) {
            for (const auto& x : *all) d = x.name == e.fixture ? &x : d;
        }
        if (!all)
            t.list.bad("list_domains failed");
        else if (d == nullptr || d->uuid != e.domain.uuid)
            t.list.bad("the fixture is missing or has another uuid");
    }
    if (s.vt.get_domain != nullptr) {
        ++t.get.calls;
        pdk_status st = PDK_OK;
        const auto d = lookUp(s, e.fixture, &st);
        if (!d)
            t.get.bad("get_domain returned " + statusName(st));
        else if (d->uuid != e.domain.uuid || d->state != e.domain.state)
            t.get.bad("another uuid or state");
    }
    if (s.vt.host_info != nullptr) {
        ++t.hostInfo.calls;
        pdk_host_info info{};
        info.struct_size = sizeof info;
        const pdk_status st = s.vt.host_info(s.conn, 0, &info, err.reset());
        if (st != PDK_OK)
            t.hostInfo.bad("host_info returned " + err.describe(st));
        else if (e.hostname != info.hostname)
            t.hostInfo.bad("another hostname");
    }
    if (s.vt.get_metadata != nullptr) {
        ++t.metadata.calls;
        auto& probe = s.probes.make<KvProbe>();
        const pdk_status st = inWindow(probe, [&] {
            return s.vt.get_metadata(s.conn, e.fixture.c_str(), 0, &KvProbe::sink, &probe, err.reset());
        });
        if (st != PDK_OK)
            t.metadata.bad("get_metadata returned " + err.describe(st));
        else if (probe.pairs != e.metadata)
            t.metadata.bad("other pairs");
    }
}

void judge(Session& s, const char* entry, const Tally& t) {
    const std::string check = std::string("threads/") + entry;
    if (t.calls == 0) {
        s.report.skip(check, std::string(entry) + " is NULL");
        return;
    }
    s.report.expect(
        t.wrong == 0, check,
        std::to_string(t.wrong) + " of " + std::to_string(t.calls) + " concurrent calls went wrong, first: " + t.first);
}

}  // namespace

void runThreadsGroup(Session& s) {
    if (s.vt.define_domain == nullptr || s.vt.get_domain == nullptr) {
        s.report.skip("threads", "define_domain or get_domain is NULL");
        return;
    }
    Expected e;
    e.metadata = {{"pdk-conformance", "threads"}};
    const auto fixture = defineFixture(s, "threads", "threads/fixture", e.metadata);
    if (!fixture) return;
    e.fixture = *fixture;
    const auto seen = lookUp(s, e.fixture);
    if (!seen) {
        s.report.fail("threads/fixture", "get_domain does not find the fixture");
        return;
    }
    e.domain = *seen;
    if (s.vt.get_metadata == nullptr) e.metadata.clear();
    if (s.vt.host_info != nullptr) {
        pdk_host_info info{};
        info.struct_size = sizeof info;
        ErrorRecord err;
        s.vt.host_info(s.conn, 0, &info, err.reset());
        e.hostname = info.hostname;
    }
    Tallies t;
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&] {
            const auto until = std::chrono::steady_clock::now() + kTimeBudget;
            for (int r = 0; r < kRounds && (r == 0 || std::chrono::steady_clock::now() < until); ++r) oneRound(s, e, t);
        });
    }
    for (auto& th : threads) th.join();
    judge(s, "list_domains", t.list);
    judge(s, "get_domain", t.get);
    judge(s, "host_info", t.hostInfo);
    judge(s, "get_metadata", t.metadata);
}

}  // namespace paddock::conformance
