// Incremental backups of VM disks and restores into new VMs.
//
// A backup goes through the backend (ABI 1.4 backup_create): the first one of a VM is full,
// later ones hold only what changed since the previous one (a backend checkpoint per backup,
// qcow2 dirty bitmaps on libvirt-QEMU). A chain is a full backup and the incremental ones after
// it; each incremental file names its parent file as backing file, so the files of a chain read
// as one disk with plain qemu-img too. A new chain starts when the template's backups.keep is
// reached, when the VM is a new one of the same name, or when the backend lost the checkpoint
// (reverting a snapshot drops it). Retention then deletes the oldest whole chains while the rest
// still hold `keep` backups. Files are checksummed (SHA-256) when made and verified before a
// restore, which makes a new VM from the chain up to the chosen backup.
//
// Backups and restores take seconds to minutes, so the API runs them as operations
// (operations.hpp) on one worker thread of this service: one at a time, in order. Backups of a
// VM run under its lock (no start, stop or snapshot meanwhile).
//
// Thread-safe. The VmServices handed in, the store, registry, audit log and metrics must
// outlive it; the destructor waits for the job in progress and fails the queued ones.
#pragma once

#include "paddock/core/audit_log.hpp"
#include "paddock/core/backup_store.hpp"
#include "paddock/core/job_queue.hpp"
#include "paddock/core/metrics.hpp"
#include "paddock/core/operations.hpp"
#include "paddock/core/vm_service.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace paddock {

struct RestoreRequest {
    std::string as;  // the new VM's name (validateName)
    bool start = true;
    std::optional<std::string> owner;          // absent: the backup's owner
    std::optional<std::string> template_name;  // absent: the backup's template
};

// A backup as the API shows it (JSON object): id, vm, site, owner, template, kind, parent,
// chain, size_bytes, sha256, created_at, duration_s, offline, reason.
std::string backupJson(const BackupRecord& record);

class BackupService {
public:
    BackupService(BackupStore& store, OperationRegistry& operations, AuditLog& audit, CoreMetrics& metrics);
    ~BackupService();
    BackupService(const BackupService&) = delete;
    BackupService& operator=(const BackupService&) = delete;

    // Backs `vm` up now, on the calling thread. InvalidArgument for a VM without a disk of
    // Paddock's; Unsupported when the backend has no backups.
    Result<BackupRecord> backup(VmService& vms, const std::string& vm, const std::string& actor);
    // The same as an operation (kind "vm_backup", result key "backup"), run by the worker. The
    // caller has found `vm` on `vms` (the route's lookup); one gone meanwhile fails the operation.
    Result<Operation> beginBackup(VmService& vms, const std::string& vm, const std::string& owner,
                                  const std::string& actor);

    // The backups of `vm` (which need not exist any more), oldest first.
    Result<std::vector<BackupRecord>> list(const std::string& vm);
    Result<BackupRecord> get(const std::string& vm, const std::string& id);

    // Deletes backup `id`, which must be the newest of its chain (else Conflict), or with
    // `wholeChain` every backup of its chain. `vms`: the VM's site while the VM exists (its
    // checkpoints go too), else null. Returns the ids deleted.
    Result<std::vector<std::string>> remove(VmService* vms, const std::string& vm, const std::string& id,
                                            bool wholeChain, const std::string& actor);

    // A new VM `request.as` on `target`'s site from the chain up to backup `id` of `vm`, after
    // verifying every file's checksum (Conflict naming the damaged file otherwise).
    Result<VmView> restore(VmService& target, const std::string& vm, const std::string& id,
                           const RestoreRequest& request, const std::string& actor);
    // The same as an operation (kind "vm_restore", result key "restored_vm", with `writeVm` serialising
    // the new VM), run by the worker. The caller has found backup `id` of `vm`; the new VM's name
    // is checked at once.
    Result<Operation> beginRestore(VmService& target, const std::string& vm, const std::string& id,
                                   const RestoreRequest& request, const std::string& owner, const std::string& actor,
                                   std::function<std::string(const VmView&)> writeVm);

private:
    struct Job {
        std::string operation;
        std::function<void()> run;
    };
    Result<BackupRecord> backupLocked(VmService& vms, BackendConnection& conn, const DomainInfo& info,
                                      const std::string& actor);
    // Deletes the oldest chains of `vm` beyond `keep` (chainsToPrune), each audited.
    void applyRetention(VmService& vms, BackendConnection& conn, const std::string& vm,
                        const std::string& uuid, uint32_t keep, const std::string& actor);
    Result<Operation> enqueue(const std::string& kind, const std::string& owner, const std::string& vm,
                              std::function<void(const std::string& operation)> work);

    BackupStore& store_;
    OperationRegistry& operations_;
    AuditLog& audit_;
    CoreMetrics& metrics_;

    JobQueue<Job> jobs_{1, [](Job& job) { job.run(); }};  // last: its worker starts once the rest exists
};

}  // namespace paddock
