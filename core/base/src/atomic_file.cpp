#include "paddock/core/atomic_file.hpp"

#include "paddock/core/ids.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace paddock {

namespace {

Error systemError(const std::string& what, const std::string& path, int err) {
    return makeError(ErrorCode::Unavailable, what + " " + path + ": " + std::strerror(err));
}

std::string directoryOf(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const noexcept { return fd_; }
    // close(2)'s own result: a failed close may be a failed write.
    int close() noexcept { return ::close(std::exchange(fd_, -1)); }

private:
    int fd_;
};

}  // namespace

Status writeFileAtomically(const std::string& path, std::string_view content, mode_t mode) {
    const std::string tmp = path + randomId(".tmp-", 8);
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (fd.get() < 0) return systemError("cannot create", tmp, errno);
    const auto fail = [&](const char* what) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return systemError(what, path, err);
    };
    for (size_t done = 0; done < content.size();) {
        const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail("cannot write");
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return fail("cannot sync");
    if (fd.close() != 0) return fail("cannot write");
    if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("cannot replace");
    // The rename itself is durable only once the directory is.
    const std::string dir = directoryOf(path);
    Fd dirFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dirFd.get() < 0 || ::fsync(dirFd.get()) != 0) return systemError("cannot sync directory", dir, errno);
    return {};
}

Result<std::string> readWholeFile(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) return makeError(ErrorCode::NotFound, path + " does not exist");
        return systemError("cannot open", path, errno);
    }
    std::string out;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return systemError("cannot read", path, errno);
        if (n == 0) return out;
        out.append(buffer, static_cast<size_t>(n));
    }
}

}  // namespace paddock
