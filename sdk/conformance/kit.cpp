#include "kit.hpp"

#include "call_support.hpp"
#include "groups.hpp"
#include "plugin_library.hpp"
#include "report.hpp"
#include "session.hpp"

#include <chrono>
#include <optional>
#include <thread>

namespace paddock::conformance {

namespace {

int finish(Report& report) {
    report.summary();
    return report.failed() == 0 ? 0 : 1;
}

// The selected backend, after the abi group's descriptor checks; NULL after a fatal FAIL.
const DescriptorView* handshake(Report& report, const Options& o, PluginLibrary& library,
                                std::vector<DescriptorView>& chain) {
    const pdk_plugin_entry_fn entry = library.entry();
    if (entry == nullptr) {
        report.fail("abi/entry-symbol", "the library does not export " PDK_PLUGIN_ENTRY_SYMBOL);
        return nullptr;
    }
    const pdk_plugin_descriptor* first = entry();
    if (first == nullptr || entry() != first) {
        report.fail("abi/entry-symbol", first == nullptr
                                            ? "pdk_plugin_entry returned NULL"
                                            : "pdk_plugin_entry returned another descriptor the second time");
        return nullptr;
    }
    if (o.runs("abi")) report.pass("abi/entry-symbol");
    std::string problem;
    chain = walkChain(first, problem);
    std::string error;
    const DescriptorView* selected = selectBackend(chain, o.id, error);
    if (o.runs("abi")) checkDescriptors(report, chain, problem, selected);
    if (selected == nullptr) {
        report.fail("abi/select", error);
        return nullptr;
    }
    std::string why;
    if (!usableBackend(*selected, why)) {
        report.fail("abi/usable", "the kit cannot test this backend: " + why);
        return nullptr;
    }
    return selected;
}

// init with `host` per the SDK's rules: library-wide, from the entry descriptor. False on a
// fatal failure.
bool attach(Report& report, const Options& o, const DescriptorView& entry, HostLink& host) {
    if (entry.copy.init == nullptr) {
        if (o.runs("abi")) report.skip("abi/init", "init is NULL (optional)");
        return true;
    }
    ErrorRecord err;
    const pdk_status st = host.attach(entry.copy.init, 0, err.reset());
    if (st != PDK_OK) {
        report.fail("abi/init", "init refused the kit's host: " + err.describe(st));
        return false;
    }
    if (o.runs("abi")) report.pass("abi/init");
    return true;
}

enum class Opened { Yes, No, ExitNow };

Opened openConnection(Session& s, int& exitCode) {
    ErrorRecord err;
    pdk_backend_connection* conn = nullptr;
    const pdk_status st = s.vt.open(s.options.uri.c_str(), 0, &conn, err.reset());
    if (s.options.expectUnavailable) {
        if (st == PDK_OK) {
            s.report.fail("open/unavailable", "open of " + s.options.uri + " succeeded; expected PDK_ERR_UNAVAILABLE");
            if (conn != nullptr) s.vt.close(conn);
        } else if (st == PDK_ERR_UNAVAILABLE && err.filled(st)) {
            s.report.pass("open/unavailable", err.describe(st));
        } else {
            s.report.fail("open/unavailable", "expected PDK_ERR_UNAVAILABLE with a reason, got " + err.describe(st));
        }
        return Opened::No;
    }
    if (st == PDK_ERR_UNAVAILABLE && s.options.unavailableExit) {
        s.report.skip("open/connect", s.options.uri + " is unavailable: " + err.describe(st));
        exitCode = *s.options.unavailableExit;
        return Opened::ExitNow;
    }
    if (st != PDK_OK || conn == nullptr) {
        s.report.fail("open/connect",
                      s.options.uri + ": " + (st == PDK_OK ? "PDK_OK but no connection" : err.describe(st)));
        return Opened::No;
    }
    s.conn = conn;
    s.report.pass("open/connect");
    return Opened::Yes;
}

void runGroups(Session& s, bool connected) {
    struct Group {
        const char* name;
        void (*run)(Session&);
    };
    static constexpr Group kRun[] = {
        {"args", &runArgsGroup},           {"lifecycle", &runLifecycleGroup}, {"structs", &runStructsGroup},
        {"ownership", &runOwnershipGroup}, {"sinks", &runSinksGroup},         {"threads", &runThreadsGroup},
        {"events", &runEventsGroup},
    };
    for (const Group& g : kRun) {
        if (!s.options.runs(g.name)) continue;
        if (!connected) {
            s.report.skip(g.name, "no connection to " + s.options.uri);
            continue;
        }
        g.run(s);
        s.janitor.cleanUp(s.vt, s.conn);
    }
}

void detach(Report& report, const Options& o, const DescriptorView& entry, HostLink& host) {
    if (!host.attached()) return;
    host.detach(entry.copy.deinit);
    // A plugin thread that still logs shows within this pause.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (!o.runs("abi")) return;
    report.expect(host.linesOutsideInit() == 0, "abi/log-window",
                  std::to_string(host.linesOutsideInit()) + " log line(s) outside init..deinit");
    report.expect(host.badLines() == 0, "abi/log-lines",
                  std::to_string(host.badLines()) + " log call(s) with a NULL message or an unknown level");
}

}  // namespace

int runKit(const Options& o) {
    Report report;
    report.waive(o.waived);
    std::string error;
    auto library = PluginLibrary::load(o.plugin, error);
    if (!library) {
        report.fail("abi/load", error);
        return finish(report);
    }
    std::vector<DescriptorView> chain;
    const DescriptorView* selected = handshake(report, o, *library, chain);
    if (selected == nullptr) return finish(report);
    printCapabilityTable(report, *selected);

    HostLink host;
    if (!attach(report, o, chain.front(), host)) return finish(report);
    if (o.runs("abi")) checkInitRules(report, chain.front(), *selected, o.uri);

    Session session{o, report};
    session.vt = copyVtable(selected->copy.vtable);
    int exitCode = 0;
    const Opened opened = openConnection(session, exitCode);
    if (opened == Opened::ExitNow) {
        detach(report, o, chain.front(), host);
        report.summary();
        return exitCode;
    }
    runGroups(session, opened == Opened::Yes);
    if (session.conn != nullptr) {
        session.janitor.cleanUp(session.vt, session.conn);
        session.vt.close(session.conn);
    }
    detach(report, o, chain.front(), host);
    return finish(report);
}

}  // namespace paddock::conformance
