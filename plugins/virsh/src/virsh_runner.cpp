#include "virsh_runner.hpp"

#include "virsh_output.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <set>

namespace paddock::virsh {

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr ? v : "";
}

bool isExecutableFile(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string findInPath(const std::string& name, const std::string& path) {
    size_t pos = 0;
    while (pos <= path.size()) {
        size_t end = path.find(':', pos);
        if (end == std::string::npos) end = path.size();
        const std::string dir = path.substr(pos, end - pos);
        // An empty or relative PATH entry would depend on the host's working directory.
        if (!dir.empty() && dir.front() == '/') {
            const std::string candidate = dir + "/" + name;
            if (isExecutableFile(candidate)) return candidate;
        }
        pos = end + 1;
    }
    return {};
}

}  // namespace

VirshSettings VirshSettings::fromEnvironment() {
    VirshSettings s;
    std::string path = env("PATH");
    if (path.empty()) path = kDefaultPath;
    const std::string wanted = env("PADDOCK_VIRSH").empty() ? "virsh" : env("PADDOCK_VIRSH");
    if (wanted.find('/') != std::string::npos) {
        if (wanted.front() != '/' || !isExecutableFile(wanted))
            throw pdk::Error(PDK_ERR_UNAVAILABLE, "virsh not found: PADDOCK_VIRSH=" + wanted +
                                                      " is not an executable file given by its absolute path");
        s.virshPath = wanted;
    } else {
        s.virshPath = findInPath(wanted, path);
        if (s.virshPath.empty())
            throw pdk::Error(PDK_ERR_UNAVAILABLE, "virsh not found: no executable '" + wanted + "' in PATH (" + path +
                                                      "); install libvirt-clients or set PADDOCK_VIRSH");
    }
    if (const std::string t = env("PADDOCK_VIRSH_TIMEOUT_MS"); !t.empty()) {
        const auto ms = parseUnsigned(t);
        if (!ms || *ms < 100 || *ms > 24ull * 3600 * 1000)
            throw pdk::Error(PDK_ERR_INVALID_ARGUMENT,
                             "PADDOCK_VIRSH_TIMEOUT_MS must be a number of milliseconds from 100 to 86400000, not '" +
                                 t + "'");
        s.callTimeout = std::chrono::milliseconds(*ms);
    }
    s.queryTimeout = std::min(s.callTimeout, std::chrono::milliseconds(30000));
    s.aliveTimeout = std::min(s.callTimeout, std::chrono::milliseconds(5000));
    s.childEnv = {"LC_ALL=C", "LANG=C", "PATH=" + path};
    for (const char* name : {"HOME", "USER", "LOGNAME", "SSH_AUTH_SOCK", "XDG_RUNTIME_DIR"}) {
        if (const char* v = std::getenv(name); v != nullptr) s.childEnv.push_back(std::string(name) + "=" + v);
    }
    return s;
}

VirshRunner::VirshRunner(VirshSettings settings, std::string uri) : settings_(std::move(settings)), uri_(std::move(uri)) {}

ChildResult VirshRunner::tryRun(const std::vector<std::string>& args, const std::optional<std::string>& input,
                                std::optional<std::chrono::milliseconds> timeout) const {
    std::vector<std::string> argv{settings_.virshPath};
    if (!uri_.empty()) {
        argv.push_back("-c");
        argv.push_back(uri_);
    }
    argv.push_back("--quiet");
    argv.insert(argv.end(), args.begin(), args.end());
    const std::chrono::milliseconds limit = timeout.value_or(
        !args.empty() && isStateChanging(args.front()) ? settings_.callTimeout : settings_.queryTimeout);
    ChildResult r;
    try {
        r = runChild(argv, settings_.childEnv, input, limit);
    } catch (const pdk::Error& e) {
        // The binary was there when the connection opened; say plainly that it went away.
        if (e.status() == PDK_ERR_UNAVAILABLE && std::string(e.what()).find(" not found") != std::string::npos)
            throw pdk::Error(PDK_ERR_UNAVAILABLE, "virsh not found: " + settings_.virshPath + " is gone");
        throw;
    }
    if (r.timedOut) {
        throw pdk::Error(PDK_ERR_TIMEOUT, "virsh " + (args.empty() ? std::string() : args.front()) +
                                              " did not finish within " + std::to_string(limit.count()) +
                                              " ms and was killed");
    }
    return r;
}

std::string VirshRunner::run(const std::vector<std::string>& args, const std::string& context,
                             const std::optional<std::string>& input,
                             std::optional<std::chrono::milliseconds> timeout) const {
    ChildResult r = tryRun(args, input, timeout);
    if (r.exitCode != 0) throw failure(r, context);
    return std::move(r.out);
}

bool VirshRunner::isStateChanging(const std::string& command) {
    static const std::set<std::string> kCommands = {
        "define",          "undefine",        "start",       "shutdown",           "destroy",
        "resume",          "suspend",         "dompmwakeup", "managedsave",        "managedsave-remove",
        "snapshot-create", "snapshot-revert", "snapshot-delete", "vol-create",   "vol-delete"};
    return kCommands.count(command) != 0;
}

pdk::Error VirshRunner::failure(const ChildResult& result, const std::string& context) {
    VirshFailure f = classifyVirshError(result.err);
    if (f.message.empty()) {
        f.message = result.signal != 0 ? "virsh was killed by signal " + std::to_string(result.signal)
                                       : "virsh exited with status " + std::to_string(result.exitCode);
    }
    return pdk::Error(f.status, context + ": " + f.message);
}

}  // namespace paddock::virsh
