#include "host_facts.hpp"

#include "domain_xml.hpp"

#include <paddock/cpp/backend.hpp>

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace paddock::lvq {

namespace {

bool cpuinfoHasVirtualization() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("flags", 0) == 0 &&
            (line.find(" vmx") != std::string::npos || line.find(" svm") != std::string::npos))
            return true;
    }
    return false;
}

}  // namespace

std::string uriScheme(const std::string& uri) {
    const size_t colon = uri.find(':');
    if (colon == std::string::npos) return {};
    std::string scheme = uri.substr(0, colon);
    for (char& ch : scheme) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return scheme;
}

bool uriIsLocal(const std::string& uri) {
    const size_t scheme = uri.find("://");
    return scheme == std::string::npos || uri.compare(scheme + 3, 1, "/") == 0;
}

std::string autoQemuDomainType(const std::string& capsXml, bool hostIsLocal) {
    if (!capsListDomainType(capsXml, "x86_64", "kvm")) return "qemu";
    const bool cpuOk = capsHostHasVirtualization(capsXml) || (hostIsLocal && cpuinfoHasVirtualization());
    return cpuOk ? "kvm" : "qemu";
}

void describeUnpooledFile(const std::string& file, bool hostIsLocal, pdk_volume_info& out) {
    if (!hostIsLocal)
        throw pdk::Error(PDK_ERR_NOT_FOUND, "no storage pool on the remote host holds " + file +
                                                " (only storage volumes can be checked there: put the file in a "
                                                "pool and refresh it)");
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) {
        const int error = errno;
        throw pdk::Error(PDK_ERR_NOT_FOUND,
                         file + " is not on this host (" + std::strerror(error) + "), and no storage pool holds it");
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        throw pdk::Error(PDK_ERR_NOT_FOUND, file + " is not a file, and no storage pool holds it");
    out.in_pool = 0;
    std::ifstream in(file, std::ios::binary);
    char magic[4] = {};
    const bool qcow2 = in.read(magic, sizeof magic) && std::memcmp(magic, "QFI\xfb", 4) == 0;
    std::snprintf(out.format, sizeof out.format, "%s", qcow2 ? "qcow2" : "raw");
}

}  // namespace paddock::lvq
