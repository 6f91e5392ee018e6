#include "paddock/core/audit_log.hpp"

#include "paddock/core/iso_time.hpp"
#include "paddock/core/json_writer.hpp"

#include <boost/filesystem.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>

namespace paddock {

AuditLog::AuditLog(std::string path) : path_(std::move(path)) {
    if (path_.empty()) return;
    const boost::filesystem::path parent = boost::filesystem::path(path_).parent_path();
    if (!parent.empty()) boost::filesystem::create_directories(parent);
    // The audit trail names owners and actors: readable by the service account only.
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot open audit log " + path_);
    file_ = ::fdopen(fd, "a");
    if (file_ == nullptr) {
        ::close(fd);
        throw std::runtime_error("cannot open audit log " + path_);
    }
}

AuditLog::~AuditLog() {
    if (file_ != nullptr) std::fclose(file_);
}

void AuditLog::write(const AuditRecord& r) {
    JsonWriter json;
    json.beginObject()
        .field("time", isoTimeMillis(std::chrono::system_clock::now()))
        .field("actor", r.actor)
        .field("site", r.site)
        .field("vm", r.vm)
        .field("action", r.action);
    if (!r.target.empty()) json.field("target", r.target);
    if (!r.detail.empty()) json.field("detail", r.detail);
    json.field("result", r.result);
    json.key("error").stringOrNull(r.error);
    json.endObject();
    const std::string line = json.str();

    std::lock_guard lock(mutex_);
    last_ = line;
    if (file_ != nullptr) {
        std::fputs(line.c_str(), file_);
        std::fputc('\n', file_);
        std::fflush(file_);
    }
}

std::string AuditLog::lastLine() const {
    std::lock_guard lock(mutex_);
    return last_;
}

}  // namespace paddock
