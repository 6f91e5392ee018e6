// libvirt plumbing shared by the backend: RAII handles, and the one mapping from libvirt
// errors to pdk_status.
//
// Ownership: each handle owns one libvirt reference and frees it on destruction.
// Threading: libvirt's last error is thread-local, so throwLastError() must run on the thread
// whose libvirt call failed, before any other libvirt call.
#pragma once

#include <paddock/pdk_plugin.h>
#include <paddock/cpp/error.hpp>

#include <libvirt/libvirt.h>

#include <cstdlib>
#include <memory>
#include <string>

namespace paddock::lvq {

struct DomainFree {
    void operator()(virDomainPtr p) const noexcept { virDomainFree(p); }
};
struct PoolFree {
    void operator()(virStoragePoolPtr p) const noexcept { virStoragePoolFree(p); }
};
struct VolFree {
    void operator()(virStorageVolPtr p) const noexcept { virStorageVolFree(p); }
};
struct SnapshotFree {
    void operator()(virDomainSnapshotPtr p) const noexcept { virDomainSnapshotFree(p); }
};
struct CheckpointFree {
    void operator()(virDomainCheckpointPtr p) const noexcept { virDomainCheckpointFree(p); }
};
struct CFree {
    void operator()(void* p) const noexcept { std::free(p); }
};

using DomainHandle = std::unique_ptr<virDomain, DomainFree>;
using PoolHandle = std::unique_ptr<virStoragePool, PoolFree>;
using VolHandle = std::unique_ptr<virStorageVol, VolFree>;
using SnapshotHandle = std::unique_ptr<virDomainSnapshot, SnapshotFree>;
using CheckpointHandle = std::unique_ptr<virDomainCheckpoint, CheckpointFree>;

// Takes ownership of a malloc'ed string from libvirt; NULL becomes "".
std::string takeString(char* s);

// The pdk_status for a libvirt error code (virErrorNumber).
pdk_status statusForLibvirtCode(int code);

// The code of this thread's last libvirt error, VIR_ERR_OK when there is none.
int lastErrorCode();

// The last error as pdk::Error with the mapped status and "<context>: <libvirt message>";
// resets it. For a caller that must make another libvirt call before it throws.
pdk::Error takeLastError(const std::string& context);

// Throws takeLastError(context).
[[noreturn]] void throwLastError(const std::string& context);

// virDomainIsActive; throws (with the domain's name) when libvirt cannot tell.
bool isActive(virDomainPtr dom);

// True when the last error says the driver does not take the flags or the call at all,
// i.e. the caller may retry in a simpler way.
bool lastErrorIsUnsupported();

}  // namespace paddock::lvq
