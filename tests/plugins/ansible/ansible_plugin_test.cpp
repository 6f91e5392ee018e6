// org.paddock.ansible through its ABI: the built paddock_ansible.so loaded with dlopen, its
// vtable called as a host would, against a real private sshd (tests/support/sshd_fixture) and
// the real ansible-playbook. The become cases need root (a local user, sudoers) and skip
// without it.
#include "scoped_tmpdir.hpp"

#include <secret_scan.hpp>
#include <sshd_fixture.hpp>
#include <test_support.hpp>

#include <paddock/pdk_provisioner.h>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using paddock::test::SshdFixture;
using paddock::test::TempDir;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kData = ANSIBLE_TEST_DATA_DIR;
constexpr const char* kBecomeUser = "paddock-become-test";

const pdk_plugin_descriptor& descriptor() {
    static const pdk_plugin_descriptor* d = [] {
        const std::string path = paddock::test::pluginDir() + "/paddock_ansible.so";
        void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (h == nullptr) throw std::runtime_error(std::string("dlopen failed: ") + ::dlerror());
        auto entry = reinterpret_cast<pdk_plugin_entry_fn>(::dlsym(h, PDK_PLUGIN_ENTRY_SYMBOL));
        if (entry == nullptr) throw std::runtime_error("pdk_plugin_entry missing");
        return entry();
    }();
    return *d;
}

const pdk_provisioner_vtable& vt() { return *static_cast<const pdk_provisioner_vtable*>(descriptor().vtable); }

// One sshd for the whole binary (starting one costs a moment); it logs in as the current user.
SshdFixture& sshd() {
    static SshdFixture fixture;
    return fixture;
}

std::string randomToken(size_t n) {
    static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    std::random_device rd;
    std::string s;
    for (size_t i = 0; i < n; ++i) s += alphabet[rd() % (sizeof alphabet - 1)];
    return s;
}

struct OutputLine {
    int stream;
    std::string text;
    Clock::time_point at;
};

// Everything one run needs and what came back.
struct Run {
    std::string vm = "vm1";
    std::string host = "127.0.0.1";
    uint16_t port = 0;
    std::string user;
    std::string key;
    std::string knownHosts;
    std::string recipe;
    std::string variables;  // empty: NULL
    std::vector<std::pair<std::string, std::string>> settings;
    std::string secret;  // empty: none
    uint32_t timeoutMs = 180000;
    uint32_t flags = 0;
    std::function<bool()> cancelWhen;  // empty: no is_cancelled

    // Results.
    pdk_status status = PDK_OK;
    std::string message;
    pdk_provision_result result{};
    std::vector<OutputLine> lines;
    double seconds = 0;
    Clock::time_point returnedAt;

    Run() {
        port = sshd().port();
        user = SshdFixture::currentUser();
        key = sshd().clientKey();
        knownHosts = sshd().knownHostsLine();
    }

    pdk_status go() {
        std::vector<pdk_kv> kv;
        for (const auto& [k, v] : settings) kv.push_back({k.c_str(), v.c_str()});
        pdk_provision_request r{};
        r.struct_size = sizeof r;
        r.site = "local";
        r.vm = vm.c_str();
        r.host = host.c_str();
        r.port = port;
        r.user = user.c_str();
        r.private_key_path = key.c_str();
        r.known_hosts_line = knownHosts.c_str();
        r.recipe = recipe.c_str();
        r.variables_json = variables.empty() ? nullptr : variables.c_str();
        r.settings = kv.empty() ? nullptr : kv.data();
        r.setting_count = kv.size();
        r.become_secret = secret.empty() ? nullptr : reinterpret_cast<const unsigned char*>(secret.data());
        r.become_secret_len = secret.size();
        r.timeout_ms = timeoutMs;
        r.output = [](void* user, int stream, const char* line, size_t len) {
            auto* self = static_cast<Run*>(user);
            self->lines.push_back({stream, std::string(line, len), Clock::now()});
        };
        r.output_user = this;
        if (cancelWhen) {
            r.is_cancelled = [](void* user) { return static_cast<Run*>(user)->cancelWhen() ? 1 : 0; };
            r.cancel_user = this;
        }
        pdk_error err{};
        err.struct_size = sizeof err;
        result = pdk_provision_result{};
        result.struct_size = sizeof result;
        lines.clear();
        const auto t0 = Clock::now();
        status = vt().run(&r, flags, &result, &err);
        returnedAt = Clock::now();
        seconds = std::chrono::duration<double>(returnedAt - t0).count();
        message = status == PDK_OK ? std::string() : std::string(err.message);
        return status;
    }

    std::string output() const {
        std::string all;
        for (const OutputLine& l : lines) all += l.text + "\n";
        return all;
    }
};

// Shown when a CHECK fails: what the run said.
#define RUN_INFO(run) INFO("status " << (run).status << ": " << (run).message << "\n" << (run).output())

// What a /proc file holds now; "" when the process is gone (a read of an exiting process's file
// fails with ESRCH, which std::ifstream turns into an exception).
std::string readProc(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    std::string s;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) s.append(buffer, static_cast<size_t>(n));
    ::close(fd);
    return n < 0 ? std::string() : s;
}

struct ProcInfo {
    char state = '?';
    long pgrp = 0, session = 0;
};

bool procStat(const std::string& pid, ProcInfo& out) {
    const std::string stat = readProc("/proc/" + pid + "/stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) return false;
    long ppid = 0;
    return std::sscanf(stat.c_str() + close + 1, " %c %ld %ld %ld", &out.state, &ppid, &out.pgrp, &out.session) == 4;
}

std::vector<std::string> pids() {
    std::vector<std::string> out;
    DIR* d = ::opendir("/proc");
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) out.push_back(name);
    }
    ::closedir(d);
    return out;
}

// Watches a run while it goes on: the sessions of the processes whose command line holds
// `runMark` (only the run's ansible-playbook has it), whether a process with `marker` on its
// command line appeared, and, given a directory and a secret, the files under it that held the
// secret at any moment. (secret_scan.hpp's ProcessScanner looks at command lines and environments.)
class RunWatch {
public:
    explicit RunWatch(std::string runMark, std::string marker = {}, std::string directory = {},
                      std::string secret = {})
        : runMark_(std::move(runMark)),
          marker_(std::move(marker)),
          directory_(std::move(directory)),
          secret_(std::move(secret)) {
        thread_ = std::thread([this] {
            while (!stop_) {
                scan();
                std::this_thread::sleep_for(std::chrono::milliseconds(25));
            }
        });
    }
    ~RunWatch() { stop(); }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }

    std::atomic<bool> markerSeen{false};
    std::atomic<int> directoryScans{0};  // scans that found files under `directory`
    std::set<long> sessions() {
        std::lock_guard lock(mutex_);
        return sessions_;
    }
    std::set<std::string> filesWithSecret() {
        std::lock_guard lock(mutex_);
        return filesWithSecret_;
    }

private:
    void scan() {
        for (const std::string& pid : pids()) {
            const std::string cmdline = readProc("/proc/" + pid + "/cmdline");
            if (!marker_.empty() && cmdline.find(marker_) != std::string::npos) markerSeen = true;
            ProcInfo info;
            if (cmdline.find(runMark_) != std::string::npos && procStat(pid, info)) {
                std::lock_guard lock(mutex_);
                sessions_.insert(info.session);
            }
        }
        if (directory_.empty()) return;
        std::error_code ec;
        if (std::filesystem::recursive_directory_iterator(directory_, ec) != std::filesystem::recursive_directory_iterator()) {
            ++directoryScans;
        }
        for (const std::string& file : paddock::test::filesContaining(directory_, secret_)) {
            std::lock_guard lock(mutex_);
            filesWithSecret_.insert(file);
        }
    }

    std::string runMark_, marker_, directory_, secret_;
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::set<long> sessions_;
    std::set<std::string> filesWithSecret_;
    std::thread thread_;
};

// Live processes left in one of `sessions`, or with `needle` on their command line.
std::vector<std::string> leftovers(const std::set<long>& sessions, const std::string& needle) {
    std::vector<std::string> left;
    for (const std::string& pid : pids()) {
        ProcInfo info;
        if (!procStat(pid, info) || info.state == 'Z') continue;
        const std::string cmdline = readProc("/proc/" + pid + "/cmdline");
        if (sessions.count(info.session) != 0 || sessions.count(info.pgrp) != 0 ||
            (!needle.empty() && cmdline.find(needle) != std::string::npos)) {
            left.push_back(pid + " " + cmdline);
        }
    }
    return left;
}

// A copy of a data playbook under a unique name, so its path marks this run's processes.
std::string uniquePlaybook(const TempDir& dir, const std::string& name) {
    const std::string path = dir.file("run-" + randomToken(10) + "-" + name);
    std::filesystem::copy_file(kData + "/" + name, path);
    return path;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

TEST_CASE("the ansible plugin describes itself", "[ansible][plugin]") {
    const pdk_plugin_descriptor& d = descriptor();
    CHECK(d.abi_major == PDK_ABI_VERSION_MAJOR);
    CHECK(d.kind == PDK_PLUGIN_KIND_PROVISIONER);
    CHECK(std::string(d.id) == "org.paddock.ansible");
    std::set<std::string> caps;
    for (const char* const* c = d.capabilities; *c != nullptr; ++c) caps.insert(*c);
    CHECK(caps == std::set<std::string>{"ansible-playbook", "become-password", "cancel", "timeout"});
    REQUIRE(d.vtable != nullptr);
    CHECK(vt().struct_size >= PDK_PROVISIONER_VTABLE_SIZE_1_6);
    CHECK(vt().run != nullptr);
    CHECK(vt().check != nullptr);
}

TEST_CASE("check finds ansible-playbook and checks a playbook's syntax", "[ansible][plugin]") {
    pdk_error err{};
    err.struct_size = sizeof err;
    char version[128] = "";
    REQUIRE(vt().check(nullptr, 0, nullptr, 0, version, sizeof version, &err) == PDK_OK);
    CHECK_THAT(std::string(version), StartsWith("ansible-playbook [core "));
    CHECK(vt().check(nullptr, 0, (kData + "/site.yml").c_str(), 0, nullptr, 0, &err) == PDK_OK);
    CHECK(vt().check(nullptr, 0, (kData + "/bad_syntax.yml").c_str(), 0, nullptr, 0, &err) ==
          PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().check(nullptr, 0, (kData + "/missing.yml").c_str(), 0, nullptr, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(err.message, Contains("could not be found"));
    const pdk_kv missing[] = {{"command", "/nonexistent/ansible-playbook"}};
    CHECK(vt().check(missing, 1, nullptr, 0, version, sizeof version, &err) == PDK_ERR_UNAVAILABLE);
    CHECK_THAT(err.message, Contains("not found (install the ansible package"));
    const pdk_kv unknown[] = {{"inventory", "x"}};
    CHECK(vt().check(unknown, 1, nullptr, 0, version, sizeof version, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().check(nullptr, 0, nullptr, 1, version, sizeof version, &err) == PDK_ERR_BAD_FLAGS);
}

TEST_CASE("a playbook runs, streams its output, counts its tasks and is idempotent", "[ansible][plugin]") {
    TempDir dir;
    Run run;
    run.recipe = kData + "/site.yml";
    run.variables = R"({"dest": ")" + dir.file("greeting.txt") + R"(", "greeting": "hi \"there\""})";
    run.go();
    {
        RUN_INFO(run);
        REQUIRE(run.status == PDK_OK);
        CHECK(run.result.exit_code == 0);
        CHECK(run.result.ok == 3);
        CHECK(run.result.changed == 1);
        CHECK(run.result.failed == 0);
        CHECK(run.result.unreachable == 0);
        CHECK(run.result.skipped == 1);
        CHECK(run.result.duration_seconds > 0);
        CHECK(run.result.duration_seconds <= run.seconds + 0.01);
        CHECK(paddock::test::readFile(dir.file("greeting.txt")) == "hi \"there\" from vm1\n");
        CHECK(contains(run.output(), "hello from vm1: hi \\\"there\\\""));
        // Streamed: lines came as the run went on, not all at the end (the playbook sleeps 1 s).
        REQUIRE(run.lines.size() > 5);
        CHECK(run.returnedAt - run.lines.front().at > std::chrono::milliseconds(800));
        for (const OutputLine& l : run.lines) CHECK((l.stream == PDK_PROVISION_STDOUT || l.stream == PDK_PROVISION_STDERR));
    }
    run.go();
    RUN_INFO(run);
    REQUIRE(run.status == PDK_OK);
    CHECK(run.result.changed == 0);
    CHECK(run.result.ok == 3);
}

TEST_CASE("a run's tasks share one ssh master connection, which ends with the run", "[ansible][plugin]") {
    Run run;  // its sshd is started before TMPDIR changes
    TempDir tmp;
    const ScopedTmpdir tmpdir(tmp.path());  // the run directory, and so the master's socket, are in there
    TempDir dir;
    run.recipe = kData + "/site.yml";
    run.variables = R"({"dest": ")" + dir.file("greeting.txt") + R"(", "greeting": "shared"})";
    // The master renames itself "ssh: <ControlPath> [mux]" (and leaves the run's session).
    RunWatch watch(tmp.path() + "/paddock-ansible-");
    run.go();
    watch.stop();
    RUN_INFO(run);
    REQUIRE(run.status == PDK_OK);
    CHECK(run.result.ok == 3);
    CHECK_FALSE(watch.sessions().empty());  // a master was there during the run
    // `ssh -O exit` returns once the master has agreed to go; give it a moment to be gone.
    std::vector<std::string> left;
    for (int i = 0; i < 50; ++i) {
        left = leftovers(watch.sessions(), tmp.path() + "/paddock-ansible-");
        if (left.empty()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const std::string firstLeft = left.empty() ? std::string() : left.front();
    INFO(firstLeft);
    CHECK(left.empty());  // and is gone now
}

TEST_CASE("a host key other than the pinned one is refused", "[ansible][plugin]") {
    TempDir dir;
    REQUIRE(std::system(("ssh-keygen -q -t ed25519 -N '' -f " + dir.file("other")).c_str()) == 0);
    const std::string pub = paddock::test::readFile(dir.file("other.pub"));
    Run run;
    run.recipe = kData + "/site.yml";
    run.variables = R"({"dest": ")" + dir.file("never.txt") + R"(", "greeting": "x"})";
    run.knownHosts = "[127.0.0.1]:" + std::to_string(run.port) + " " + pub.substr(0, pub.find(' ', pub.find(' ') + 1));
    run.go();
    RUN_INFO(run);
    CHECK(run.status == PDK_ERR_UNAVAILABLE);
    CHECK_THAT(lower(run.message), Contains("host key verification failed"));
    CHECK(run.result.unreachable == 1);
    CHECK_FALSE(std::filesystem::exists(dir.file("never.txt")));
}

TEST_CASE("nothing listening on the port: unavailable, quickly", "[ansible][plugin]") {
    Run run;
    run.port = paddock::test::freeLoopbackPort();
    run.recipe = kData + "/site.yml";
    run.variables = R"({"dest": "/nonexistent/x", "greeting": "x"})";
    run.go();
    RUN_INFO(run);
    CHECK(run.status == PDK_ERR_UNAVAILABLE);
    CHECK_THAT(run.message, Contains("Connection refused"));
    CHECK(run.seconds < 20);
}

TEST_CASE("bad settings, requests and playbooks are refused with a clear message", "[ansible][plugin]") {
    Run base;
    base.recipe = kData + "/site.yml";
    const auto attempt = [&](const std::function<void(Run&)>& change) {
        Run r = base;
        change(r);
        r.go();
        return r;
    };
    Run r = attempt([](Run& x) { x.settings = {{"command", "/nonexistent/ansible-playbook"}}; });
    CHECK(r.status == PDK_ERR_UNAVAILABLE);
    CHECK(r.message == "/nonexistent/ansible-playbook not found (install the ansible package, or set "
                       "provisioning.settings.command)");
    CHECK(r.result.exit_code == -1);
    r = attempt([](Run& x) {
        x.settings = {{"command", "ansible-playbook-not-here"}};
    });
    CHECK(r.status == PDK_ERR_UNAVAILABLE);
    r = attempt([](Run& x) { x.settings = {{"forks", "10"}}; });
    CHECK(r.status == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(r.message, Contains("\"forks\""));
    r = attempt([](Run& x) { x.recipe = kData + "/missing.yml"; });
    CHECK(r.status == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(r.message, Contains("could not be found"));
    for (const char* vars : {"[1, 2]", "{\"a\": ", "\"text\"", "{\"ansible_connection\": \"local\"}"}) {
        r = attempt([&](Run& x) { x.variables = vars; });
        INFO(vars);
        CHECK(r.status == PDK_ERR_INVALID_ARGUMENT);
    }
    r = attempt([](Run& x) { x.flags = 0x10; });
    CHECK(r.status == PDK_ERR_BAD_FLAGS);
    r = attempt([](Run& x) { x.secret = std::string("pa\0ss", 5); });
    CHECK(r.status == PDK_ERR_INVALID_ARGUMENT);
    r = attempt([](Run& x) { x.secret = "pa\xffss"; });
    CHECK(r.status == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(r.message, !Contains("pa\xffss"));
    r = attempt([](Run& x) { x.timeoutMs = 0; });
    CHECK(r.status == PDK_ERR_INVALID_ARGUMENT);
    r = attempt([](Run& x) { x.port = 0; });
    CHECK(r.status == PDK_ERR_INVALID_ARGUMENT);
    r = attempt([](Run& x) { x.host = "-oProxyCommand=x"; });
    CHECK(r.status == PDK_ERR_INVALID_ARGUMENT);
    r = attempt([](Run& x) { x.knownHosts += "\n* ssh-ed25519 AAAA"; });
    CHECK(r.status == PDK_ERR_INVALID_ARGUMENT);
    r = attempt([](Run& x) { x.vm = ""; });
    CHECK(r.status == PDK_ERR_INVALID_ARGUMENT);

    // NULL mandatory pointers, straight through the ABI.
    pdk_provision_request req{};
    req.struct_size = sizeof req;
    pdk_error err{};
    err.struct_size = sizeof err;
    CHECK(vt().run(nullptr, 0, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().run(&req, 0, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(err.message, Contains("is NULL"));
    req.struct_size = 8;
    CHECK(vt().run(&req, 0, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(err.message, Contains("struct_size"));
}

TEST_CASE("a playbook that does not parse is refused", "[ansible][plugin]") {
    Run run;
    run.recipe = kData + "/bad_syntax.yml";
    run.go();
    RUN_INFO(run);
    CHECK(run.status == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(run.message, Contains("YAML"));
}

TEST_CASE("a failing task fails the run with its name and message", "[ansible][plugin]") {
    Run run;
    run.recipe = kData + "/failing.yml";
    run.go();
    RUN_INFO(run);
    CHECK(run.status == PDK_ERR_INTERNAL);
    CHECK_THAT(run.message, Contains("Check the widget") && Contains("the widget is broken"));
    CHECK(run.result.exit_code == 2);
    CHECK(run.result.failed == 1);
    CHECK(run.result.ok == 1);
}

TEST_CASE("a run past its timeout is killed with everything it started", "[ansible][plugin]") {
    TempDir dir;
    const std::string marker = "paddock-ansible-test-" + randomToken(12);
    Run run;
    run.recipe = uniquePlaybook(dir, "sleep.yml");
    run.variables = R"({"marker": ")" + marker + "\"}";
    run.timeoutMs = 3000;
    RunWatch watch(run.recipe, marker);
    run.go();
    watch.stop();
    RUN_INFO(run);
    CHECK(run.status == PDK_ERR_TIMEOUT);
    CHECK(run.message == "ansible-playbook did not finish within 3 s (killed)");
    CHECK(run.result.exit_code == -1);
    CHECK(run.seconds < 3 + 2 + 3);  // timeout, SIGTERM grace, and a margin
    CHECK_FALSE(watch.sessions().empty());  // it did see the run's processes
    CHECK(leftovers(watch.sessions(), marker).empty());
    CHECK(leftovers({}, run.recipe).empty());
}

TEST_CASE("a cancelled run stops with everything it started", "[ansible][plugin]") {
    TempDir dir;
    const std::string marker = "paddock-ansible-test-" + randomToken(12);
    Run run;
    run.recipe = uniquePlaybook(dir, "sleep.yml");
    run.variables = R"({"marker": ")" + marker + "\"}";
    RunWatch watch(run.recipe, marker);
    // Cancelled 1 s after the sleeping process appeared (at the latest 60 s in).
    const auto start = Clock::now();
    std::optional<Clock::time_point> seen;
    run.cancelWhen = [&] {
        if (!seen && watch.markerSeen) seen = Clock::now();
        return (seen && Clock::now() - *seen > std::chrono::seconds(1)) || Clock::now() - start > std::chrono::seconds(60);
    };
    run.go();
    watch.stop();
    RUN_INFO(run);
    CHECK(run.status == PDK_ERR_CANCELLED);
    REQUIRE(seen);  // the sleeping process did run
    CHECK(run.returnedAt - *seen < std::chrono::seconds(1 + 2 + 3));  // 1 s, the SIGTERM grace, a margin
    CHECK_FALSE(watch.sessions().empty());
    CHECK(leftovers(watch.sessions(), marker).empty());
    CHECK(leftovers({}, run.recipe).empty());
}

namespace {

// A local user that needs a sudo password, logging in to the fixture's sshd with its client key.
struct BecomeUser {
    std::string password = "Pw-" + randomToken(20) + "\"\\{{ x }}'$";

    BecomeUser() {
        const std::string user = kBecomeUser;
        if (std::system(("id -u " + user + " >/dev/null 2>&1 || useradd -m -s /bin/bash " + user).c_str()) != 0) {
            throw std::runtime_error("cannot create user " + user);
        }
        // The password through chpasswd's stdin, never on a command line.
        FILE* p = ::popen("chpasswd", "w");
        if (p == nullptr) throw std::runtime_error("cannot run chpasswd");
        const std::string line = std::string(kBecomeUser) + ":" + password + "\n";
        std::fwrite(line.data(), 1, line.size(), p);
        if (::pclose(p) != 0) throw std::runtime_error("chpasswd failed");
        TempDir dir;
        // No cached sudo credentials between runs: every run must give (or lack) the password.
        paddock::test::writeFile(dir.file("sudoers"), std::string(kBecomeUser) + " ALL=(ALL) ALL\nDefaults:" +
                                                          kBecomeUser + " timestamp_timeout=0\n");
        if (std::system(("visudo -cqf " + dir.file("sudoers")).c_str()) != 0) {
            throw std::runtime_error("visudo refused the sudoers file");
        }
        if (std::system(("install -m 0440 -o root -g root " + dir.file("sudoers") + " /etc/sudoers.d/" + kBecomeUser)
                            .c_str()) != 0) {
            throw std::runtime_error("cannot install the sudoers file");
        }
        sshd().authorizeForAllUsers();
    }
};

}  // namespace

TEST_CASE("become: the password reaches sudo and nothing else", "[ansible][plugin][become]") {
    if (::geteuid() != 0) {
        WARN("skipped: the become tests need root (a local user and a sudoers file)");
        return;
    }
    REQUIRE(std::system("command -v sudo >/dev/null") == 0);
    static BecomeUser become;
    TempDir tmp;
    const ScopedTmpdir tmpdir(tmp.path());  // the plugin's run directories go there

    Run run;
    run.user = kBecomeUser;
    run.recipe = kData + "/become.yml";

    SECTION("the right password: root, and never seen on a command line, in an environment or a file") {
        TempDir dir;
        run.recipe = uniquePlaybook(dir, "become.yml");
        run.secret = become.password;
        const std::string escaped = [&] {
            std::string e;
            for (const char c : become.password) {
                if (c == '"' || c == '\\') e += '\\';
                e += c;
            }
            return e;
        }();
        paddock::test::ProcessScanner raw(become.password, "ansible-playbook");
        paddock::test::ProcessScanner asJson(escaped, "ansible-playbook");
        RunWatch watch(run.recipe, "", tmp.path(), become.password);
        run.go();
        for (auto* scanner : {&raw, &asJson}) scanner->stop();
        watch.stop();
        RUN_INFO(run);
        CHECK(run.status == PDK_OK);
        CHECK(contains(run.output(), "\"msg\": \"uid=0\""));
        for (auto* scanner : {&raw, &asJson}) {
            for (const std::string& where : scanner->hits()) UNSCOPED_INFO("secret found in " << where);
            CHECK(scanner->hits().empty());
            CHECK(scanner->watchedSeen() > 0);  // it did look at ansible's processes
            CHECK(scanner->scans() > 10);
        }
        CHECK(watch.directoryScans > 0);  // and into the run directory while it existed
        CHECK(watch.filesWithSecret().empty());
        CHECK_FALSE(contains(run.output(), become.password));
    }
    SECTION("printed on purpose, the password shows as ********") {
        run.recipe = kData + "/print_secret.yml";
        run.secret = become.password;
        run.go();
        RUN_INFO(run);
        CHECK(run.status == PDK_OK);
        CHECK(contains(run.output(), "the password is ********"));
        CHECK(contains(run.output(), "\"ansible_become_pass\": \"********\""));
        CHECK_FALSE(contains(run.output(), become.password));
        CHECK_FALSE(contains(run.output(), "Pw-"));
    }
    SECTION("a wrong password is refused") {
        run.secret = "wrong-" + randomToken(12);
        run.go();
        RUN_INFO(run);
        CHECK(run.status == PDK_ERR_FORBIDDEN);
        CHECK_THAT(run.message, Contains("Incorrect sudo password"));
        CHECK_FALSE(contains(run.message + run.output(), run.secret));
    }
    SECTION("no password where sudo wants one is refused") {
        run.go();
        RUN_INFO(run);
        CHECK(run.status == PDK_ERR_FORBIDDEN);
        CHECK_THAT(run.message, Contains("Missing sudo password"));
    }

    // Nothing of any run is left in its TMPDIR, let alone the password.
    CHECK(std::filesystem::is_empty(tmp.path()));
    CHECK(paddock::test::filesContaining(tmp.path(), become.password.substr(0, 23)).empty());
    CHECK(paddock::test::filesContaining(std::string("/home/") + kBecomeUser, become.password.substr(0, 23)).empty());
}
