#include "test_support.hpp"

#include <boost/filesystem.hpp>
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace paddock::test {

std::string commandOutput(const std::string& command) {
    std::string out;
    FILE* p = ::popen(command.c_str(), "r");
    if (p == nullptr) throw std::runtime_error("popen failed: " + command);
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
    return out;
}

bool eventually(const std::function<bool()>& condition, std::chrono::seconds timeout,
                std::chrono::milliseconds interval) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(interval);
    }
    return condition();
}

TempDir::TempDir() {
    namespace fs = boost::filesystem;
    const fs::path p = fs::temp_directory_path() / fs::unique_path("paddock-test-%%%%-%%%%-%%%%");
    fs::create_directories(p);
    path_ = p.string();
}

TempDir::~TempDir() {
    boost::system::error_code ec;
    boost::filesystem::remove_all(path_, ec);
}

uint16_t freeLoopbackPort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        throw std::runtime_error("bind() failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void writeFile(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path);
    out << text;
}

std::string paddockdPath() { return PADDOCKD_PATH; }
std::string pluginDir() { return PADDOCK_PLUGIN_DIR; }
std::string fixturePluginDir() { return PADDOCK_FIXTURE_PLUGIN_DIR; }
std::string sourceDir() { return PADDOCK_SOURCE_DIR; }
std::string binaryDir() { return PADDOCK_BINARY_DIR; }

bool libvirtReachable(const std::string& uri) {
    const std::string cmd = "virsh -c '" + uri + "' version >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

int skipExitCode() { return PADDOCK_SKIP_EXIT_CODE; }

void requireLibvirt(const std::string& uri) {
    if (libvirtReachable(uri)) return;
    const char* allow = std::getenv("PADDOCK_ALLOW_SKIP");
    if (allow != nullptr && std::string(allow) == "1") {
        std::cout.flush();
        std::cerr << uri << " is not reachable and PADDOCK_ALLOW_SKIP=1: skipping this test binary" << std::endl;
        std::fflush(nullptr);
        // Skips every test of the binary: each of them needs `uri`. _Exit, because the Catch
        // session is still running on main's stack.
        std::_Exit(skipExitCode());
    }
    FAIL(uri << " is not reachable (start it with: virtlogd -d; libvirtd -d), or set PADDOCK_ALLOW_SKIP=1 to skip");
}

}  // namespace paddock::test
