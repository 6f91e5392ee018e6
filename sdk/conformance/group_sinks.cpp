// sinks: every sink runs during the call that was given it, on the calling thread; never after
// the call returned.
#include "groups.hpp"
#include "name_ops.hpp"

#include <chrono>
#include <thread>

namespace paddock::conformance {

namespace {

struct Probed {
    std::string entry;
    std::vector<const SinkProbe*> probes;
};

// Calls `call`, returns the probes it made.
template <class F>
std::vector<const SinkProbe*> probesOf(Session& s, F&& call) {
    const size_t before = s.probes.all().size();
    call();
    const auto all = s.probes.all();
    return std::vector<const SinkProbe*>(all.begin() + static_cast<std::ptrdiff_t>(before), all.end());
}

// More calls on the connection, then a pause: a sink kept beyond its call shows up here.
void giveLateCallsAChance(Session& s, const std::optional<std::string>& fixture) {
    ErrorRecord err;
    if (s.vt.host_info != nullptr) {
        pdk_host_info info{};
        info.struct_size = sizeof info;
        s.vt.host_info(s.conn, 0, &info, err.reset());
    }
    listAll(s);
    if (fixture) lookUp(s, *fixture);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
}

void judge(Session& s, const Probed& p) {
    int calls = 0, late = 0, foreign = 0;
    for (const SinkProbe* probe : p.probes) {
        calls += probe->calls();
        late += probe->lateCalls();
        foreign += probe->foreignCalls();
    }
    const std::string check = "sinks/" + p.entry;
    if (calls == 0) {
        s.report.skip(check, "the sink was not called (nothing to deliver)");
        return;
    }
    s.report.expect(late == 0 && foreign == 0, check,
                    late > 0 ? std::to_string(late) + " sink call(s) after the call returned"
                             : std::to_string(foreign) + " sink call(s) on another thread than the caller's");
}

}  // namespace

void runSinksGroup(Session& s) {
    std::vector<Probed> probed;
    std::optional<std::string> fixture;
    if (s.vt.define_domain != nullptr)
        fixture = defineFixture(s, "sinks", "sinks/fixture", {{"pdk-conformance", "sinks"}});
    if (s.vt.list_domains != nullptr)
        probed.push_back({"list_domains", probesOf(s, [&] { listAll(s, PDK_LIST_WITH_METADATA); })});
    if (fixture) {
        ErrorRecord err;
        // Something for the snapshot sinks to deliver.
        if (s.vt.snapshot_create != nullptr)
            s.vt.snapshot_create(s.conn, fixture->c_str(), "pdk-conformance-sinks", 0, err.reset());
        for (const NameOp& op : nameOps(s.vt)) {
            if (!op.takesSink) continue;
            probed.push_back({op.entry, probesOf(s, [&] { op.call(s, fixture->c_str(), 0, err); })});
        }
    }
    giveLateCallsAChance(s, fixture);
    for (const Probed& p : probed) judge(s, p);
    if (fixture && s.vt.get_domain != nullptr) {
        const auto once = probesOf(s, [&] { lookUp(s, *fixture); });
        const int calls = once.empty() ? 0 : once.front()->calls();
        s.report.expect(calls == 1, "sinks/get_domain.exactly-once",
                        "get_domain called its sink " + std::to_string(calls) + " times on PDK_OK");
    }
    int late = 0, foreign = 0;
    for (const SinkProbe* probe : s.probes.all()) {
        late += probe->lateCalls();
        foreign += probe->foreignCalls();
    }
    s.report.expect(late == 0 && foreign == 0, "sinks/whole-run",
                    std::to_string(late) + " late and " + std::to_string(foreign) +
                        " foreign-thread sink call(s) over every call the kit made so far");
}

}  // namespace paddock::conformance
