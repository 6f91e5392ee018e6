#include "cast_file.hpp"

#include "cast_store.hpp"

#include <paddock/cpp/error.hpp>

#include <cerrno>
#include <cmath>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace paddock::asciinema {

namespace {

constexpr size_t kBufferSize = 64 * 1024;
constexpr double kFlushInterval = 1.0;

std::string errnoText(int e) { return std::strerror(e); }

// mkdir -p with mode 0750 for the parts it creates.
void makeDirectories(const std::string& dir) {
    std::string partial;
    size_t pos = 0;
    while (pos <= dir.size()) {
        const size_t slash = dir.find('/', pos);
        const size_t end = slash == std::string::npos ? dir.size() : slash;
        partial = dir.substr(0, end);
        pos = end + 1;
        if (partial.empty()) continue;
        if (::mkdir(partial.c_str(), 0750) != 0 && errno != EEXIST) {
            throw pdk::Error(PDK_ERR_UNAVAILABLE, "cannot create directory " + partial + ": " + errnoText(errno));
        }
    }
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        throw pdk::Error(PDK_ERR_UNAVAILABLE, "recording directory " + dir + " is not a directory");
    }
}

bool validResize(std::string_view s) {
    const size_t x = s.find('x');
    if (x == std::string_view::npos || x == 0 || x > 5 || s.size() - x - 1 == 0 || s.size() - x - 1 > 5) return false;
    for (size_t i = 0; i < s.size(); ++i) {
        if (i != x && (s[i] < '0' || s[i] > '9')) return false;
    }
    return true;
}

void appendKey(std::string& out, const char* key, const char* value) {
    if (value == nullptr || *value == '\0') return;
    out.append(", ");
    appendJsonString(out, key);
    out.append(": ");
    appendJsonString(out, repairedUtf8(value));
}

}  // namespace

std::unique_ptr<CastRecording> CastRecording::open(const pdk_recording_info& info, uint32_t flags) {
    pdk::checkFlags(flags, PDK_RECORDING_REPLACE);
    if (info.directory == nullptr || *info.directory == '\0') {
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "no recording directory given");
    }
    if (info.session_id == nullptr || !validSessionId(info.session_id)) {
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT,
                         std::string("invalid session id '") + (info.session_id ? info.session_id : "") + "'");
    }
    if (info.width == 0 || info.height == 0) {
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "terminal size must not be zero");
    }
    std::string dir = info.directory;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    makeDirectories(dir);
    const std::string path = dir + "/" + info.session_id + ".cast";

    const int openFlags =
        O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | ((flags & PDK_RECORDING_REPLACE) != 0 ? O_TRUNC : O_EXCL);
    const int fd = ::open(path.c_str(), openFlags, 0640);
    if (fd < 0) {
        const int e = errno;
        if (e == EEXIST) throw pdk::Error(PDK_ERR_ALREADY_EXISTS, "recording " + path + " exists already");
        throw pdk::Error(PDK_ERR_UNAVAILABLE, "cannot create " + path + ": " + errnoText(e));
    }
    (void)::fchmod(fd, 0640);  // exactly 0640, whatever the umask
    std::FILE* file = ::fdopen(fd, "w");
    if (file == nullptr) {
        const int e = errno;
        ::close(fd);
        throw pdk::Error(PDK_ERR_INTERNAL, "fdopen " + path + ": " + errnoText(e));
    }
    std::unique_ptr<CastRecording> rec(new CastRecording(file, path, info.record_input != 0));

    std::string header = "{\"version\": 2, \"width\": " + std::to_string(info.width) +
                         ", \"height\": " + std::to_string(info.height) +
                         ", \"timestamp\": " + std::to_string(info.start_timestamp) + ", \"env\": {";
    header.append("\"TERM\": ");
    appendJsonString(header, info.term != nullptr ? info.term : "");
    header.append(", \"SHELL\": ");
    appendJsonString(header, info.shell != nullptr ? info.shell : "");
    header.append("}");
    appendKey(header, "title", info.title);
    // Extra keys; asciicast v2 readers (asciinema CLI, asciinema-player) ignore keys they do not know.
    appendKey(header, "site", info.site);
    appendKey(header, "vm", info.vm);
    appendKey(header, "owner", info.owner);
    appendKey(header, "lease", info.lease);
    header.append("}\n");
    if (std::fwrite(header.data(), 1, header.size(), file) != header.size()) {
        throw pdk::Error(PDK_ERR_UNAVAILABLE, "cannot write " + path + ": " + errnoText(errno));
    }
    rec->dirty_ = true;
    rec->flushFile(false);  // the header is on disk before open_session returns
    return rec;
}

CastRecording::CastRecording(std::FILE* file, std::string path, bool recordInput)
    : file_(file), path_(std::move(path)), recordInput_(recordInput), buffer_(new char[kBufferSize]) {
    std::setvbuf(file_, buffer_.get(), _IOFBF, kBufferSize);
    line_.reserve(256);
}

CastRecording::~CastRecording() {
    std::string rest;
    output_.finish(rest);
    try {
        if (!rest.empty()) writeLine(lastTime_, PDK_RECORDING_OUTPUT, rest);
        rest.clear();
        input_.finish(rest);
        if (!rest.empty() && recordInput_) writeLine(lastTime_, PDK_RECORDING_INPUT, rest);
    } catch (...) {}
    std::fclose(file_);  // flushes; an error here has no one left to tell
}

void CastRecording::write(double seconds, char kind, std::string_view data, uint32_t flags) {
    pdk::checkFlags(flags, PDK_RECORDING_EVENT_FLUSH);
    if (!std::isfinite(seconds) || seconds < lastTime_) seconds = lastTime_;
    std::string utf8;
    switch (kind) {
        case PDK_RECORDING_OUTPUT: output_.feed(data, utf8); break;
        case PDK_RECORDING_INPUT:
            if (!recordInput_) return;  // keystrokes may be passwords: dropped unless asked for
            input_.feed(data, utf8);
            break;
        case PDK_RECORDING_RESIZE:
            if (!validResize(data)) {
                throw pdk::Error(PDK_ERR_INVALID_ARGUMENT,
                                 "resize data must be COLSxROWS, not '" + std::string(data.substr(0, 32)) + "'");
            }
            utf8.assign(data);
            break;
        case PDK_RECORDING_MARKER: utf8 = repairedUtf8(data); break;
        default:
            throw pdk::Error(PDK_ERR_INVALID_ARGUMENT,
                             "unknown event kind " + std::to_string(static_cast<unsigned char>(kind)));
    }
    lastTime_ = seconds;
    // An output piece that was only the start of a character writes nothing yet.
    if (!utf8.empty() || kind == PDK_RECORDING_MARKER) writeLine(seconds, kind, utf8);
    if ((flags & PDK_RECORDING_EVENT_FLUSH) != 0 || seconds - lastFlush_ >= kFlushInterval) flushFile(false);
}

void CastRecording::flush(uint32_t flags) {
    pdk::checkFlags(flags, PDK_RECORDING_FLUSH_SYNC);
    flushFile((flags & PDK_RECORDING_FLUSH_SYNC) != 0);
}

void CastRecording::listSessions(const char* directory, const char* sessionId, uint32_t flags, pdk_session_sink sink,
                                 void* user) {
    listCasts(directory, sessionId, flags, sink, user);
}

void CastRecording::readSession(const char* directory, const char* sessionId, uint32_t flags, pdk_bytes_sink sink,
                                void* user) {
    readCast(directory, sessionId, 0, 0, flags, sink, user);
}

void CastRecording::readSessionRange(const char* directory, const char* sessionId, uint64_t offset, uint64_t maxBytes,
                                     uint32_t flags, pdk_bytes_sink sink, void* user) {
    readCast(directory, sessionId, offset, maxBytes, flags, sink, user);
}

void CastRecording::writeLine(double seconds, char kind, std::string_view utf8) {
    line_.clear();
    line_.push_back('[');
    appendSeconds(line_, seconds);
    line_.append(", \"");
    line_.push_back(kind);
    line_.append("\", ");
    appendJsonString(line_, utf8);
    line_.append("]\n");
    if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size()) {
        throw pdk::Error(PDK_ERR_UNAVAILABLE, "cannot write " + path_ + ": " + errnoText(errno));
    }
    dirty_ = true;
}

void CastRecording::flushFile(bool sync) {
    lastFlush_ = lastTime_;
    if (dirty_ && std::fflush(file_) != 0) {
        throw pdk::Error(PDK_ERR_UNAVAILABLE, "cannot write " + path_ + ": " + errnoText(errno));
    }
    dirty_ = false;
    if (sync && ::fsync(::fileno(file_)) != 0) {
        throw pdk::Error(PDK_ERR_UNAVAILABLE, "cannot sync " + path_ + ": " + errnoText(errno));
    }
}

}  // namespace paddock::asciinema
