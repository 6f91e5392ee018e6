// What every libvirt backend's connection shares: one virConnectPtr opened through libvirt's
// event loop (keepalive, close callback), lifecycle events, domain listing and lifecycle,
// Paddock's metadata namespace, and overlay volumes through the storage API. Each backend
// (libvirt-qemu, -xen, -hyperv) derives its own connection class and adds what differs: its
// URI check, its domain XML, and the members only its driver has.
//
// A backend exposes a member of this class to pdk::makeBackendVtable<Conn>() only by making it
// public in its own class: libvirt-qemu derives publicly (it supports everything here), the
// others derive protected and list what their driver supports with using-declarations, so an
// operation their driver lacks stays a NULL vtable entry.
//
// Threading: every member may be called from several threads at once (libvirt connections are
// thread-safe); the event subscription is guarded by its own mutex. Event sinks run on the
// libvirt event-loop thread (see event_loop.hpp), never concurrently with themselves, and
// never after subscribeEvents(NULL) or the destructor has returned.
// Errors: members throw pdk::Error; unknown flag bits are rejected before anything else.
#pragma once

#include "domain_xml.hpp"
#include "host_facts.hpp"
#include "libvirt_util.hpp"

#include <paddock/pdk_backend.h>

#include <libvirt/libvirt.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

namespace paddock::lvq {

// Shared between a connection and libvirt's callback registrations (which free their copy
// through libvirt's free callback), so a late event never touches a destroyed connection.
struct EventRelay {
    std::mutex mutex;
    pdk_event_sink sink = nullptr;
    void* user = nullptr;
    std::atomic<bool> lost{false};
    void emit(const char* name, pdk_lifecycle_event event);
};

// `s` as a string; PDK_ERR_INVALID_ARGUMENT "<what> is required" when it is NULL or empty.
std::string requiredArg(const char* s, const char* what);

// Starts libvirt's event loop (ensureLibvirtRuntime) and opens `uri` (NULL or empty: libvirt's
// default). A refusal becomes PDK_ERR_UNAVAILABLE "cannot connect to '<uri>': <libvirt message>"
// unless `mapOpenError` (may be empty) throws something more precise first; it runs on the
// failing thread with libvirt's last error still set.
using OpenErrorMapper = void (*)(const std::string& uri, int code, const std::string& message);
virConnectPtr openLibvirt(const char* uri, OpenErrorMapper mapOpenError = nullptr);

class LibvirtConnection {
public:
    virtual ~LibvirtConnection();
    LibvirtConnection(const LibvirtConnection&) = delete;
    LibvirtConnection& operator=(const LibvirtConnection&) = delete;

    bool isAlive();
    void hostInfo(uint32_t flags, pdk_host_info& out);
    // virNodeGetInfo (CPUs, total memory) and virNodeGetMemoryStats (free + buffers + cached,
    // all cells), or virNodeGetFreeMemory where the driver has no stats (ABI 1.7).
    void hostResources(uint32_t flags, pdk_host_resources& out);
    void listDomains(uint32_t flags, pdk_domain_sink sink, void* user);
    void getDomain(const char* name, uint32_t flags, pdk_domain_sink sink, void* user);
    void startDomain(const char* name, uint32_t flags);
    void shutdownDomain(const char* name, uint32_t flags);
    void destroyDomain(const char* name, uint32_t flags);
    void undefineDomain(const char* name, uint32_t flags);
    // Managed save (virDomainManagedSave); the next start restores it.
    void saveDomain(const char* name, uint32_t flags);
    // Pause (virDomainSuspend): memory kept, vCPUs stopped; startDomain resumes it (ABI 1.8).
    void suspendDomain(const char* name, uint32_t flags);
    void getMetadata(const char* name, uint32_t flags, pdk_kv_sink sink, void* user);
    void setMetadata(const char* name, const pdk_kv* pairs, size_t count, uint32_t flags);
    // Capacity 0 takes the base's virtual size: from its storage volume, else (local URIs
    // only) from the file's qcow2 header or size; on libvirt's test driver, whose base images
    // are usually imaginary, a missing local file means 1 GiB.
    std::string createOverlay(const pdk_volume_spec& spec, uint32_t flags);
    void deleteVolume(const char* path, uint32_t flags);
    // Where createOverlay will put volume `name`: <target path>/<name> in the file-based pool
    // types (dir, fs, netfs), which is how libvirt names their volumes; others: unsupported.
    std::string volumePath(const char* pool, const char* name, uint32_t flags);
    // Whether `path` is on the host (ABI 1.7): a storage volume (virStorageVolLookupByPath:
    // capacity, format, pool), else, on a local URI only, the file itself (stat; qcow2 by its
    // header, else raw with the file's size). A remote URI cannot see files outside its pools:
    // PDK_ERR_NOT_FOUND saying no storage pool there holds the path.
    void volumeInfo(const char* path, uint32_t flags, pdk_volume_info& out);
    // User-mode networking: 127.0.0.1 and the "ssh_port" metadata entry; otherwise the first
    // IPv4 address of the libvirt network's DHCP lease for the domain's MAC, port 22. Never an
    // address the guest reports itself (guest agent).
    void sshTarget(const char* name, uint32_t flags, pdk_ssh_target& out);
    void subscribeEvents(pdk_event_sink sink, void* user, uint32_t flags);

protected:
    // Takes ownership of `conn` (closes it if this constructor throws): keepalive, the close
    // callback (connection lost -> PDK_EVENT_CONNECTION_LOST, isAlive false).
    explicit LibvirtConnection(virConnectPtr conn);

    DomainHandle lookupDomain(const char* name);
    // The metadata pairs of `dom`; none when the domain has no Paddock metadata or the backend
    // said its driver has no metadata (metadataSupported_ false).
    KeyValues readMetadata(virDomainPtr dom);
    // Defines `xml` as domain `name`: PDK_ERR_ALREADY_EXISTS for a taken name, validation by
    // libvirt where the driver offers it.
    void defineXml(const char* name, const std::string& xml);

    virConnectPtr conn_;
    std::string driverType_;      // virConnectGetType: "QEMU", "TEST", "xenlight", "Hyper-V", ...
    bool isTestDriver_ = false;
    bool isLocal_ = false;        // the URI names no remote host
    std::string autoDomainType_;  // what "auto" resolves to on this host (host_info); set by the backend
    bool metadataSupported_ = true;

private:
    uint64_t backingCapacity(const pdk_volume_spec& spec);
    bool listWithStats(uint32_t flags, pdk_domain_sink sink, void* user);
    void listWithInfo(uint32_t flags, pdk_domain_sink sink, void* user);

    std::atomic<bool> statsUnsupported_{false};
    std::shared_ptr<EventRelay> relay_;
    std::mutex eventMutex_;  // guards lifecycleCallbackId_
    int lifecycleCallbackId_ = -1;
    bool closeCallbackRegistered_ = false;
    std::unique_ptr<std::shared_ptr<EventRelay>> closeRef_;  // opaque of the close callback; freed after it is unregistered
};

}  // namespace paddock::lvq
