#include "run_directory.hpp"

#include <paddock/cpp/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace paddock::ansible {

namespace {

[[noreturn]] void fail(const std::string& what) {
    throw pdk::Error(PDK_ERR_INTERNAL, what + ": " + std::strerror(errno));
}

bool safeForSsh(std::string_view path) {
    for (const char c : path) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
                        c == '.' || c == '_' || c == '+' || c == '-';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

std::string RunDirectory::baseDirectory() {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = tmp != nullptr ? tmp : "";
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    if (base.empty() || base[0] != '/' || !safeForSsh(base)) return "/tmp";
    return base;
}

RunDirectory::RunDirectory() {
    std::string pattern = baseDirectory() + "/paddock-ansible-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) fail("cannot create a run directory in " + baseDirectory());
    path_ = pattern;
}

RunDirectory::~RunDirectory() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    if (!ec) return;
    // Something in it (ansible, a module) made a directory we may not write: open them all up
    // and try again. Never follows a symlink out of the run directory.
    for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0700);
    }
    ::chmod(path_.c_str(), 0700);
    std::filesystem::remove_all(path_, ec);
}

void RunDirectory::writeFile(std::string_view name, std::string_view content) const {
    const std::string path = file(name);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) fail("cannot create " + path);
    size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int saved = errno;
            ::close(fd);
            errno = saved;
            fail("cannot write " + path);
        }
        done += static_cast<size_t>(n);
    }
    if (::close(fd) != 0) fail("cannot write " + path);
}

void RunDirectory::makeDirectory(std::string_view name) const {
    const std::string path = file(name);
    if (::mkdir(path.c_str(), 0700) != 0) fail("cannot create " + path);
}

}  // namespace paddock::ansible
