#include "cast_store.hpp"

#include "cast_json.hpp"

#include <paddock/cpp/error.hpp>

#include <rapidjson/document.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace paddock::asciinema {

namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr size_t kTailBytes = 64 * 1024;
constexpr size_t kChunkBytes = 64 * 1024;
constexpr std::string_view kSuffix = ".cast";

// An open file descriptor, closed on every path out.
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const noexcept { return fd_; }

private:
    int fd_;
};

std::string directoryOf(const char* directory) {
    std::string dir = directory;
    if (dir.empty()) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "no recording directory given");
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return dir;
}

void requireSessionId(const char* id) {
    if (!validSessionId(id)) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, std::string("invalid session id '") + id + "'");
}

// A header's string member, as valid UTF-8: a cast written by another program may hold any bytes,
// and the host gets UTF-8 only (repaired as the writer repairs what it writes).
std::string member(const rapidjson::Value& obj, const char* key) {
    const auto it = obj.FindMember(key);
    return it != obj.MemberEnd() && it->value.IsString()
               ? repairedUtf8({it->value.GetString(), it->value.GetStringLength()})
               : std::string();
}

// Reads up to `n` bytes at `offset` (fewer at the end of the file).
std::string readAt(int fd, uint64_t offset, size_t n) {
    std::string out(n, '\0');
    size_t got = 0;
    while (got < n) {
        const ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += static_cast<size_t>(r);
    }
    out.resize(got);
    return out;
}

// The time of the last complete event line in the final kTailBytes of the file.
double lastEventTime(int fd, uint64_t size) {
    const uint64_t from = size > kTailBytes ? size - kTailBytes : 0;
    const std::string tail = readAt(fd, from, static_cast<size_t>(size - from));
    size_t end = tail.rfind('\n');
    while (end != std::string::npos && end > 0) {
        const size_t start = tail.rfind('\n', end - 1);
        const size_t lineStart = start == std::string::npos ? 0 : start + 1;
        if (start == std::string::npos && from > 0) break;  // the line began before the tail
        const std::string_view line(tail.data() + lineStart, end - lineStart);
        if (!line.empty() && line.front() == '[') {
            // The whole number up to the comma, however many digits cast_json.cpp wrote.
            const std::string number(line.substr(1, line.find(',') - 1));
            char* parsed = nullptr;
            const double t = std::strtod(number.c_str(), &parsed);
            if (parsed != number.c_str() && t >= 0) return t;
        }
        if (start == std::string::npos) break;
        end = start;
    }
    return 0;
}

// Opens <dir>/<id>.cast for reading: a regular file, never through a symbolic link. -1 (errno
// set) when there is none.
int openCast(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) return -1;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        errno = ENOENT;
        return -1;
    }
    return fd;
}

// Describes one cast to the sink. False when the file is not an asciicast v2 recording.
bool describeCast(const std::string& path, const std::string& id, pdk_session_sink sink, void* user) {
    const int raw = openCast(path);
    if (raw < 0) return false;
    const Fd fd(raw);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return false;
    const auto size = static_cast<uint64_t>(st.st_size);
    const std::string head = readAt(fd.get(), 0, static_cast<size_t>(std::min<uint64_t>(size, kMaxHeaderBytes)));
    const size_t newline = head.find('\n');
    if (newline == std::string::npos) return false;
    rapidjson::Document doc;
    doc.Parse(head.data(), newline);
    if (doc.HasParseError() || !doc.IsObject()) return false;
    // Read through a const reference: comparing a const MemberIterator with a non-const one is
    // ambiguous under C++20's reversed operators (clang warns, -Wambiguous-reversed-operator).
    const rapidjson::Value& header = doc;
    const auto version = header.FindMember("version");
    if (version == header.MemberEnd() || !version->value.IsInt() || version->value.GetInt() != 2) return false;

    const std::string site = member(header, "site"), vm = member(header, "vm"), owner = member(header, "owner"),
                      lease = member(header, "lease");
    pdk_session_info info{};
    info.struct_size = sizeof info;
    info.session_id = id.c_str();
    info.site = site.c_str();
    info.vm = vm.c_str();
    info.owner = owner.c_str();
    info.lease = lease.c_str();
    const auto ts = header.FindMember("timestamp");
    if (ts != header.MemberEnd() && ts->value.IsNumber())
        info.start_timestamp = static_cast<int64_t>(ts->value.GetDouble());
    info.duration_seconds = lastEventTime(fd.get(), size);
    info.size_bytes = size;
    info.media_type = kCastMediaType;
    info.format = kCastFormat;
    info.file_extension = kCastExtension;
    info.location = path.c_str();
    sink(user, &info);
    return true;
}

}  // namespace

bool validSessionId(std::string_view id) noexcept {
    if (id.empty() || id.size() > 128 || id.front() == '.') return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.';
    });
}

void listCasts(const char* directory, const char* sessionId, uint32_t flags, pdk_session_sink sink, void* user) {
    pdk::checkFlags(flags, 0);
    const std::string dir = directoryOf(directory);
    if (sessionId != nullptr) {
        requireSessionId(sessionId);
        const std::string id = sessionId;
        if (!describeCast(dir + "/" + id + std::string(kSuffix), id, sink, user)) {
            throw pdk::Error(PDK_ERR_NOT_FOUND, "no recording of session '" + id + "' in " + dir);
        }
        return;
    }
    DIR* handle = ::opendir(dir.c_str());
    if (handle == nullptr) {
        if (errno == ENOENT) return;  // nothing recorded there yet
        throw pdk::Error(PDK_ERR_UNAVAILABLE, "cannot read recording directory " + dir + ": " + std::strerror(errno));
    }
    const std::unique_ptr<DIR, int (*)(DIR*)> closer(handle, &::closedir);
    while (const dirent* entry = ::readdir(handle)) {
        const std::string_view name = entry->d_name;
        if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) continue;
        const std::string id(name.substr(0, name.size() - kSuffix.size()));
        if (!validSessionId(id)) continue;
        (void)describeCast(dir + "/" + std::string(name), id, sink, user);  // not a cast: skipped
    }
}

void readCast(const char* directory, const char* sessionId, uint64_t offset, uint64_t maxBytes, uint32_t flags,
              pdk_bytes_sink sink, void* user) {
    pdk::checkFlags(flags, 0);
    const std::string dir = directoryOf(directory);
    requireSessionId(sessionId);
    const std::string path = dir + "/" + sessionId + std::string(kSuffix);
    const int raw = openCast(path);
    if (raw < 0) {
        const int e = errno;
        if (e == ENOENT || e == ELOOP || e == ENOTDIR) {
            throw pdk::Error(PDK_ERR_NOT_FOUND, std::string("no recording of session '") + sessionId + "' in " + dir);
        }
        throw pdk::Error(PDK_ERR_UNAVAILABLE, "cannot open " + path + ": " + std::strerror(e));
    }
    const Fd fd(raw);
    std::unique_ptr<char[]> chunk(new char[kChunkBytes]);
    uint64_t left = maxBytes == 0 ? UINT64_MAX : maxBytes;
    // pread: the position is ours alone, and an offset past the end simply reads nothing. No file
    // reaches the top of off_t, where pread itself would fail on the overflow.
    constexpr uint64_t kLastOffset = static_cast<uint64_t>(INT64_MAX) - kChunkBytes;
    for (uint64_t at = offset; left > 0 && at <= kLastOffset;) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunkBytes, left));
        const ssize_t n = ::pread(fd.get(), chunk.get(), want, static_cast<off_t>(at));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw pdk::Error(PDK_ERR_UNAVAILABLE, "cannot read " + path + ": " + std::strerror(errno));
        if (n == 0) return;
        if (sink(user, chunk.get(), static_cast<size_t>(n)) != 0) return;  // the caller has enough
        at += static_cast<uint64_t>(n);
        left -= static_cast<uint64_t>(n);
    }
}

}  // namespace paddock::asciinema
