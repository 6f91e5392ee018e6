// Append-only audit trail of VM operations: one JSON object per line
// {"time","actor","site","vm","action"[,"target"],"result","error"[,"detail"]}. Thread-safe. Never receives secrets:
// callers pass names and outcomes only.
#pragma once

#include "paddock/core/result.hpp"

#include <cstdio>
#include <mutex>
#include <string>

namespace paddock {

struct AuditRecord {
    std::string actor;  // token name, or "system"
    std::string site;
    std::string vm;
    std::string action;  // "create", "start", "stop", ...
    std::string result;  // "ok" or "error"
    std::string error;   // the error message, empty on success
    std::string target;  // what in the VM it concerned (a snapshot, a backup id); empty: the VM
    std::string detail;  // why (a watchdog's decision); empty: nothing to add
};

class AuditLog {
public:
    // Appends to `path` (created 0600 with its directory when missing). An empty path keeps
    // records in memory only (for tests via lastLine()).
    explicit AuditLog(std::string path);
    ~AuditLog();
    AuditLog(const AuditLog&) = delete;
    AuditLog& operator=(const AuditLog&) = delete;

    void write(const AuditRecord& record);

    // The one way an operation's outcome becomes a record: "ok", or "error" with the error's
    // message. Returns `result` so a call can be audited where it is returned.
    template <class R>
    R record(const std::string& actor, const std::string& site, const std::string& vm, const std::string& action,
             R result, std::string target = {}) {
        write({actor, site, vm, action, result.ok() ? "ok" : "error",
               result.ok() ? std::string() : result.error().message, std::move(target), {}});
        return result;
    }
    std::string lastLine() const;
    const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
    mutable std::mutex mutex_;
    std::FILE* file_ = nullptr;
    std::string last_;
};

}  // namespace paddock
