#include "remote_host_fixture.hpp"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace paddock::test {

namespace {

void run(const std::string& command) {
    if (std::system(command.c_str()) != 0) throw std::runtime_error("command failed: " + command);
}

// `text` as one single-quoted shell word.
std::string shellQuoted(const std::string& text) {
    std::string out = "'";
    for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
        const auto start = line.find_first_not_of(' ');
        if (start != std::string::npos) out.push_back(line.substr(start));
    }
    return out;
}

bool alive(pid_t pid) {
    if (::kill(pid, 0) != 0) return false;
    // A zombie no longer runs (whoever adopted it reaps it, or not: this machine's init may not).
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(in, stat)) return false;
    const auto close = stat.rfind(')');
    return close == std::string::npos || stat.compare(close, 4, ") Z ") != 0;
}

}  // namespace

RemoteHostFixture::RemoteHostFixture(std::string prefix, std::string user)
    : prefix_(std::move(prefix)),
      user_(std::move(user)),
      sshd_(freeLoopbackPort(),
            "AllowUsers " + user_ + "\nPermitRootLogin no\nSetEnv XDG_CONFIG_HOME=" + configHome() + "\n") {
    if (prefix_.empty()) throw std::invalid_argument("RemoteHostFixture needs a name prefix");
    ensureUser();
    run("install -d -o " + shellQuoted(user_) + " -m 0700 " + configHome());
    // A daemon started with another configuration directory (by hand, or before the fixture set
    // one) would keep the long socket paths: it goes, the next client starts the right one.
    if (const pid_t pid = daemonPid(); pid > 0) {
        std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
        const std::string environ((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (environ.find(std::string("XDG_CONFIG_HOME=") + configHome() + '\0') == std::string::npos) killDaemon();
    }
    // sshd reads AuthorizedKeysFile as the user logging in.
    sshd_.authorizeForAllUsers();
    writeFile(knownHosts(), sshd_.knownHostsLine() + "\n");
    ensurePool(overlayPool(), home_ + "/pool");
    ensurePool(basePool(), home_ + "/base");
}

RemoteHostFixture::~RemoteHostFixture() {
    try {
        sweep();
    } catch (const std::exception&) {
        // Destructors do not throw; the next run's sweep of the same prefix catches up.
    }
}

void RemoteHostFixture::ensureUser() {
    if (::getpwnam(user_.c_str()) == nullptr) run("useradd -m -s /bin/bash " + shellQuoted(user_));
    const passwd* pw = ::getpwnam(user_.c_str());
    if (pw == nullptr) throw std::runtime_error("no user " + user_ + " after useradd");
    home_ = pw->pw_dir;
    // useradd leaves the account locked ('!'), and without PAM sshd refuses locked accounts
    // even with a key; '*' is "no password" without the lock.
    const std::string shadow = commandOutput("getent shadow " + shellQuoted(user_) + " | cut -d: -f2");
    if (!shadow.empty() && shadow.front() == '!') run("usermod -p '*' " + shellQuoted(user_));
}

void RemoteHostFixture::ensurePool(const std::string& name, const std::string& directory) {
    if (asUser("virsh -q -c qemu:///session pool-info " + shellQuoted(name) + " >/dev/null 2>&1 && echo yes") !=
        "yes\n") {
        asUser("virsh -q -c qemu:///session pool-define-as " + shellQuoted(name) + " dir --target " +
               shellQuoted(directory) + " >/dev/null");
        asUser("virsh -q -c qemu:///session pool-autostart " + shellQuoted(name) + " >/dev/null");
    }
    asUser("mkdir -p " + shellQuoted(directory));
    if (asUser("virsh -q -c qemu:///session pool-info " + shellQuoted(name)).find("running") == std::string::npos)
        asUser("virsh -q -c qemu:///session pool-start " + shellQuoted(name) + " >/dev/null");
    if (asUser("virsh -q -c qemu:///session pool-info " + shellQuoted(name)).find("running") == std::string::npos)
        throw std::runtime_error("storage pool " + name + " of " + user_ + " does not run");
}

std::string RemoteHostFixture::asUser(const std::string& command) const {
    return commandOutput("runuser -u " + shellQuoted(user_) + " -- env -i HOME=" + shellQuoted(home_) +
                         " USER=" + shellQuoted(user_) + " XDG_CONFIG_HOME=" + configHome() +
                         " PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C /bin/sh -c " + shellQuoted(command));
}

std::string RemoteHostFixture::uri(const std::string& transport) const {
    return "qemu+" + transport + "://" + user_ + "@127.0.0.1:" + std::to_string(sshPort()) + "/session";
}

std::string RemoteHostFixture::uriWithKeys(const std::string& transport) const {
    return uri(transport) + "?keyfile=" + sshKey() + "&known_hosts=" + knownHosts() + "&sshauth=privkey";
}

std::string RemoteHostFixture::provide(const std::string& path) {
    const std::string target = home_ + "/base/" + std::filesystem::path(path).filename().string();
    // Root may link a file it does not own (fs.protected_hardlinks lets CAP_FOWNER through).
    if (std::system(("ln -f " + shellQuoted(path) + " " + shellQuoted(target) + " 2>/dev/null").c_str()) != 0 ||
        asUser("test -r " + shellQuoted(target) + " && echo yes") != "yes\n") {
        run("rm -f " + shellQuoted(target) + " && cp " + shellQuoted(path) + " " + shellQuoted(target) + " && chown " +
            shellQuoted(user_) + ": " + shellQuoted(target) + " && chmod 0444 " + shellQuoted(target));
    }
    virsh("pool-refresh " + shellQuoted(basePool()) + " >/dev/null");
    return target;
}

std::string RemoteHostFixture::virsh(const std::string& args) const {
    return asUser("virsh -q -c qemu:///session " + args);
}

std::vector<std::string> RemoteHostFixture::domains() const {
    std::vector<std::string> names;
    for (const auto& name : lines(virsh("list --all --name")))
        if (name.rfind(prefix_, 0) == 0) names.push_back(name);
    return names;
}

std::vector<std::string> RemoteHostFixture::volumes() const {
    std::vector<std::string> names;
    for (const auto& line : lines(virsh("vol-list " + shellQuoted(overlayPool())))) {
        const std::string name = line.substr(0, line.find(' '));
        if (name.rfind(prefix_, 0) == 0) names.push_back(name);
    }
    return names;
}

pid_t RemoteHostFixture::daemonPid() const {
    const std::string pidFile = home_ + "/.cache/libvirt/libvirtd.pid";
    if (!std::filesystem::exists(pidFile)) return -1;
    const std::string text = readFile(pidFile);
    const pid_t pid = static_cast<pid_t>(std::atoi(text.c_str()));
    return pid > 0 && alive(pid) ? pid : -1;
}

void RemoteHostFixture::killDaemon() {
    const pid_t pid = daemonPid();
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    for (int i = 0; i < 200 && alive(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    if (alive(pid)) throw std::runtime_error("the session daemon of " + user_ + " outlived SIGKILL");
}

void RemoteHostFixture::sweep() {
    for (const auto& name : domains()) {
        virsh("destroy " + shellQuoted(name) + " >/dev/null 2>&1");
        virsh("undefine " + shellQuoted(name) +
              " --managed-save --snapshots-metadata --checkpoints-metadata --remove-all-storage >/dev/null 2>&1");
    }
    for (const auto& volume : volumes())
        virsh("vol-delete --pool " + shellQuoted(overlayPool()) + " " + shellQuoted(volume) + " >/dev/null 2>&1");
    // QEMU's logs of the domains, also of those paddockd deleted.
    asUser("rm -f " + shellQuoted(home_ + "/.cache/libvirt/qemu/log/" + prefix_) + "*.log");
}

}  // namespace paddock::test
