#include "name_ops.hpp"

namespace paddock::conformance {

namespace {

constexpr const char* kSnapshot = "pdk-conformance-snapshot";
constexpr const char* kCheckpoint = "pdk-conformance-checkpoint";

template <class Probe, class F>
pdk_status withProbe(Session& s, F&& call) {
    auto& probe = s.probes.make<Probe>();
    return inWindow(probe, [&] { return call(&Probe::sink, static_cast<void*>(&probe)); });
}

void addSimple(std::vector<NameOp>& ops, const char* entry,
               pdk_status (*fn)(pdk_backend_connection*, const char*, uint32_t, pdk_error*)) {
    if (fn == nullptr) return;
    ops.push_back({entry, false, [fn](Session& s, const char* name, uint32_t flags, ErrorRecord& err) {
                       return fn(s.conn, name, flags, err.reset());
                   }});
}

void addSnapshotOp(std::vector<NameOp>& ops, const char* entry,
                   pdk_status (*fn)(pdk_backend_connection*, const char*, const char*, uint32_t, pdk_error*)) {
    if (fn == nullptr) return;
    ops.push_back({entry, false, [fn](Session& s, const char* name, uint32_t flags, ErrorRecord& err) {
                       return fn(s.conn, name, kSnapshot, flags, err.reset());
                   }});
}

void addSinkOps(std::vector<NameOp>& ops, const pdk_backend_vtable& vt) {
    if (auto fn = vt.get_domain) {
        ops.push_back({"get_domain", true, [fn](Session& s, const char* name, uint32_t flags, ErrorRecord& err) {
                           return withProbe<DomainProbe>(s, [&](pdk_domain_sink sink, void* user) {
                               return fn(s.conn, name, flags, sink, user, err.reset());
                           });
                       }});
    }
    if (auto fn = vt.get_metadata) {
        ops.push_back({"get_metadata", true, [fn](Session& s, const char* name, uint32_t flags, ErrorRecord& err) {
                           return withProbe<KvProbe>(s, [&](pdk_kv_sink sink, void* user) {
                               return fn(s.conn, name, flags, sink, user, err.reset());
                           });
                       }});
    }
    if (auto fn = vt.snapshot_list) {
        ops.push_back({"snapshot_list", true, [fn](Session& s, const char* name, uint32_t flags, ErrorRecord& err) {
                           return withProbe<NameProbe>(s, [&](pdk_name_sink sink, void* user) {
                               return fn(s.conn, name, flags, sink, user, err.reset());
                           });
                       }});
    }
    if (auto fn = vt.snapshot_list_info) {
        ops.push_back(
            {"snapshot_list_info", true, [fn](Session& s, const char* name, uint32_t flags, ErrorRecord& err) {
                 return withProbe<SnapshotProbe>(s, [&](pdk_snapshot_sink sink, void* user) {
                     return fn(s.conn, name, flags, sink, user, err.reset());
                 });
             }});
    }
}

void addStructOps(std::vector<NameOp>& ops, const pdk_backend_vtable& vt) {
    if (auto fn = vt.set_metadata) {
        ops.push_back({"set_metadata", false, [fn](Session& s, const char* name, uint32_t flags, ErrorRecord& err) {
                           const pdk_kv pair{"pdk-conformance", "1"};
                           return fn(s.conn, name, &pair, 1, flags, err.reset());
                       }});
    }
    if (auto fn = vt.ssh_target) {
        ops.push_back({"ssh_target", false, [fn](Session& s, const char* name, uint32_t flags, ErrorRecord& err) {
                           pdk_ssh_target out{};
                           out.struct_size = sizeof out;
                           return fn(s.conn, name, flags, &out, err.reset());
                       }});
    }
    if (auto fn = vt.snapshot_create_spec) {
        ops.push_back(
            {"snapshot_create_spec", false, [fn](Session& s, const char* name, uint32_t flags, ErrorRecord& err) {
                 pdk_snapshot_spec spec{};
                 spec.struct_size = sizeof spec;
                 spec.name = kSnapshot;
                 spec.description = "made by paddock-conformance";
                 return fn(s.conn, name, &spec, flags, err.reset());
             }});
    }
    if (auto fn = vt.backup_create) {
        ops.push_back({"backup_create", false, [fn](Session& s, const char* name, uint32_t flags, ErrorRecord& err) {
                           pdk_backup_spec spec{};
                           spec.struct_size = sizeof spec;
                           spec.target_path = "/nonexistent-pdk-conformance/backup.qcow2";
                           spec.checkpoint = kCheckpoint;
                           pdk_backup_result out{};
                           out.struct_size = sizeof out;
                           return fn(s.conn, name, &spec, flags, &out, err.reset());
                       }});
    }
    if (auto fn = vt.checkpoint_delete) {
        ops.push_back(
            {"checkpoint_delete", false, [fn](Session& s, const char* name, uint32_t flags, ErrorRecord& err) {
                 return fn(s.conn, name, kCheckpoint, flags, err.reset());
             }});
    }
    if (auto fn = vt.guest_ping) {
        ops.push_back({"guest_ping", false, [fn](Session& s, const char* name, uint32_t flags, ErrorRecord& err) {
                           return fn(s.conn, name, 100, flags, err.reset());
                       }});
    }
}

}  // namespace

std::vector<NameOp> nameOps(const pdk_backend_vtable& vt) {
    std::vector<NameOp> ops;
    addSinkOps(ops, vt);
    addSimple(ops, "start_domain", vt.start_domain);
    addSimple(ops, "shutdown_domain", vt.shutdown_domain);
    addSimple(ops, "destroy_domain", vt.destroy_domain);
    addSimple(ops, "save_domain", vt.save_domain);
    addSimple(ops, "suspend_domain", vt.suspend_domain);
    addSnapshotOp(ops, "snapshot_create", vt.snapshot_create);
    addSnapshotOp(ops, "snapshot_revert", vt.snapshot_revert);
    addSnapshotOp(ops, "snapshot_delete", vt.snapshot_delete);
    addStructOps(ops, vt);
    addSimple(ops, "undefine_domain", vt.undefine_domain);  // last: a wrong OK removes the fixture
    return ops;
}

}  // namespace paddock::conformance
