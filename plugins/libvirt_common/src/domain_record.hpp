// One domain or snapshot as a backend found it (through libvirt or virsh), and the one way each
// is handed to the host: a pdk_domain_info / pdk_snapshot_info whose pointers are valid for the
// sink call only.
#pragma once

#include "domain_xml.hpp"

#include <paddock/pdk_backend.h>

#include <cstdint>
#include <string>

namespace paddock::lvq {

struct DomainRecord {
    std::string name;
    std::string uuid;
    int32_t id = -1;  // -1: not running
    pdk_domain_state state = PDK_DOMAIN_NOSTATE;
    uint64_t maxMemoryKib = 0;
    uint64_t memoryKib = 0;
    uint32_t vcpus = 0;
    uint64_t cpuTimeNs = 0;
    bool managedSave = false;
    KeyValues metadata;
};

// libvirt's virDomainState, whose values pdk_domain_state shares; out of range: NOSTATE.
inline pdk_domain_state pdkState(int libvirtState) {
    return libvirtState >= PDK_DOMAIN_NOSTATE && libvirtState <= PDK_DOMAIN_PMSUSPENDED
               ? static_cast<pdk_domain_state>(libvirtState)
               : PDK_DOMAIN_NOSTATE;
}

// Calls `sink(user, info)` once with `r`.
void emitDomain(const DomainRecord& r, pdk_domain_sink sink, void* user);

// Calls `sink(user, info)` once with the snapshot `f` (`current`: it is the domain's current
// snapshot; its size is unknown).
void emitSnapshot(const SnapshotFacts& f, bool current, pdk_snapshot_sink sink, void* user);

}  // namespace paddock::lvq
