// The libvirt-qemu backend's connection: one virConnectPtr plus Paddock's conventions on top
// (domain XML, metadata namespace, overlays, events). Exposed to the host through
// pdk::makeBackendVtable<Connection>().
//
// Threading: every member may be called from several threads at once (libvirt connections are
// thread-safe); the event subscription is guarded by its own mutex. Event sinks run on the
// libvirt event-loop thread (see event_loop.hpp), never concurrently with themselves, and
// never after subscribeEvents(NULL) or the destructor has returned.
// Errors: members throw pdk::Error; unknown flag bits are rejected before anything else.
#pragma once

#include "domain_xml.hpp"
#include "libvirt_util.hpp"

#include <paddock/pdk_backend.h>

#include <libvirt/libvirt.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace paddock::lvq {

// Shared between a Connection and libvirt's callback registrations (which free their copy
// through libvirt's free callback), so a late event never touches a destroyed Connection.
struct EventRelay {
    std::mutex mutex;
    pdk_event_sink sink = nullptr;
    void* user = nullptr;
    std::atomic<bool> lost{false};
    void emit(const char* name, pdk_lifecycle_event event);
};

// `s` as a string; PDK_ERR_INVALID_ARGUMENT "<what> is required" when it is NULL or empty.
std::string requiredArg(const char* s, const char* what);

class Connection {
public:
    static std::unique_ptr<Connection> open(const char* uri, uint32_t flags);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    bool isAlive();
    void hostInfo(uint32_t flags, pdk_host_info& out);
    void listDomains(uint32_t flags, pdk_domain_sink sink, void* user);
    void getDomain(const char* name, uint32_t flags, pdk_domain_sink sink, void* user);
    void defineDomain(const pdk_domain_spec& spec, uint32_t flags);
    void startDomain(const char* name, uint32_t flags);
    void shutdownDomain(const char* name, uint32_t flags);
    void destroyDomain(const char* name, uint32_t flags);
    void undefineDomain(const char* name, uint32_t flags);
    void saveDomain(const char* name, uint32_t flags);
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
    // Internal snapshots: memory + disk while running, disk only (qemu-img) while off. A domain
    // that is off and has checkpoints loses them first: libvirt refuses an internal snapshot of
    // it otherwise ("cannot perform block operations while checkpoint exists").
    void snapshotCreate(const char* domain, const char* snapshot, uint32_t flags);
    void snapshotCreateSpec(const char* domain, const pdk_snapshot_spec& spec, uint32_t flags);
    void snapshotList(const char* domain, uint32_t flags, pdk_name_sink sink, void* user);
    // Sorted by creation time, then name; size_bytes is -1 (libvirt does not tell the size of
    // an internal snapshot).
    void snapshotListInfo(const char* domain, uint32_t flags, pdk_snapshot_sink sink, void* user);
    // Drops every checkpoint of the domain first (QEMU cannot load an internal snapshot over
    // dirty bitmaps, and libvirt leaves the domain shut off when it fails), and a managed save
    // image after (it would undo the revert at the next start).
    void snapshotRevert(const char* domain, const char* snapshot, uint32_t flags);
    void snapshotDelete(const char* domain, const char* snapshot, uint32_t flags);
    // Push-mode backup of the domain's one disk through a staging file next to that disk (QEMU,
    // running as its own user, can write there; the target's directory may be closed to it),
    // moved to spec.target_path afterwards. A domain that is off is started paused for the
    // job and stopped again (out.offline). Local connections only.
    void backupCreate(const char* domain, const pdk_backup_spec& spec, uint32_t flags, pdk_backup_result& out);
    void checkpointDelete(const char* domain, const char* checkpoint, uint32_t flags);
    // qemu-img convert of the backup chain into a new volume at volumePath()'s path, 0600 like
    // the pool's other volumes. Local connections only.
    std::string restoreVolume(const pdk_restore_spec& spec, uint32_t flags);
    // User-mode networking: 127.0.0.1 and the "ssh_port" metadata entry; otherwise the first
    // IPv4 address of the libvirt network's DHCP lease for the domain's MAC, port 22. Never an
    // address the guest reports itself (guest agent).
    void sshTarget(const char* name, uint32_t flags, pdk_ssh_target& out);
    void subscribeEvents(pdk_event_sink sink, void* user, uint32_t flags);
    // The QEMU guest agent's guest-ping through virDomainQemuAgentCommand, waiting timeoutMs
    // rounded up to whole seconds (at least 1); libvirt first syncs with the agent (up to about
    // 5 s of its own when the agent hangs). Errors by statusForLibvirtCode (a paused domain is
    // "not running": PDK_ERR_CONFLICT); a driver without an agent (test:///) answers
    // PDK_ERR_UNSUPPORTED.
    void guestPing(const char* name, uint32_t timeoutMs, uint32_t flags);

private:
    explicit Connection(virConnectPtr conn);
    DomainHandle lookupDomain(const char* name);
    DomainXmlOptions xmlOptionsFor(const pdk_domain_spec& spec) const;
    std::string resolveAutoDomainType();
    KeyValues readMetadata(virDomainPtr dom);
    uint64_t backingCapacity(const pdk_volume_spec& spec);
    bool listWithStats(uint32_t flags, pdk_domain_sink sink, void* user);
    void listWithInfo(uint32_t flags, pdk_domain_sink sink, void* user);
    void createSnapshot(const char* domain, const char* snapshot, const std::string& description, uint32_t flags);
    // Every checkpoint of the domain, children before parents.
    std::vector<CheckpointHandle> listCheckpoints(virDomainPtr dom, const std::string& domain);
    // Deletes `checkpoints` with their bitmaps; a domain that is off is started paused for it
    // (libvirt 9.0 deletes bitmaps only through a running QEMU) and stopped again.
    void deleteCheckpoints(virDomainPtr dom, const std::string& domain,
                           const std::vector<CheckpointHandle>& checkpoints);

    virConnectPtr conn_;
    std::string driverType_;  // virConnectGetType: "QEMU", "TEST", ...
    bool isTestDriver_ = false;
    bool isLocal_ = false;        // the URI names no remote host
    std::string autoDomainType_;  // what "auto" resolves to on this host
    std::atomic<bool> statsUnsupported_{false};
    std::shared_ptr<EventRelay> relay_;
    std::mutex eventMutex_;  // guards lifecycleCallbackId_
    int lifecycleCallbackId_ = -1;
    bool closeCallbackRegistered_ = false;
};

}  // namespace paddock::lvq
