#include "host_facts.hpp"

#include "domain_xml.hpp"

#include <cctype>
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

}  // namespace paddock::lvq
