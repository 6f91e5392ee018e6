// Backups, checkpoints and restores: the members of Connection built on libvirt's backup API
// and qemu-img.
#include "connection.hpp"

#include "process.hpp"

#include <paddock/cpp/backend.hpp>

#include <libvirt/virterror.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace paddock::lvq {

namespace {

constexpr auto kJobPoll = std::chrono::milliseconds(50);
constexpr auto kAbortWait = std::chrono::seconds(30);

// Runs `undo` when the scope is left by an exception (or without dismiss()).
class OnFailure {
public:
    explicit OnFailure(std::function<void()> undo) : undo_(std::move(undo)) {}
    ~OnFailure() {
        if (!undo_) return;
        try {
            undo_();
        } catch (...) {}
        virResetLastError();
    }
    OnFailure(const OnFailure&) = delete;
    OnFailure& operator=(const OnFailure&) = delete;
    void dismiss() { undo_ = nullptr; }

private:
    std::function<void()> undo_;
};

// A domain that is off, running paused for an operation libvirt does only through a running
// QEMU (backups, deleting a checkpoint's bitmaps). Its CPUs never run, so its disk does not
// change. finish() (or the destructor, after a failure) stops it again; a paused start restores
// and consumes a managed save image, so then the domain is saved again instead, to come back
// running as Paddock's save_domain left it.
class PausedStart {
public:
    PausedStart(virDomainPtr dom, std::string domain) : dom_(dom), domain_(std::move(domain)) {
        if (isActive(dom_)) return;
        const int saved = virDomainHasManagedSaveImage(dom_, 0);
        if (saved < 0) throwLastError("domain '" + domain_ + "'");
        saved_ = saved == 1;
        if (virDomainCreateWithFlags(dom_, VIR_DOMAIN_START_PAUSED) < 0)
            throwLastError("cannot start domain '" + domain_ + "' paused");
        started_ = true;
    }
    ~PausedStart() {
        if (!started_) return;
        if (saved_ ? virDomainManagedSave(dom_, VIR_DOMAIN_SAVE_RUNNING) < 0 : virDomainDestroy(dom_) < 0) {
            virResetLastError();
        }
    }
    PausedStart(const PausedStart&) = delete;
    PausedStart& operator=(const PausedStart&) = delete;

    bool started() const { return started_; }

    void finish() {
        if (!started_) return;
        started_ = false;
        if (saved_) {
            // On failure it stays paused: its memory state is still there to resume.
            if (virDomainManagedSave(dom_, VIR_DOMAIN_SAVE_RUNNING) < 0)
                throwLastError("domain '" + domain_ +
                               "' was restored paused from its saved state and cannot be saved again");
        } else if (virDomainDestroy(dom_) < 0) {
            throwLastError("cannot stop domain '" + domain_ + "' after starting it paused");
        }
    }

private:
    virDomainPtr dom_;
    std::string domain_;
    bool saved_ = false;
    bool started_ = false;
};

CheckpointHandle findCheckpoint(virDomainPtr dom, const std::string& domain, const std::string& name) {
    CheckpointHandle cp(virDomainCheckpointLookupByName(dom, name.c_str(), 0));
    if (!cp) {
        if (lastErrorCode() != VIR_ERR_NO_DOMAIN_CHECKPOINT)
            throwLastError("checkpoint '" + name + "' of domain '" + domain + "'");
        virResetLastError();
    }
    return cp;
}

void requirePlainName(const std::string& name, const char* what) {
    if (name.find('/') != std::string::npos || name == "." || name == "..")
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, std::string(what) + " '" + name + "' is not a plain name");
}

std::string directoryOf(const std::string& path) {
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string errnoText(const std::string& what, const std::string& path) {
    return what + " " + path + ": " + std::strerror(errno);
}

// Any kind of directory entry at `path` (a dangling link too).
bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 || errno != ENOENT;
}

// Removes the files of `dir` whose names start with `prefix` and end in ".qcow2".
void removeStagingFiles(const std::string& dir, const std::string& prefix) {
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
    if (!d) return;
    std::vector<std::string> stale;
    while (const dirent* entry = ::readdir(d.get())) {
        const std::string file = entry->d_name;
        if (file.size() > prefix.size() + 6 && file.rfind(prefix, 0) == 0 &&
            file.compare(file.size() - 6, 6, ".qcow2") == 0)
            stale.push_back(dir + "/" + file);
    }
    for (const auto& path : stale) ::unlink(path.c_str());
}

void syncPath(const std::string& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) throw pdk::Error(PDK_ERR_INTERNAL, errnoText("cannot open", path));
    const int rc = ::fsync(fd);
    const int saved = errno;
    ::close(fd);
    errno = saved;
    if (rc != 0) throw pdk::Error(PDK_ERR_INTERNAL, errnoText("cannot sync", path));
}

void copyFile(const std::string& from, const std::string& to) {
    const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) throw pdk::Error(PDK_ERR_INTERNAL, errnoText("cannot open", from));
    const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        const int saved = errno;
        ::close(in);
        errno = saved;
        throw pdk::Error(saved == EEXIST ? PDK_ERR_ALREADY_EXISTS : PDK_ERR_INTERNAL, errnoText("cannot create", to));
    }
    std::string failure;
    for (;;) {
        const ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) failure = errnoText("cannot copy to", to);
        break;
    }
    if (failure.empty() && ::fsync(out) != 0) failure = errnoText("cannot sync", to);
    ::close(in);
    ::close(out);
    if (!failure.empty()) {
        ::unlink(to.c_str());
        throw pdk::Error(PDK_ERR_INTERNAL, failure);
    }
    ::unlink(from.c_str());
}

// Makes a finished backup file 0600 and owned by this process (libvirt hands its file back so
// already; QEMU's user must not keep access), syncs it and its directory; returns its size.
uint64_t sealFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw pdk::Error(PDK_ERR_INTERNAL, errnoText("cannot open", path));
    struct stat st {};
    std::string failure;
    if (::fchmod(fd, 0600) != 0 || ::fstat(fd, &st) != 0)
        failure = errnoText("cannot make private", path);
    else if (st.st_uid != ::geteuid() && ::fchown(fd, ::geteuid(), ::getegid()) != 0)
        failure = errnoText("cannot take ownership of", path);
    else if (::fsync(fd) != 0)
        failure = errnoText("cannot sync", path);
    ::close(fd);
    if (!failure.empty()) throw pdk::Error(PDK_ERR_INTERNAL, failure);
    syncPath(directoryOf(path), O_RDONLY | O_DIRECTORY);
    return static_cast<uint64_t>(st.st_size);
}

// Moves a finished file to `to`, which must not exist; across file systems by copying.
void moveFile(const std::string& from, const std::string& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return;
    if (errno == EEXIST) throw pdk::Error(PDK_ERR_ALREADY_EXISTS, to + " appeared while the backup ran");
    if (errno != EXDEV) throw pdk::Error(PDK_ERR_INTERNAL, errnoText("cannot move " + from + " to", to));
    copyFile(from, to);
}

// Waits for the domain's job to end, then tells from its completed statistics whether the
// backup succeeded.
void waitForBackup(virDomainPtr dom, const std::string& domain) {
    for (;;) {
        virDomainJobInfo info{};
        if (virDomainGetJobInfo(dom, &info) < 0) throwLastError("cannot follow the backup of domain '" + domain + "'");
        if (info.type == VIR_DOMAIN_JOB_NONE) break;
        std::this_thread::sleep_for(kJobPoll);
    }
    int type = VIR_DOMAIN_JOB_NONE;
    virTypedParameterPtr params = nullptr;
    int count = 0;
    if (virDomainGetJobStats(dom, &type, &params, &count, VIR_DOMAIN_JOB_STATS_COMPLETED) < 0)
        throwLastError("cannot read how the backup of domain '" + domain + "' ended");
    std::unique_ptr<virTypedParameter, std::function<void(virTypedParameterPtr)>> owned(
        params, [count](virTypedParameterPtr p) { virTypedParamsFree(p, count); });
    int operation = VIR_DOMAIN_JOB_OPERATION_BACKUP;
    virTypedParamsGetInt(params, count, VIR_DOMAIN_JOB_OPERATION, &operation);
    if (type == VIR_DOMAIN_JOB_COMPLETED && operation == VIR_DOMAIN_JOB_OPERATION_BACKUP) return;
    const char* message = nullptr;
    virTypedParamsGetString(params, count, VIR_DOMAIN_JOB_ERRMSG, &message);
    if (type == VIR_DOMAIN_JOB_COMPLETED) message = "another job ended after it; its outcome is unknown";
    throw pdk::Error(PDK_ERR_INTERNAL, "the backup of domain '" + domain +
                                           "' failed: " + (message != nullptr ? message : "libvirt gives no reason"));
}

void abortJob(virDomainPtr dom) {
    virDomainJobInfo info{};
    if (virDomainGetJobInfo(dom, &info) < 0 || info.type == VIR_DOMAIN_JOB_NONE) return;
    virDomainAbortJob(dom);
    const auto deadline = std::chrono::steady_clock::now() + kAbortWait;
    while (std::chrono::steady_clock::now() < deadline) {
        if (virDomainGetJobInfo(dom, &info) < 0 || info.type == VIR_DOMAIN_JOB_NONE) return;
        std::this_thread::sleep_for(kJobPoll);
    }
}

}  // namespace

std::vector<CheckpointHandle> Connection::listCheckpoints(virDomainPtr dom, const std::string& domain) {
    virDomainCheckpointPtr* list = nullptr;
    const int n = virDomainListAllCheckpoints(dom, &list, VIR_DOMAIN_CHECKPOINT_LIST_TOPOLOGICAL);
    if (n < 0) throwLastError("cannot list the checkpoints of domain '" + domain + "'");
    std::vector<CheckpointHandle> out;
    out.reserve(static_cast<size_t>(n));
    for (int i = n - 1; i >= 0; --i) out.emplace_back(list[i]);
    free(list);
    return out;
}

void Connection::deleteCheckpoints(virDomainPtr dom, const std::string& domain,
                                   const std::vector<CheckpointHandle>& checkpoints) {
    std::optional<PausedStart> running;
    for (const CheckpointHandle& cp : checkpoints) {
        const std::string context = std::string("cannot delete checkpoint '") + virDomainCheckpointGetName(cp.get()) +
                                    "' of domain '" + domain + "'";
        // Flags 0, not METADATA_ONLY: that would leave the bitmap in the qcow2 file.
        if (virDomainCheckpointDelete(cp.get(), 0) == 0) continue;
        // libvirt 9.0: "cannot delete checkpoint for inactive domain".
        pdk::Error failed = takeLastError(context);
        if (running || failed.status() != PDK_ERR_UNSUPPORTED || isActive(dom)) throw failed;
        running.emplace(dom, domain);
        if (virDomainCheckpointDelete(cp.get(), 0) < 0) throwLastError(context);
    }
    if (running) running->finish();
}

void Connection::checkpointDelete(const char* domain, const char* checkpoint, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    DomainHandle dom = lookupDomain(domain);
    std::vector<CheckpointHandle> one;
    one.emplace_back(virDomainCheckpointLookupByName(dom.get(), checkpoint, 0));
    if (!one.front()) throwLastError(std::string("checkpoint '") + checkpoint + "' of domain '" + domain + "'");
    deleteCheckpoints(dom.get(), domain, one);
}

void Connection::backupCreate(const char* domain, const pdk_backup_spec& spec, uint32_t flags, pdk_backup_result& out) {
    pdk::checkFlags(flags, 0);
    const std::string target = requiredArg(spec.target_path, "target_path");
    const std::string checkpoint = requiredArg(spec.checkpoint, "checkpoint");
    const std::string from = spec.incremental_from != nullptr ? spec.incremental_from : "";
    const std::string backing = spec.backing_name != nullptr ? spec.backing_name : "";
    requirePlainName(checkpoint, "checkpoint");
    if (target.front() != '/') throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "target_path must be absolute: " + target);
    const std::string checkpointXml = buildCheckpointXml(checkpoint);
    DomainHandle dom = lookupDomain(domain);
    const std::string name = domain;

    // Drivers without the backup API (the test driver) say so here; a backup that is running
    // already is a conflict.
    if (char* running = virDomainBackupGetXMLDesc(dom.get(), 0)) {
        free(running);
        throw pdk::Error(PDK_ERR_CONFLICT, "domain '" + name + "' is being backed up already");
    }
    if (lastErrorCode() == VIR_ERR_NO_SUPPORT) throwLastError("cannot back up domain '" + name + "'");
    virResetLastError();
    if (!isLocal_) {
        throw pdk::Error(PDK_ERR_UNSUPPORTED,
                         "backups need libvirt on this host: the backend moves the file written "
                         "next to the domain's disk to target_path");
    }
    if (exists(target)) throw pdk::Error(PDK_ERR_ALREADY_EXISTS, "backup target " + target + " exists already");
    struct stat dir {};
    if (::stat(directoryOf(target).c_str(), &dir) != 0 || !S_ISDIR(dir.st_mode))
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "the directory of backup target " + target + " does not exist");
    if (!from.empty() && !findCheckpoint(dom.get(), name, from)) {
        throw pdk::Error(PDK_ERR_NOT_FOUND, "checkpoint '" + from + "' of domain '" + name +
                                                "' does not exist (a snapshot revert drops checkpoints): an "
                                                "incremental backup from it is impossible, take a full one");
    }
    if (findCheckpoint(dom.get(), name, checkpoint))
        throw pdk::Error(PDK_ERR_ALREADY_EXISTS, "checkpoint '" + checkpoint + "' of domain '" + name + "' exists");

    const std::string domainXml = takeString(virDomainGetXMLDesc(dom.get(), 0));
    if (domainXml.empty()) throwLastError("cannot read the definition of domain '" + name + "'");
    const std::vector<DomainDisk> disks = parseDisks(domainXml);
    if (disks.empty()) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "domain '" + name + "' has no disk to back up");
    if (disks.size() > 1 || disks.front().type != "file" || disks.front().source.empty()) {
        throw pdk::Error(PDK_ERR_UNSUPPORTED, "domain '" + name + "' has " + std::to_string(disks.size()) +
                                                  " disks, the first of type '" + disks.front().type +
                                                  "': the backend backs up a domain with one disk that is a file");
    }
    // Next to the disk, where QEMU (running as its own user) can write by construction; the
    // target's directory may be closed to it. libvirt creates the file and hands it back 0600.
    const std::string diskDir = directoryOf(disks.front().source);
    const std::string staging = diskDir + "/." + name + ".backup-" + checkpoint + ".qcow2";
    // Staging files of this domain are left only by a backup that paddockd did not live to
    // finish (none runs now: checked above); they go before a new one starts.
    removeStagingFiles(diskDir, "." + name + ".backup-");
    const std::string backupXml = buildBackupXml({{disks.front().target, staging}}, from);

    PausedStart running(dom.get(), name);
    bool begun = false;
    bool moved = false;
    OnFailure undo([&] {
        if (begun) {
            abortJob(dom.get());
            if (CheckpointHandle made{virDomainCheckpointLookupByName(dom.get(), checkpoint.c_str(), 0)})
                virDomainCheckpointDelete(made.get(), 0);
        }
        ::unlink(staging.c_str());
        if (moved) ::unlink(target.c_str());
    });
    if (virDomainBackupBegin(dom.get(), backupXml.c_str(), checkpointXml.c_str(), 0) < 0)
        throwLastError("cannot start the backup of domain '" + name + "'");
    begun = true;
    waitForBackup(dom.get(), name);

    // libvirt writes the domain's disk as the backing file of an incremental: name the previous
    // backup file instead, or no backing file at all.
    if (!from.empty()) {
        std::vector<std::string> rebase = {"qemu-img", "rebase", "-u", "-f", "qcow2", "-b", backing};
        if (!backing.empty()) rebase.insert(rebase.end(), {"-F", "qcow2"});
        rebase.push_back(staging);
        runProgram(rebase, "cannot set the backing file of the backup of domain '" + name + "'");
    }
    moveFile(staging, target);
    moved = true;
    out.bytes = sealFile(target);
    out.offline = running.started() ? 1 : 0;
    running.finish();
    undo.dismiss();
}

std::string Connection::restoreVolume(const pdk_restore_spec& spec, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    const std::string source = requiredArg(spec.source_path, "source_path");
    const std::string poolName = requiredArg(spec.pool, "pool");
    const std::string path = volumePath(spec.pool, spec.name, 0);
    if (!isLocal_)
        throw pdk::Error(PDK_ERR_UNSUPPORTED, "restores need libvirt on this host: qemu-img reads the backup here");
    struct stat st {};
    if (::stat(source.c_str(), &st) != 0) throw pdk::Error(PDK_ERR_NOT_FOUND, errnoText("backup file", source));

    // Made here 0600 (as libvirt makes the pool's volumes), so that qemu-img never creates it
    // under another mode and a volume appearing meanwhile is never overwritten.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) throw pdk::Error(PDK_ERR_ALREADY_EXISTS, path + " exists already");
        throw pdk::Error(PDK_ERR_INTERNAL, errnoText("cannot create", path));
    }
    ::close(fd);
    OnFailure undo([&] { ::unlink(path.c_str()); });
    runProgram({"qemu-img", "convert", "-f", "qcow2", "-O", "qcow2", "-o", "compat=1.1", source, path},
               "cannot restore " + source + " into pool '" + poolName + "'");
    syncPath(path, O_RDONLY);
    PoolHandle pool(virStoragePoolLookupByName(conn_, poolName.c_str()));
    if (!pool) throwLastError("storage pool '" + poolName + "'");
    if (virStoragePoolRefresh(pool.get(), 0) < 0) throwLastError("cannot refresh storage pool '" + poolName + "'");
    undo.dismiss();
    return path;
}

}  // namespace paddock::lvq
