#include "paddock/core/audit_log.hpp"

#include <boost/filesystem.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace paddock {

namespace {

void appendJsonString(std::string& out, const std::string& s) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}

std::string isoNow() {
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

}  // namespace

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
    std::string line = "{\"time\":";
    appendJsonString(line, isoNow());
    const std::pair<const char*, const std::string*> fields[] = {
        {"actor", &r.actor}, {"site", &r.site}, {"vm", &r.vm}, {"action", &r.action}, {"result", &r.result}};
    for (const auto& [key, value] : fields) {
        line += ",\"";
        line += key;
        line += "\":";
        appendJsonString(line, *value);
    }
    line += ",\"error\":";
    if (r.error.empty()) {
        line += "null";
    } else {
        appendJsonString(line, r.error);
    }
    line += '}';

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
