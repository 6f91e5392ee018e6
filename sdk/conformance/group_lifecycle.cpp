// lifecycle: a small domain from definition to removal, its metadata and snapshots.
#include "groups.hpp"

#include <chrono>
#include <thread>

namespace paddock::conformance {

namespace {

using namespace std::chrono_literals;

const Metadata kMetadata = {{"pdk-conformance", "lifecycle"}, {"owner", "kit"}};

// The state get_domain reports, polled until `done` or about `limit` passed.
std::optional<SeenDomain> pollState(Session& s, const std::string& name, bool (*done)(pdk_domain_state),
                                    std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    std::optional<SeenDomain> seen = lookUp(s, name);
    while (seen && !done(seen->state) && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(100ms);
        seen = lookUp(s, name);
    }
    return seen;
}

bool isOff(pdk_domain_state st) { return !isActive(st); }
bool isRunning(pdk_domain_state st) { return st == PDK_DOMAIN_RUNNING || st == PDK_DOMAIN_BLOCKED; }
bool isPaused(pdk_domain_state st) { return st == PDK_DOMAIN_PAUSED; }

std::string stateText(const std::optional<SeenDomain>& d) {
    return d ? "state " + std::to_string(d->state) : "get_domain found no such domain";
}

// An overlay for the domain's disk when --base-image/--pool are given; "" otherwise.
std::string makeOverlay(Session& s, const std::string& name) {
    if (!s.hasOverlays()) return {};
    const std::string volume = name + ".qcow2";
    char path[4096] = {};
    ErrorRecord err;
    if (s.vt.volume_path != nullptr) {
        const pdk_status st =
            s.vt.volume_path(s.conn, s.options.pool.c_str(), volume.c_str(), 0, path, sizeof path, err.reset());
        expectStatus(s.report, "lifecycle/volume_path", st, err, {PDK_OK, PDK_ERR_UNSUPPORTED});
    }
    pdk_volume_spec spec{};
    spec.struct_size = sizeof spec;
    spec.pool = s.options.pool.c_str();
    spec.name = volume.c_str();
    spec.backing_path = s.options.baseImage.c_str();
    spec.backing_format = "qcow2";
    const pdk_status st = s.vt.create_overlay(s.conn, &spec, 0, path, sizeof path, err.reset());
    if (!expectStatus(s.report, "lifecycle/create_overlay", st, err, {PDK_OK})) return {};
    s.janitor.trackVolume(path);
    return path;
}

bool defineAndList(Session& s, const std::string& name, const std::string& disk) {
    std::vector<pdk_kv> pairs;
    for (const auto& [k, v] : kMetadata) pairs.push_back({k.c_str(), v.c_str()});
    pdk_domain_spec spec = minimalSpec(name.c_str());
    spec.disk_path = disk.empty() ? nullptr : disk.c_str();
    spec.disk_format = disk.empty() ? nullptr : "qcow2";
    spec.metadata = pairs.data();
    spec.metadata_count = pairs.size();
    ErrorRecord err;
    if (!expectStatus(s.report, "lifecycle/define", defineTracked(s, spec, err), err, {PDK_OK})) return false;
    const auto seen = lookUp(s, name);
    s.report.expect(seen && isOff(seen->state), "lifecycle/get-defined", "after define: " + stateText(seen));
    if (seen) {
        s.report.expect(seen->metadata == kMetadata, "lifecycle/get-metadata-at-define",
                        "get_domain does not return the metadata given to define_domain");
    }
    if (s.vt.list_domains != nullptr) {
        const auto all = listAll(s);
        bool listed = false;
        for (const auto& d : all.value_or(std::vector<SeenDomain>{})) listed = listed || d.name == name;
        s.report.expect(listed, "lifecycle/list-defined", "list_domains does not show the new domain");
    }
    return seen.has_value();
}

void checkMetadataRoundTrip(Session& s, const std::string& name) {
    if (s.vt.set_metadata == nullptr || s.vt.get_metadata == nullptr) {
        s.report.skip("lifecycle/metadata", "set_metadata or get_metadata is NULL");
        return;
    }
    const Metadata wanted = {{"pdk-conformance", "round-trip"}, {"ssh_port", "2222"}, {"text", "a <b> & 'c' \"d\""}};
    std::vector<pdk_kv> pairs;
    for (const auto& [k, v] : wanted) pairs.push_back({k.c_str(), v.c_str()});
    ErrorRecord err;
    const pdk_status st = s.vt.set_metadata(s.conn, name.c_str(), pairs.data(), pairs.size(), 0, err.reset());
    if (!expectStatus(s.report, "lifecycle/set_metadata", st, err, {PDK_OK})) return;
    auto& probe = s.probes.make<KvProbe>();
    const pdk_status got = inWindow(
        probe, [&] { return s.vt.get_metadata(s.conn, name.c_str(), 0, &KvProbe::sink, &probe, err.reset()); });
    if (!expectStatus(s.report, "lifecycle/get_metadata", got, err, {PDK_OK})) return;
    s.report.expect(probe.pairs == wanted, "lifecycle/metadata-round-trip",
                    "get_metadata returned " + std::to_string(probe.pairs.size()) + " pairs, not the " +
                        std::to_string(wanted.size()) + " set_metadata stored");
}

void checkSnapshots(Session& s, const std::string& name, bool hasDisk) {
    const auto& vt = s.vt;
    if (vt.snapshot_create == nullptr) {
        s.report.skip("lifecycle/snapshots", "snapshot_create is NULL");
        return;
    }
    const std::string snap = "pdk-conformance-ready";
    ErrorRecord err;
    pdk_status st = vt.snapshot_create(s.conn, name.c_str(), snap.c_str(), 0, err.reset());
    if (st != PDK_OK && !hasDisk) {
        s.report.skip("lifecycle/snapshots", "no snapshot of a diskless domain (" + err.describe(st) +
                                                 "); give --base-image and --pool for one with a disk");
        return;
    }
    if (!expectStatus(s.report, "lifecycle/snapshot_create", st, err, {PDK_OK})) return;
    st = vt.snapshot_create(s.conn, name.c_str(), snap.c_str(), 0, err.reset());
    expectStatus(s.report, "lifecycle/snapshot_create.duplicate", st, err, {PDK_ERR_ALREADY_EXISTS});
    if (vt.snapshot_list != nullptr) {
        auto& probe = s.probes.make<NameProbe>();
        st = inWindow(probe,
                      [&] { return vt.snapshot_list(s.conn, name.c_str(), 0, &NameProbe::sink, &probe, err.reset()); });
        const bool listed = st == PDK_OK && probe.names.size() == 1 && probe.names.front() == snap;
        s.report.expect(listed, "lifecycle/snapshot_list", "expected exactly [" + snap + "], " + err.describe(st));
    }
    if (vt.snapshot_revert != nullptr) {
        st = vt.snapshot_revert(s.conn, name.c_str(), snap.c_str(), PDK_REVERT_START | PDK_REVERT_STOPPED, err.reset());
        expectStatus(s.report, "lifecycle/snapshot_revert.start-and-stopped", st, err, {PDK_ERR_INVALID_ARGUMENT});
        st = vt.snapshot_revert(s.conn, name.c_str(), snap.c_str(), 0, err.reset());
        expectStatus(s.report, "lifecycle/snapshot_revert", st, err, {PDK_OK});
        st = vt.snapshot_revert(s.conn, name.c_str(), "pdk-conformance-no-snapshot", 0, err.reset());
        expectStatus(s.report, "lifecycle/snapshot_revert.missing", st, err, {PDK_ERR_NOT_FOUND});
    }
    if (vt.snapshot_delete != nullptr) {
        st = vt.snapshot_delete(s.conn, name.c_str(), snap.c_str(), 0, err.reset());
        expectStatus(s.report, "lifecycle/snapshot_delete", st, err, {PDK_OK});
        st = vt.snapshot_delete(s.conn, name.c_str(), snap.c_str(), 0, err.reset());
        expectStatus(s.report, "lifecycle/snapshot_delete.missing", st, err, {PDK_ERR_NOT_FOUND});
    }
}

void checkRunStop(Session& s, const std::string& name) {
    const auto& vt = s.vt;
    ErrorRecord err;
    if (vt.start_domain == nullptr) {
        s.report.skip("lifecycle/start", "start_domain is NULL");
        return;
    }
    if (!expectStatus(s.report, "lifecycle/start", vt.start_domain(s.conn, name.c_str(), 0, err.reset()), err,
                      {PDK_OK}))
        return;
    auto seen = pollState(s, name, &isRunning, 3000ms);
    s.report.expect(seen && isRunning(seen->state), "lifecycle/get-running", "after start: " + stateText(seen));
    if (vt.list_domains != nullptr) {
        bool running = false;
        for (const auto& d : listAll(s).value_or(std::vector<SeenDomain>{}))
            running = running || (d.name == name && isRunning(d.state));
        s.report.expect(running, "lifecycle/list-running", "list_domains does not show the domain running");
    }
    // ABI 1.8: paused (twice: a paused domain stays so), then resumed by start_domain.
    if (vt.suspend_domain != nullptr && seen && isRunning(seen->state)) {
        expectStatus(s.report, "lifecycle/suspend", vt.suspend_domain(s.conn, name.c_str(), 0, err.reset()), err,
                     {PDK_OK});
        seen = pollState(s, name, &isPaused, 3000ms);
        s.report.expect(seen && isPaused(seen->state), "lifecycle/get-paused", "after suspend: " + stateText(seen));
        expectStatus(s.report, "lifecycle/suspend.again", vt.suspend_domain(s.conn, name.c_str(), 0, err.reset()),
                     err, {PDK_OK});
        expectStatus(s.report, "lifecycle/resume", vt.start_domain(s.conn, name.c_str(), 0, err.reset()), err,
                     {PDK_OK});
        seen = pollState(s, name, &isRunning, 3000ms);
        s.report.expect(seen && isRunning(seen->state), "lifecycle/get-resumed", "after resume: " + stateText(seen));
    }
    if (vt.shutdown_domain != nullptr) {
        const pdk_status st = vt.shutdown_domain(s.conn, name.c_str(), 0, err.reset());
        expectStatus(s.report, "lifecycle/shutdown", st, err, {PDK_OK});
        seen = pollState(s, name, &isOff, 1500ms);  // a guest without an OS ignores ACPI
    }
    if (seen && isActive(seen->state) && vt.destroy_domain != nullptr) {
        expectStatus(s.report, "lifecycle/destroy", vt.destroy_domain(s.conn, name.c_str(), 0, err.reset()), err,
                     {PDK_OK});
        seen = pollState(s, name, &isOff, 3000ms);
    }
    s.report.expect(seen && isOff(seen->state), "lifecycle/get-stopped", "after shutdown/destroy: " + stateText(seen));
    if (vt.suspend_domain != nullptr && seen && isOff(seen->state))
        expectStatus(s.report, "lifecycle/suspend.stopped", vt.suspend_domain(s.conn, name.c_str(), 0, err.reset()),
                     err, {PDK_ERR_CONFLICT});
}

void checkUndefine(Session& s, const std::string& name) {
    if (s.vt.undefine_domain == nullptr) {
        s.report.skip("lifecycle/undefine", "undefine_domain is NULL");
        return;
    }
    ErrorRecord err;
    const pdk_status st = s.vt.undefine_domain(s.conn, name.c_str(), 0, err.reset());
    if (!expectStatus(s.report, "lifecycle/undefine", st, err, {PDK_OK})) return;
    s.janitor.forgetDomain(name);
    pdk_status after = PDK_OK;
    const auto seen = lookUp(s, name, &after);
    s.report.expect(!seen && after == PDK_ERR_NOT_FOUND, "lifecycle/get-undefined",
                    "get_domain after undefine returned " + statusName(after));
    if (s.vt.list_domains != nullptr) {
        bool listed = false;
        for (const auto& d : listAll(s).value_or(std::vector<SeenDomain>{})) listed = listed || d.name == name;
        s.report.expect(!listed, "lifecycle/list-undefined", "list_domains still shows the domain");
    }
}

}  // namespace

void runLifecycleGroup(Session& s) {
    if (s.vt.define_domain == nullptr || s.vt.get_domain == nullptr) {
        s.report.skip("lifecycle", "define_domain or get_domain is NULL");
        return;
    }
    if (s.vt.is_alive != nullptr)
        s.report.expect(s.vt.is_alive(s.conn) == 1, "lifecycle/is_alive", "is_alive returned 0 on a new connection");
    const std::string name = s.domainName("lifecycle");
    const std::string disk = makeOverlay(s, name);
    if (!defineAndList(s, name, disk)) return;
    checkMetadataRoundTrip(s, name);
    checkRunStop(s, name);
    checkSnapshots(s, name, !disk.empty());
    checkUndefine(s, name);
}

}  // namespace paddock::conformance
