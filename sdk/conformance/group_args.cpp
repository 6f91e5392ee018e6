// args: every non-NULL entry called with valid and invalid arguments.
#include "groups.hpp"
#include "name_ops.hpp"

#include <string>
#include <utility>

namespace paddock::conformance {

namespace {

struct BadName {
    const char* tag;
    std::string value;
};

std::vector<BadName> badNames(const Session& s) {
    return {{"name-empty", ""},
            {"name-slash", s.domainName("a/b")},
            {"name-control", s.domainName("ctl\x01\x1b")},
            {"name-10k", std::string(10 * 1024, 'a')}};
}

// After a call that should have changed nothing: the fixture exists again and is shut off.
void restoreFixture(Session& s, const std::string& name) {
    ErrorRecord err;
    const auto seen = lookUp(s, name);
    if (!seen) {
        const pdk_domain_spec spec = minimalSpec(name.c_str());
        (void)defineTracked(s, spec, err);
    } else if (isActive(seen->state) && s.vt.destroy_domain != nullptr) {
        s.vt.destroy_domain(s.conn, name.c_str(), 0, err.reset());
    }
}

void checkNameOps(Session& s, const std::string& fixture) {
    const std::string missing = s.domainName("missing");
    for (const NameOp& op : nameOps(s.vt)) {
        const std::string prefix = "args/" + op.entry + ".";
        ErrorRecord err;
        pdk_status st = op.call(s, fixture.c_str(), kUnknownFlag, err);
        expectStatus(s.report, prefix + "bad-flags", st, err, {PDK_ERR_BAD_FLAGS});
        restoreFixture(s, fixture);
        st = op.call(s, missing.c_str(), 0, err);
        expectStatus(s.report, prefix + "missing-domain", st, err, {PDK_ERR_NOT_FOUND});
        st = op.call(s, nullptr, 0, err);
        expectStatus(s.report, prefix + "name-null", st, err, {PDK_ERR_INVALID_ARGUMENT});
        // No domain can have these names (define_domain refuses them): either answer is right.
        for (const BadName& bad : badNames(s)) {
            st = op.call(s, bad.value.c_str(), 0, err);
            expectStatus(s.report, prefix + bad.tag, st, err, {PDK_ERR_INVALID_ARGUMENT, PDK_ERR_NOT_FOUND});
        }
        restoreFixture(s, fixture);
    }
}

void checkDefine(Session& s, const std::string& fixture) {
    if (s.vt.define_domain == nullptr) return;
    ErrorRecord err;
    const std::string flagged = s.domainName("flags");
    pdk_domain_spec spec = minimalSpec(flagged.c_str());
    s.janitor.trackDomain(flagged);
    pdk_status st = s.vt.define_domain(s.conn, &spec, kUnknownFlag, err.reset());
    expectStatus(s.report, "args/define_domain.bad-flags", st, err, {PDK_ERR_BAD_FLAGS});
    st = s.vt.define_domain(s.conn, nullptr, 0, err.reset());
    expectStatus(s.report, "args/define_domain.spec-null", st, err, {PDK_ERR_INVALID_ARGUMENT});
    spec = minimalSpec(nullptr);
    st = s.vt.define_domain(s.conn, &spec, 0, err.reset());
    expectStatus(s.report, "args/define_domain.name-null", st, err, {PDK_ERR_INVALID_ARGUMENT});
    for (const BadName& bad : badNames(s)) {
        spec = minimalSpec(bad.value.c_str());
        st = defineTracked(s, spec, err);
        expectStatus(s.report, std::string("args/define_domain.") + bad.tag, st, err, {PDK_ERR_INVALID_ARGUMENT});
        // Accepted by mistake: removed at once, so that the lookups below still meet no such domain.
        if (st == PDK_OK && s.vt.undefine_domain != nullptr) s.vt.undefine_domain(s.conn, spec.name, 0, err.reset());
    }
    spec = minimalSpec(fixture.c_str());
    st = s.vt.define_domain(s.conn, &spec, 0, err.reset());
    expectStatus(s.report, "args/define_domain.duplicate", st, err, {PDK_ERR_ALREADY_EXISTS});
}

// Double start, undefine of a running domain, destroy of a stopped one.
void checkStates(Session& s, const std::string& fixture) {
    const auto& vt = s.vt;
    if (vt.start_domain == nullptr || vt.destroy_domain == nullptr) return;
    ErrorRecord err;
    pdk_status st = vt.start_domain(s.conn, fixture.c_str(), 0, err.reset());
    if (st != PDK_OK) {
        s.report.fail("args/start_domain.running", "cannot start the fixture: " + err.describe(st));
        return;
    }
    st = vt.start_domain(s.conn, fixture.c_str(), 0, err.reset());
    expectStatus(s.report, "args/start_domain.running", st, err, {PDK_ERR_CONFLICT});
    if (vt.undefine_domain != nullptr) {
        st = vt.undefine_domain(s.conn, fixture.c_str(), 0, err.reset());
        expectStatus(s.report, "args/undefine_domain.running", st, err, {PDK_ERR_CONFLICT});
        restoreFixture(s, fixture);
    }
    vt.destroy_domain(s.conn, fixture.c_str(), 0, err.reset());
    st = vt.destroy_domain(s.conn, fixture.c_str(), 0, err.reset());
    expectStatus(s.report, "args/destroy_domain.not-running", st, err, {PDK_ERR_CONFLICT});
}

void checkOpen(Session& s) {
    ErrorRecord err;
    pdk_backend_connection* conn = nullptr;
    pdk_status st = s.vt.open(s.options.uri.c_str(), kUnknownFlag, &conn, err.reset());
    if (st == PDK_OK && conn != nullptr) s.vt.close(conn);
    expectStatus(s.report, "args/open.bad-flags", st, err, {PDK_ERR_BAD_FLAGS});
    st = s.vt.open(s.options.uri.c_str(), 0, nullptr, err.reset());
    expectStatus(s.report, "args/open.out-null", st, err, {PDK_ERR_INVALID_ARGUMENT});
}

void checkConnectionWide(Session& s) {
    const auto& vt = s.vt;
    ErrorRecord err;
    if (vt.host_info != nullptr) {
        pdk_host_info out{};
        out.struct_size = sizeof out;
        expectStatus(s.report, "args/host_info.bad-flags", vt.host_info(s.conn, kUnknownFlag, &out, err.reset()), err,
                     {PDK_ERR_BAD_FLAGS});
        expectStatus(s.report, "args/host_info.out-null", vt.host_info(s.conn, 0, nullptr, err.reset()), err,
                     {PDK_ERR_INVALID_ARGUMENT});
    }
    if (vt.host_resources != nullptr) {
        pdk_host_resources out{};
        out.struct_size = sizeof out;
        expectStatus(s.report, "args/host_resources.bad-flags",
                     vt.host_resources(s.conn, kUnknownFlag, &out, err.reset()), err, {PDK_ERR_BAD_FLAGS});
        expectStatus(s.report, "args/host_resources.out-null", vt.host_resources(s.conn, 0, nullptr, err.reset()),
                     err, {PDK_ERR_INVALID_ARGUMENT});
        const pdk_status st = vt.host_resources(s.conn, 0, &out, err.reset());
        expectStatus(s.report, "args/host_resources.ok", st, err, {PDK_OK});
        if (st == PDK_OK)
            s.report.expect(out.cpus > 0 && out.memory_total_bytes > 0 &&
                                out.memory_free_bytes <= out.memory_total_bytes,
                            "args/host_resources.plausible",
                            "cpus " + std::to_string(out.cpus) + ", total " + std::to_string(out.memory_total_bytes) +
                                ", free " + std::to_string(out.memory_free_bytes));
    }
    if (vt.volume_info != nullptr) {
        pdk_volume_info out{};
        out.struct_size = sizeof out;
        const char* gone = "/nonexistent-pdk-conformance/base.qcow2";
        expectStatus(s.report, "args/volume_info.bad-flags", vt.volume_info(s.conn, gone, kUnknownFlag, &out, err.reset()),
                     err, {PDK_ERR_BAD_FLAGS});
        expectStatus(s.report, "args/volume_info.missing", vt.volume_info(s.conn, gone, 0, &out, err.reset()), err,
                     {PDK_ERR_NOT_FOUND});
        s.report.expect(!err.message().empty(), "args/volume_info.missing-says-why", "NOT_FOUND without a message");
        expectStatus(s.report, "args/volume_info.relative", vt.volume_info(s.conn, "base.qcow2", 0, &out, err.reset()),
                     err, {PDK_ERR_INVALID_ARGUMENT});
        expectStatus(s.report, "args/volume_info.path-null", vt.volume_info(s.conn, nullptr, 0, &out, err.reset()),
                     err, {PDK_ERR_INVALID_ARGUMENT});
        expectStatus(s.report, "args/volume_info.out-null", vt.volume_info(s.conn, gone, 0, nullptr, err.reset()), err,
                     {PDK_ERR_INVALID_ARGUMENT});
    }
    if (vt.list_domains != nullptr) {
        auto& probe = s.probes.make<DomainProbe>();
        const pdk_status st = inWindow(
            probe, [&] { return vt.list_domains(s.conn, kUnknownFlag, &DomainProbe::sink, &probe, err.reset()); });
        expectStatus(s.report, "args/list_domains.bad-flags", st, err, {PDK_ERR_BAD_FLAGS});
        expectStatus(s.report, "args/list_domains.sink-null", vt.list_domains(s.conn, 0, nullptr, nullptr, err.reset()),
                     err, {PDK_ERR_INVALID_ARGUMENT});
    }
    if (vt.subscribe_events != nullptr) {
        expectStatus(s.report, "args/subscribe_events.bad-flags",
                     vt.subscribe_events(s.conn, nullptr, nullptr, kUnknownFlag, err.reset()), err,
                     {PDK_ERR_BAD_FLAGS});
    }
}

// The NULL-output cases of the entries that take a domain name.
void checkNullOutputs(Session& s, const std::string& fixture) {
    const auto& vt = s.vt;
    const char* name = fixture.c_str();
    ErrorRecord err;
    const auto expectInvalid = [&](const char* check, pdk_status st) {
        expectStatus(s.report, check, st, err, {PDK_ERR_INVALID_ARGUMENT});
    };
    if (vt.get_domain)
        expectInvalid("args/get_domain.sink-null", vt.get_domain(s.conn, name, 0, nullptr, nullptr, err.reset()));
    if (vt.get_metadata)
        expectInvalid("args/get_metadata.sink-null", vt.get_metadata(s.conn, name, 0, nullptr, nullptr, err.reset()));
    if (vt.set_metadata)
        expectInvalid("args/set_metadata.pairs-null", vt.set_metadata(s.conn, name, nullptr, 1, 0, err.reset()));
    if (vt.snapshot_list)
        expectInvalid("args/snapshot_list.sink-null", vt.snapshot_list(s.conn, name, 0, nullptr, nullptr, err.reset()));
    if (vt.snapshot_list_info)
        expectInvalid("args/snapshot_list_info.sink-null",
                      vt.snapshot_list_info(s.conn, name, 0, nullptr, nullptr, err.reset()));
    if (vt.ssh_target) expectInvalid("args/ssh_target.out-null", vt.ssh_target(s.conn, name, 0, nullptr, err.reset()));
    if (vt.snapshot_create_spec)
        expectInvalid("args/snapshot_create_spec.spec-null",
                      vt.snapshot_create_spec(s.conn, name, nullptr, 0, err.reset()));
    if (vt.backup_create) {
        pdk_backup_result out{};
        out.struct_size = sizeof out;
        expectInvalid("args/backup_create.spec-null", vt.backup_create(s.conn, name, nullptr, 0, &out, err.reset()));
    }
}

void checkStorage(Session& s) {
    const auto& vt = s.vt;
    ErrorRecord err;
    const std::string pool = s.options.pool.empty() ? "pdk-conformance-no-pool" : s.options.pool;
    const std::string volume = s.domainName("volume") + ".qcow2";
    char path[4096];
    if (vt.create_overlay != nullptr) {
        pdk_volume_spec spec{};
        spec.struct_size = sizeof spec;
        spec.pool = "pdk-conformance-no-pool";
        spec.name = volume.c_str();
        spec.backing_path = "/nonexistent-pdk-conformance/base.qcow2";
        spec.backing_format = "qcow2";
        expectStatus(s.report, "args/create_overlay.bad-flags",
                     vt.create_overlay(s.conn, &spec, kUnknownFlag, path, sizeof path, err.reset()), err,
                     {PDK_ERR_BAD_FLAGS});
        expectStatus(s.report, "args/create_overlay.missing-pool",
                     vt.create_overlay(s.conn, &spec, 0, path, sizeof path, err.reset()), err, {PDK_ERR_NOT_FOUND});
        expectStatus(s.report, "args/create_overlay.spec-null",
                     vt.create_overlay(s.conn, nullptr, 0, path, sizeof path, err.reset()), err,
                     {PDK_ERR_INVALID_ARGUMENT});
        expectStatus(s.report, "args/create_overlay.path-null",
                     vt.create_overlay(s.conn, &spec, 0, nullptr, 0, err.reset()), err, {PDK_ERR_INVALID_ARGUMENT});
    }
    if (vt.volume_path != nullptr) {
        expectStatus(s.report, "args/volume_path.bad-flags",
                     vt.volume_path(s.conn, pool.c_str(), volume.c_str(), kUnknownFlag, path, sizeof path, err.reset()),
                     err, {PDK_ERR_BAD_FLAGS});
        expectStatus(
            s.report, "args/volume_path.missing-pool",
            vt.volume_path(s.conn, "pdk-conformance-no-pool", volume.c_str(), 0, path, sizeof path, err.reset()), err,
            {PDK_ERR_NOT_FOUND});
        expectStatus(s.report, "args/volume_path.path-null",
                     vt.volume_path(s.conn, pool.c_str(), volume.c_str(), 0, nullptr, 0, err.reset()), err,
                     {PDK_ERR_INVALID_ARGUMENT});
    }
    if (vt.delete_volume != nullptr) {
        const char* gone = "/nonexistent-pdk-conformance/volume.qcow2";
        expectStatus(s.report, "args/delete_volume.bad-flags",
                     vt.delete_volume(s.conn, gone, kUnknownFlag, err.reset()), err, {PDK_ERR_BAD_FLAGS});
        expectStatus(s.report, "args/delete_volume.missing", vt.delete_volume(s.conn, gone, 0, err.reset()), err,
                     {PDK_ERR_NOT_FOUND});
        expectStatus(s.report, "args/delete_volume.path-null", vt.delete_volume(s.conn, nullptr, 0, err.reset()), err,
                     {PDK_ERR_INVALID_ARGUMENT});
    }
    if (vt.restore_volume != nullptr) {
        pdk_restore_spec spec{};
        spec.struct_size = sizeof spec;
        spec.pool = "pdk-conformance-no-pool";
        spec.name = volume.c_str();
        spec.source_path = "/nonexistent-pdk-conformance/backup.qcow2";
        expectStatus(s.report, "args/restore_volume.bad-flags",
                     vt.restore_volume(s.conn, &spec, kUnknownFlag, path, sizeof path, err.reset()), err,
                     {PDK_ERR_BAD_FLAGS});
        expectStatus(s.report, "args/restore_volume.spec-null",
                     vt.restore_volume(s.conn, nullptr, 0, path, sizeof path, err.reset()), err,
                     {PDK_ERR_INVALID_ARGUMENT});
    }
}

}  // namespace

void runArgsGroup(Session& s) {
    checkOpen(s);
    checkConnectionWide(s);
    checkStorage(s);
    if (s.vt.define_domain == nullptr) {
        s.report.skip("args/domains", "define_domain is NULL: no fixture domain for the per-domain checks");
        return;
    }
    const auto fixture = defineFixture(s, "args", "args/fixture");
    if (!fixture) return;
    checkDefine(s, *fixture);
    checkNullOutputs(s, *fixture);
    checkNameOps(s, *fixture);
    checkStates(s, *fixture);
}

}  // namespace paddock::conformance
