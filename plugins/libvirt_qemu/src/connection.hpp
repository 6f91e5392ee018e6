// The libvirt-qemu backend's connection: LibvirtConnection (libvirt_common) plus what only QEMU
// has: kvm/qemu domain XML, internal snapshots, checkpoints and push-mode backups, restores
// through qemu-img, and the guest agent. Exposed to the host through
// pdk::makeBackendVtable<Connection>(); every public member of the base is supported too.
//
// Threading and errors: as LibvirtConnection (libvirt_connection.hpp).
#pragma once

#include "libvirt_connection.hpp"

#include <memory>
#include <string>
#include <vector>

namespace paddock::lvq {

class Connection : public LibvirtConnection {
public:
    static std::unique_ptr<Connection> open(const char* uri, uint32_t flags);

    void defineDomain(const pdk_domain_spec& spec, uint32_t flags);
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
    // The QEMU guest agent's guest-ping through virDomainQemuAgentCommand, waiting timeoutMs
    // rounded up to whole seconds (at least 1); libvirt first syncs with the agent (up to about
    // 5 s of its own when the agent hangs). Errors by statusForLibvirtCode (a paused domain is
    // "not running": PDK_ERR_CONFLICT); a driver without an agent (test:///) answers
    // PDK_ERR_UNSUPPORTED.
    void guestPing(const char* name, uint32_t timeoutMs, uint32_t flags);

private:
    explicit Connection(virConnectPtr conn);
    DomainXmlOptions xmlOptionsFor(const pdk_domain_spec& spec) const;
    std::string resolveAutoDomainType();
    void createSnapshot(const char* domain, const char* snapshot, const std::string& description, uint32_t flags);
    // Every checkpoint of the domain, children before parents.
    std::vector<CheckpointHandle> listCheckpoints(virDomainPtr dom, const std::string& domain);
    // Deletes `checkpoints` with their bitmaps; a domain that is off is started paused for it
    // (libvirt 9.0 deletes bitmaps only through a running QEMU) and stopped again.
    void deleteCheckpoints(virDomainPtr dom, const std::string& domain,
                           const std::vector<CheckpointHandle>& checkpoints);
};

}  // namespace paddock::lvq
