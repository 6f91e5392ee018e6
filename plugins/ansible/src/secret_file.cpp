#include "secret_file.hpp"

#include <paddock/cpp/error.hpp>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace paddock::ansible {

SecretFile::SecretFile(std::string_view content) {
    fd_ = ::memfd_create("paddock-ansible-vars", MFD_CLOEXEC);
    if (fd_ < 0) throw pdk::Error(PDK_ERR_INTERNAL, std::string("memfd_create: ") + std::strerror(errno));
    size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd_, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string why = std::strerror(errno);
            ::close(fd_);
            throw pdk::Error(PDK_ERR_INTERNAL, "cannot write the variables memfd: " + why);
        }
        done += static_cast<size_t>(n);
    }
    if (::fchmod(fd_, 0400) != 0 || ::lseek(fd_, 0, SEEK_SET) != 0) {
        const std::string why = std::strerror(errno);
        if (::ftruncate(fd_, 0) != 0) {}  // best effort: the close below frees it anyway
        ::close(fd_);
        throw pdk::Error(PDK_ERR_INTERNAL, "cannot prepare the variables memfd: " + why);
    }
}

SecretFile::~SecretFile() {
    if (fd_ < 0) return;
    if (::ftruncate(fd_, 0) != 0) {}  // nothing better to do: the close frees it when nothing else holds it
    ::close(fd_);
}

}  // namespace paddock::ansible
