#include "sshd_fixture.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace paddock::test {

namespace {

void run(const std::string& command) {
    if (std::system(command.c_str()) != 0) throw std::runtime_error("command failed: " + command);
}

bool portAnswers(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

// The processes whose parent is `parent` (from /proc/<pid>/stat).
std::vector<pid_t> childrenOf(pid_t parent) {
    std::vector<pid_t> children;
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return children;
    while (const dirent* entry = ::readdir(proc)) {
        const std::string name = entry->d_name;
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in("/proc/" + name + "/stat");
        std::string stat;
        if (!std::getline(in, stat)) continue;  // gone meanwhile
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses; the last ')' ends it.
        const auto close = stat.rfind(')');
        if (close == std::string::npos) continue;
        char state = 0;
        int ppid = 0;
        if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) == 2 && ppid == parent)
            children.push_back(static_cast<pid_t>(std::stoi(name)));
    }
    ::closedir(proc);
    return children;
}

}  // namespace

SshdFixture::SshdFixture(uint16_t port, std::string extraConfig)
    : extraConfig_(std::move(extraConfig)), fixedPort_(port) {
    ::mkdir("/run/sshd", 0755);  // sshd's privilege-separation directory
    run("ssh-keygen -q -t ed25519 -N '' -f " + dir_.file("host_key"));
    run("ssh-keygen -q -t ed25519 -N '' -f " + dir_.file("client_key"));
    run("cp " + dir_.file("client_key.pub") + " " + dir_.file("authorized_keys"));
    start();
}

SshdFixture::~SshdFixture() { stop(); }

std::string SshdFixture::currentUser() {
    const passwd* pw = ::getpwuid(::getuid());
    return pw != nullptr ? pw->pw_name : "root";
}

std::string SshdFixture::hostKeyFingerprint() const {
    const std::string line = commandOutput("ssh-keygen -l -E sha256 -f " + dir_.file("host_key.pub"));
    const auto start = line.find("SHA256:");
    if (start == std::string::npos) throw std::runtime_error("cannot read host key fingerprint");
    return line.substr(start, line.find(' ', start) - start);
}

std::string SshdFixture::knownHostsLine() const {
    const std::string pub = readFile(dir_.file("host_key.pub"));  // "<type> <base64> <comment>"
    const auto type = pub.find(' ');
    const auto key = type == std::string::npos ? std::string::npos : pub.find_first_of(" \n", type + 1);
    if (key == std::string::npos) throw std::runtime_error("cannot read the host public key");
    return "[127.0.0.1]:" + std::to_string(port_) + " " + pub.substr(0, key);
}

void SshdFixture::rotateHostKey() {
    stop();
    run("rm -f " + dir_.file("host_key") + " " + dir_.file("host_key.pub"));
    run("ssh-keygen -q -t ed25519 -N '' -f " + dir_.file("host_key"));
    start();
}

void SshdFixture::authorize(const std::string& publicKeyPath) {
    run("cat " + publicKeyPath + " >> " + dir_.file("authorized_keys"));
}

void SshdFixture::authorizeForAllUsers() {
    ::chmod(dir_.path().c_str(), 0755);
    ::chmod(dir_.file("authorized_keys").c_str(), 0644);
}

void SshdFixture::start() {
    if (pid_ > 0) return;
    port_ = fixedPort_ != 0 ? fixedPort_ : freeLoopbackPort();
    writeFile(dir_.file("sshd_config"),
              extraConfig_ + "Port " + std::to_string(port_) + "\nListenAddress 127.0.0.1\nHostKey " +
                  dir_.file("host_key") + "\nAuthorizedKeysFile " + dir_.file("authorized_keys") +
                  "\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
                  "StrictModes no\nUsePAM no\nUseDNS no\nPrintMotd no\nPrintLastLog no\nPidFile none\n"
                  "Subsystem sftp internal-sftp\nMaxSessions 200\nMaxStartups 200\n");
    pid_ = ::fork();
    if (pid_ == 0) {
        const std::string cfg = dir_.file("sshd_config");
        const std::string log = dir_.file("sshd.log");
        ::execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f", cfg.c_str(), "-E", log.c_str(),
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    for (int i = 0; i < 100; ++i) {
        if (portAnswers(port_)) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop();
    throw std::runtime_error("sshd did not start on port " + std::to_string(port_));
}

void SshdFixture::disconnect() {
    if (pid_ <= 0) return;
    // Stopped first, the listener forks no new session while its children are looked up. Each
    // session leads its own process group (sshd calls setsid), holding the privileged monitor and
    // the user's process: killing the group closes the client's connection.
    ::kill(pid_, SIGSTOP);
    for (const pid_t session : childrenOf(pid_)) {
        ::kill(-session, SIGKILL);
        ::kill(session, SIGKILL);  // one forked a moment ago may not lead its group yet
    }
    ::kill(pid_, SIGCONT);
    stop();
}

void SshdFixture::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 50; ++i) {
        if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

}  // namespace paddock::test
