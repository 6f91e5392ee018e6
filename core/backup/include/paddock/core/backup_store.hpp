// Where backups live and what is known of them. Each VM has a directory of its own,
// <root>/<vm>/ (mode 0700), holding its backup files (<id>.qcow2, mode 0600) and index.json
// (mode 0600, rewritten atomically) with one record per backup: the chain it belongs to, its
// parent, size, SHA-256 and what the VM was made from, so a VM can be restored after it was
// deleted. A root is a template's backups.directory or <state_dir>/backups; a VM's directory is
// found in whichever root holds it.
//
// Thread-safe: one mutex guards every index (backups are rare; they never contend).
#pragma once

#include "paddock/core/iso_time.hpp"
#include "paddock/core/result.hpp"

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace paddock {

struct BackupRecord {
    std::string id;  // "bk-<UTC time>-<hex>"; also the file name without ".qcow2"
    std::string vm;
    std::string vm_uuid;  // a later VM of the same name starts its own chain
    std::string site;
    std::string owner;  // who may see and restore it (the VM's owner at backup time)
    std::string template_name;
    uint32_t vcpus = 0;
    uint64_t memory_mb = 0;
    std::string kind;        // "full" or "incremental"
    std::string parent;      // incremental: the backup it adds to; empty for a full one
    std::string chain;       // the id of the chain's full backup
    std::string checkpoint;  // the backend's checkpoint set by this backup
    std::string file;        // file name within the VM's directory
    uint64_t size_bytes = 0;
    std::string sha256;  // of the file, hex
    SystemTime created_at{};
    double duration_s = 0;
    bool offline = false;  // the VM was off: backed up from its disk image
    std::string reason;    // why a full backup started a new chain ("first backup", ...)
};

inline constexpr const char* kBackupFull = "full";
inline constexpr const char* kBackupIncremental = "incremental";

class BackupStore {
public:
    // `roots`: every directory backups may live under, the default first.
    explicit BackupStore(std::vector<std::string> roots);

    const std::string& defaultRoot() const noexcept { return roots_.front(); }

    // The records of `vm`, oldest first; empty when it has none. Unavailable when an index
    // cannot be read (it is never replaced then).
    Result<std::vector<BackupRecord>> list(const std::string& vm) const;
    // The VM's directory under `root` (empty: the default), made 0700 when missing. An existing
    // directory of the VM under another root wins, so a VM's backups never split.
    Result<std::string> directoryFor(const std::string& vm, const std::string& root) const;
    // The full path of a record's file.
    Result<std::string> pathOf(const BackupRecord& record) const;

    Status append(const BackupRecord& record);
    // Removes the records with these ids and their files (a file first, then the index).
    Status erase(const std::string& vm, const std::vector<std::string>& ids);
    // Deletes files in the VM's directory that no record names (left by a crash mid-backup).
    void sweep(const std::string& vm) const;

    // SHA-256 of a file, hex; Unavailable when it cannot be read.
    static Result<std::string> sha256File(const std::string& path);

private:
    // The directory of `vm` under the root that has one; empty when none.
    std::string existingDirectory(const std::string& vm) const;
    Result<std::vector<BackupRecord>> readIndex(const std::string& directory) const;
    Status writeIndex(const std::string& directory, const std::vector<BackupRecord>& records) const;

    std::vector<std::string> roots_;
    mutable std::mutex mutex_;
};

// The ids of `records` (one VM's, oldest first) that make up the chain ending at `id`, oldest
// first (the full backup first); empty when `id` is unknown or its chain is broken.
std::vector<std::string> chainUpTo(const std::vector<BackupRecord>& records, const std::string& id);

// What the next backup of the VM `uuid` is, given its directory's records (oldest first): an
// incremental one on `parent`, or (parent null) a full one that starts a new chain, for `reason`:
// the VM's first backup, or its chain holds `keep` backups.
struct NextBackup {
    const BackupRecord* parent = nullptr;  // points into the records given
    std::string reason;
};
NextBackup planNextBackup(const std::vector<BackupRecord>& records, const std::string& uuid, uint32_t keep);

// Retention: the chains to delete (each its ids), oldest first: the oldest whole chains, while
// the newer ones still hold `keep` backups; never the newest chain.
std::vector<std::vector<std::string>> chainsToPrune(const std::vector<BackupRecord>& records, uint32_t keep);

}  // namespace paddock
