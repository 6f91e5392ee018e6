#include "domain_record.hpp"

namespace paddock::lvq {

void emitDomain(const DomainRecord& r, pdk_domain_sink sink, void* user) {
    std::vector<pdk_kv> kvs;
    kvs.reserve(r.metadata.size());
    for (const auto& [k, v] : r.metadata) kvs.push_back(pdk_kv{k.c_str(), v.c_str()});
    pdk_domain_info info{};
    info.struct_size = sizeof info;
    info.name = r.name.c_str();
    info.uuid = r.uuid.c_str();
    info.id = r.id;
    info.state = r.state;
    info.max_memory_kib = r.maxMemoryKib;
    info.memory_kib = r.memoryKib;
    info.vcpus = r.vcpus;
    // A shut-off domain has used no CPU since it went off; libvirt's test driver reports the
    // wall clock for it, which would make every listing of stopped VMs look changed.
    info.cpu_time_ns = r.state == PDK_DOMAIN_SHUTOFF ? 0 : r.cpuTimeNs;
    info.has_managed_save = r.managedSave ? 1 : 0;
    info.metadata = kvs.empty() ? nullptr : kvs.data();
    info.metadata_count = kvs.size();
    sink(user, &info);
}

void emitSnapshot(const SnapshotFacts& f, bool current, pdk_snapshot_sink sink, void* user) {
    pdk_snapshot_info info{};
    info.struct_size = sizeof info;
    info.name = f.name.c_str();
    info.description = f.description.c_str();
    info.parent = f.parent.empty() ? nullptr : f.parent.c_str();
    info.created_at = f.createdAt;
    info.state = f.state;
    info.has_memory = f.hasMemory ? 1 : 0;
    info.is_current = current ? 1 : 0;
    info.size_bytes = -1;  // unknown
    sink(user, &info);
}

}  // namespace paddock::lvq
