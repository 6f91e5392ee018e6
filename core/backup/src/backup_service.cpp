#include "paddock/core/backup_service.hpp"

#include "paddock/core/ids.hpp"
#include "paddock/core/iso_time.hpp"
#include "paddock/core/json_writer.hpp"
#include "paddock/core/names.hpp"
#include "paddock/core/vm_metadata.hpp"

#include <unistd.h>

#include <map>

namespace paddock {

namespace {

// "bk-20261202-075501-3fa9c1": sorts by time, unique by its random tail.
std::string newBackupId() {
    return randomId("bk-" + compactUtcStamp(std::chrono::system_clock::now()) + "-", 6);
}

// A checkpoint that is gone already is what we wanted.
void dropCheckpoint(BackendConnection& conn, const std::string& vm, const std::string& checkpoint) {
    if (checkpoint.empty()) return;
    (void)conn.checkpointDelete(vm, checkpoint);
}

Error withContext(Error e, const std::string& context) {
    e.message = context + ": " + e.message;
    return e;
}

}  // namespace

std::string backupJson(const BackupRecord& r) {
    JsonWriter json;
    json.beginObject()
        .field("id", r.id)
        .field("vm", r.vm)
        .field("site", r.site)
        .field("owner", r.owner)
        .field("template", r.template_name)
        .field("kind", r.kind)
        .key("parent")
        .stringOrNull(r.parent)
        .field("chain", r.chain)
        .field("size_bytes", r.size_bytes)
        .field("sha256", r.sha256)
        .field("created_at", isoTime(r.created_at))
        .field("duration_s", r.duration_s)
        .field("offline", r.offline)
        .key("reason")
        .stringOrNull(r.reason)
        .endObject();
    return json.str();
}

BackupService::BackupService(BackupStore& store, OperationRegistry& operations, AuditLog& audit, CoreMetrics& metrics)
    : store_(store), operations_(operations), audit_(audit), metrics_(metrics) {}

BackupService::~BackupService() {
    for (const auto& job : jobs_.stop())
        operations_.fail(job.operation, makeError(ErrorCode::Unavailable, "paddockd stopped before the job ran"));
}

Result<Operation> BackupService::enqueue(const std::string& kind, const std::string& owner, const std::string& vm,
                                         std::function<void(const std::string& operation)> work) {
    auto op = operations_.begin(kind, "", owner, vm);
    if (!op) return op;
    const std::string id = op->id;
    if (!jobs_.push({id, [this, id, work = std::move(work)] {
                         operations_.start(id);
                         work(id);
                     }})) {
        operations_.fail(id, makeError(ErrorCode::Unavailable, "paddockd is stopping"));
        return makeError(ErrorCode::Unavailable, "paddockd is stopping");
    }
    return op;
}

Result<BackupRecord> BackupService::backup(VmService& vms, const std::string& vm, const std::string& actor) {
    Site& site = vms.site();
    auto result = site.withVm<Result<BackupRecord>>(vm, [&](BackendConnection& conn) -> Result<BackupRecord> {
        auto info = site.managedDomain(conn, vm);
        if (!info) return std::move(info).error();
        auto made = backupLocked(vms, conn, info.value(), actor);
        site.refresh(conn, vm);
        return made;
    });
    std::string id = result ? result->id : std::string();
    return audit_.record(actor, site.name(), vm, "backup", std::move(result), std::move(id));
}

Result<BackupRecord> BackupService::backupLocked(VmService& vms, BackendConnection& conn, const DomainInfo& info,
                                                 const std::string& actor) {
    const std::string& vm = info.name;
    if (metaValue(info.metadata, meta::kDisk).empty())
        return makeError(ErrorCode::InvalidArgument, "VM '" + vm + "' has no disk of Paddock's to back up");
    if (auto supported = vms.site().backend().requireOperation("backup_create"); !supported) return std::move(supported).error();
    const TemplateConfig* tmpl = vms.templateOf(info);
    const BackupPolicy policy = tmpl != nullptr ? tmpl->backups : BackupPolicy{};
    auto dir = store_.directoryFor(vm, policy.directory);
    if (!dir) return std::move(dir).error();
    store_.sweep(vm);
    auto all = store_.list(vm);
    if (!all) return std::move(all).error();

    const NextBackup next = planNextBackup(all.value(), info.uuid, policy.keep);
    const BackupRecord* newest = next.parent;

    BackupRecord record;
    record.id = newBackupId();
    record.vm = vm;
    record.vm_uuid = info.uuid;
    record.site = vms.site().name();
    record.owner = metaValue(info.metadata, meta::kOwner);
    record.template_name = metaValue(info.metadata, meta::kTemplate);
    record.vcpus = info.vcpus;
    record.memory_mb = info.max_memory_kib / 1024;
    record.file = record.id + ".qcow2";
    record.checkpoint = "paddock-" + record.id;
    record.reason = next.reason;

    BackupSpec spec;
    spec.target_path = dir.value() + "/" + record.file;
    spec.checkpoint = record.checkpoint;
    if (newest != nullptr) {
        spec.incremental_from = newest->checkpoint;
        spec.backing_name = newest->file;
    }
    const auto started = std::chrono::steady_clock::now();
    auto made = conn.backupCreate(vm, spec);
    if (!made && made.error().code == ErrorCode::NotFound && !spec.incremental_from.empty()) {
        record.reason = "the VM no longer has the checkpoint of backup " + newest->id +
                        " (reverting a snapshot drops it), so a new chain starts";
        spec.incremental_from.clear();
        spec.backing_name.clear();
        made = conn.backupCreate(vm, spec);
    }
    const bool full = spec.incremental_from.empty();
    record.kind = full ? kBackupFull : kBackupIncremental;
    if (!made) {
        metrics_.countBackup(record.kind, false, 0);
        return withContext(std::move(made).error(), "cannot back up VM '" + vm + "'");
    }
    // From here a failure takes back what the backend made: no file, no checkpoint left.
    const auto undo = [&](Error e) -> Error {
        ::unlink(spec.target_path.c_str());
        dropCheckpoint(conn, vm, record.checkpoint);
        metrics_.countBackup(record.kind, false, 0);
        return e;
    };
    auto sha = BackupStore::sha256File(spec.target_path);
    if (!sha) return undo(std::move(sha).error());
    record.parent = full ? std::string() : newest->id;
    record.chain = full ? record.id : newest->chain;
    record.size_bytes = made->bytes;
    record.sha256 = sha.value();
    record.created_at = std::chrono::system_clock::now();
    record.duration_s = secondsSince(started);
    record.offline = made->offline;
    if (auto kept = store_.append(record); !kept) return undo(std::move(kept).error());
    metrics_.countBackup(record.kind, true, record.size_bytes);
    metrics_.observeBackup(record.kind, record.duration_s);

    // Incremental backups only ever start from the newest checkpoint: older ones cost the disk
    // a bitmap each and serve nothing once a new chain began.
    if (full) {
        for (const auto& r : all.value())
            if (r.vm_uuid == info.uuid) dropCheckpoint(conn, vm, r.checkpoint);
    }
    applyRetention(vms, conn, vm, info.uuid, policy.keep, actor);
    return record;
}

void BackupService::applyRetention(VmService& vms, BackendConnection& conn, const std::string& vm,
                                   const std::string& uuid, uint32_t keep, const std::string& actor) {
    auto all = store_.list(vm);
    if (!all) return;
    std::map<std::string, const BackupRecord*> byId;
    for (const auto& r : all.value()) byId[r.id] = &r;
    for (const auto& chain : chainsToPrune(all.value(), keep)) {
        for (const auto& id : chain)
            if (byId[id]->vm_uuid == uuid) dropCheckpoint(conn, vm, byId[id]->checkpoint);
        Status erased = store_.erase(vm, chain);
        (void)audit_.record(actor, vms.site().name(), vm, "backup_prune", erased, chain.front());
        if (!erased) break;
    }
}

Result<Operation> BackupService::beginBackup(VmService& vms, const std::string& vm, const std::string& owner,
                                             const std::string& actor) {
    // Said now, not as a failed operation later: no backup can ever run on this backend.
    if (auto supported = vms.site().backend().requireOperation("backup_create"); !supported) return std::move(supported).error();
    return enqueue(kOperationVmBackup, owner, vm, [this, &vms, vm, actor](const std::string& id) {
        auto made = backup(vms, vm, actor);
        if (made)
            operations_.finish(id, "backup", backupJson(made.value()));
        else
            operations_.fail(id, std::move(made).error());
    });
}

Result<std::vector<BackupRecord>> BackupService::list(const std::string& vm) {
    if (auto valid = validateExistingName(vm, "VM name"); !valid) return std::move(valid).error();
    return store_.list(vm);
}

Result<BackupRecord> BackupService::get(const std::string& vm, const std::string& id) {
    auto all = list(vm);
    if (!all) return std::move(all).error();
    for (auto& r : all.value())
        if (r.id == id) return std::move(r);
    return makeError(ErrorCode::NotFound, "VM '" + vm + "' has no backup '" + id + "'");
}

Result<std::vector<std::string>> BackupService::remove(VmService* vms, const std::string& vm, const std::string& id,
                                                       bool wholeChain, const std::string& actor) {
    auto all = list(vm);
    if (!all) return std::move(all).error();
    const BackupRecord* target = nullptr;
    for (const auto& r : all.value())
        if (r.id == id) target = &r;
    if (target == nullptr) return makeError(ErrorCode::NotFound, "VM '" + vm + "' has no backup '" + id + "'");
    std::vector<std::string> ids;
    std::vector<std::string> checkpoints;
    for (const auto& r : all.value()) {
        if (!wholeChain && r.parent == id)
            return makeError(ErrorCode::Conflict, "backup '" + id + "' of VM '" + vm + "' is not the newest of its chain (" +
                                                      r.id + " builds on it); delete that one first, or the whole "
                                                      "chain with ?chain=true");
        if (wholeChain ? r.chain == target->chain : r.id == id) {
            ids.push_back(r.id);
            checkpoints.push_back(r.checkpoint);
        }
    }
    const std::string uuid = target->vm_uuid;
    const std::string site = target->site;
    const auto erase = [&]() -> Status { return store_.erase(vm, ids); };
    Status done;
    if (vms != nullptr) {
        // Under the VM's lock (no backup of it meanwhile), taking its checkpoints along when it
        // is the VM these backups are of.
        done = vms->site().withVm<Status>(vm, [&](BackendConnection& conn) -> Status {
            if (auto info = conn.getDomain(vm); info && info->uuid == uuid)
                for (const auto& c : checkpoints) dropCheckpoint(conn, vm, c);
            return erase();
        });
    } else {
        done = erase();
    }
    (void)audit_.record(actor, site, vm, "backup_delete", done, id);
    if (!done) return std::move(done).error();
    return ids;
}

Result<VmView> BackupService::restore(VmService& target, const std::string& vm, const std::string& id,
                                      const RestoreRequest& request, const std::string& actor) {
    auto result = [&]() -> Result<VmView> {
        if (auto valid = validateName(request.as, "VM name"); !valid) return std::move(valid).error();
        auto all = list(vm);
        if (!all) return std::move(all).error();
        const std::vector<std::string> chain = chainUpTo(all.value(), id);
        const BackupRecord* chosen = nullptr;
        for (const auto& r : all.value())
            if (r.id == id) chosen = &r;
        if (chosen == nullptr) return makeError(ErrorCode::NotFound, "VM '" + vm + "' has no backup '" + id + "'");
        if (chain.empty())
            return makeError(ErrorCode::Conflict,
                             "the chain of backup '" + id + "' of VM '" + vm + "' is incomplete; it cannot be restored");
        std::string source;
        for (const auto& linkId : chain) {
            for (const auto& r : all.value()) {
                if (r.id != linkId) continue;
                auto path = store_.pathOf(r);
                if (!path) return std::move(path).error();
                auto sha = BackupStore::sha256File(path.value());
                if (!sha) return withContext(std::move(sha).error(), "backup '" + r.id + "' of VM '" + vm + "'");
                if (sha.value() != r.sha256)
                    return makeError(ErrorCode::Conflict, "backup file " + path.value() + " is damaged: its SHA-256 is " +
                                                              sha.value() + ", " + r.sha256 +
                                                              " was recorded; restore an earlier backup");
                source = path.value();
            }
        }
        CreateVmRequest create;
        create.name = request.as;
        const std::string tmpl = request.template_name.value_or(chosen->template_name);
        if (!tmpl.empty()) create.template_name = tmpl;
        create.vcpus = chosen->vcpus;
        create.memory_mb = chosen->memory_mb;
        const std::string owner = request.owner.value_or(chosen->owner);
        if (!owner.empty()) create.owner = owner;
        create.start = request.start;
        create.restore_source = source;
        create.metadata[meta::kRestoredFrom] = vm + "/" + id;
        const auto started = std::chrono::steady_clock::now();
        auto made = target.create(create, actor);
        if (made) metrics_.observeRestore(secondsSince(started));
        return made;
    }();
    return audit_.record(actor, target.site().name(), vm, "restore", std::move(result), id);
}

Result<Operation> BackupService::beginRestore(VmService& target, const std::string& vm, const std::string& id,
                                              const RestoreRequest& request, const std::string& owner,
                                              const std::string& actor,
                                              std::function<std::string(const VmView&)> writeVm) {
    if (auto valid = validateName(request.as, "VM name"); !valid) return std::move(valid).error();
    if (auto supported = target.site().backend().requireOperation("restore_volume"); !supported) return std::move(supported).error();
    return enqueue(kOperationVmRestore, owner, request.as,
                   [this, &target, vm, id, request, actor, writeVm = std::move(writeVm)](const std::string& op) {
                       auto made = restore(target, vm, id, request, actor);
                       if (made)
                           operations_.finish(op, "restored_vm", writeVm(made.value()));
                       else
                           operations_.fail(op, std::move(made).error());
                   });
}

}  // namespace paddock
