#include "ansible_provisioner.hpp"

#include "ansible_environment.hpp"
#include "ansible_output.hpp"
#include "ansible_inputs.hpp"
#include "process_runner.hpp"
#include "redactor.hpp"
#include "run_directory.hpp"
#include "secret_file.hpp"
#include "settings.hpp"

#include <paddock/cpp/error.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>

namespace paddock::ansible {

namespace {

using std::chrono::milliseconds;

constexpr int kSecretFd = 3;                       // /dev/fd/3 in ansible-playbook
constexpr const char* kConnectionInventory = "inventory.yml";
constexpr const char* kExtraVariables = "variables.json";
constexpr milliseconds kCheckTimeout{120 * 1000};  // for --version and --syntax-check

std::string hostPath() {
    const char* path = std::getenv("PATH");
    return path != nullptr && *path != '\0' ? path : "/usr/local/bin:/usr/bin:/bin";
}

// The configured command as a path to execute; PDK_ERR_UNAVAILABLE when there is none.
std::string program(const AnsibleSettings& settings, const std::string& path) {
    const std::string found = findExecutable(settings.command, path);
    if (found.empty()) {
        ProcessOutcome notFound;
        notFound.spawnErrno = ENOENT;
        const Verdict v = classify(OutputParser(), notFound, RunContext{settings.command, "", "", 0});
        throw pdk::Error(v.status, v.message);
    }
    return found;
}

// The playbook as an absolute path (ansible runs in the run directory, not in our cwd).
std::string playbookPath(const char* recipe) {
    const std::string given = recipe;
    if (given.empty()) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "no playbook given (recipe is empty)");
    std::error_code ec;
    const std::string path = std::filesystem::absolute(given, ec).lexically_normal().string();
    struct stat st{};
    if (ec || ::stat(path.c_str(), &st) != 0) {
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "the playbook " + path + " could not be found");
    }
    if (!S_ISREG(st.st_mode)) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "the playbook " + path + " is not a file");
    return path;
}

void requireText(const char* value, const char* what) {
    if (*value == '\0') throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, std::string("request.") + what + " is empty");
}

void checkRequest(const pdk_provision_request& r) {
    requireText(r.site, "site");
    requireText(r.vm, "vm");
    requireText(r.host, "host");
    requireText(r.user, "user");
    requireText(r.private_key_path, "private_key_path");
    requireText(r.known_hosts_line, "known_hosts_line");
    if (r.port == 0) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "request.port is 0");
    // One line, written as is: a line break would smuggle in a second trusted key.
    if (std::string_view(r.known_hosts_line).find_first_of("\r\n") != std::string_view::npos) {
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "request.known_hosts_line holds more than one line");
    }
    // ssh takes the host as its last argument: one starting with '-' would be read as an option.
    const std::string_view host = r.host;
    if (host.front() == '-' || host.find_first_of(" \t\r\n") != std::string_view::npos) {
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "request.host is not a host name or address");
    }
}

std::string target(const pdk_provision_request& r) {
    const std::string host = r.host;
    const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return shown + ":" + std::to_string(r.port);
}

void prepare(const RunDirectory& dir, const RunPaths& paths) {
    dir.writeFile("ansible.cfg", "");  // present and empty: no user's or system ansible.cfg applies
    dir.makeDirectory(std::filesystem::path(paths.temp).filename().string());
}

int32_t count(int64_t n, bool seen) {
    if (!seen) return -1;
    return static_cast<int32_t>(std::min<int64_t>(n, std::numeric_limits<int32_t>::max()));
}

// Runs a short command of check(): its stdout lines, or the error a run would report.
std::vector<std::string> runForCheck(const std::string& prog, std::vector<std::string> argv,
                                     const AnsibleSettings& settings) {
    RunDirectory dir;
    const RunPaths paths = runPaths(dir.path());
    prepare(dir, paths);
    ProcessSpec spec;
    spec.program = prog;
    spec.argv = std::move(argv);
    spec.environment = ansibleEnvironment(paths, hostPath());
    spec.workingDirectory = dir.path();
    spec.timeout = kCheckTimeout;
    OutputParser parser;
    std::vector<std::string> lines;
    const ProcessOutcome outcome = runProcess(
        spec,
        [&](OutputStream stream, std::string_view piece, bool endOfLine) {
            parser.feed(stream, piece, endOfLine);
            if (stream == OutputStream::Stdout && lines.size() < 100) lines.emplace_back(piece);
        },
        {});
    const Verdict v = classify(parser, outcome, RunContext{settings.command, "", "", uint32_t(kCheckTimeout.count())});
    if (v.status != PDK_OK) throw pdk::Error(v.status, v.message);
    return lines;
}


// Ends the run's ssh master connection, if one was made, before the run directory goes (it
// holds the socket): whatever way the run ended, no ssh of it stays behind.
class ControlMasterExit {
public:
    explicit ControlMasterExit(RunPaths paths) : paths_(std::move(paths)) {}
    ~ControlMasterExit() {
        struct stat st{};
        if (::lstat(paths_.controlPath.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return;
        const std::string ssh = findExecutable("ssh", hostPath());
        if (ssh.empty()) return;
        ProcessSpec spec;
        spec.program = ssh;
        spec.argv = controlExitArgv(ssh, paths_);
        spec.environment = ansibleEnvironment(paths_, hostPath());
        spec.workingDirectory = paths_.directory;
        spec.timeout = std::chrono::seconds(10);
        (void)runProcess(spec, [](OutputStream, std::string_view, bool) {}, {});
    }
    ControlMasterExit(const ControlMasterExit&) = delete;
    ControlMasterExit& operator=(const ControlMasterExit&) = delete;

private:
    RunPaths paths_;
};

// ansible-playbook's command line: the connection inventory, the secret inventory when there is
// a secret (/dev/fd/3), the extra variables, the verbosity, the playbook. Never a value.
std::vector<std::string> playbookArgv(const std::string& prog, const RunDirectory& dir, bool withSecret,
                                      int verbosity, const std::string& playbook) {
    std::vector<std::string> argv = {prog, "-i", dir.file(kConnectionInventory)};
    if (withSecret) argv.insert(argv.end(), {"-i", "/dev/fd/" + std::to_string(kSecretFd)});
    const std::string extraVariablesPath = dir.file(kExtraVariables);
    argv.insert(argv.end(), {"--extra-vars", std::string("@").append(extraVariablesPath)});
    if (verbosity > 0) {
        std::string flag(static_cast<size_t>(verbosity) + 1, 'v');  // -v .. -vvvv
        flag[0] = '-';
        argv.push_back(flag);
    }
    argv.push_back(playbook);
    return argv;
}

void fillResult(pdk_provision_result& result, const ProcessOutcome& outcome, const RecapTotals& recap,
                std::chrono::steady_clock::time_point started) {
    result.exit_code = outcome.end == ProcessEnd::Exited ? outcome.exitCode : -1;
    result.ok = count(recap.ok, recap.seen);
    result.changed = count(recap.changed, recap.seen);
    result.failed = count(recap.failed, recap.seen);
    result.unreachable = count(recap.unreachable, recap.seen);
    result.skipped = count(recap.skipped, recap.seen);
    result.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

}  // namespace

void AnsibleProvisioner::run(const pdk_provision_request& request, uint32_t flags, pdk_provision_result& result) {
    const auto started = std::chrono::steady_clock::now();
    pdk::checkFlags(flags, 0);
    checkRequest(request);
    const AnsibleSettings settings = parseSettings(request.settings, request.setting_count);
    const std::string variables = request.variables_json != nullptr ? request.variables_json : "";
    const std::string_view secret = request.become_secret != nullptr
                                        ? std::string_view(reinterpret_cast<const char*>(request.become_secret),
                                                           request.become_secret_len)
                                        : std::string_view();
    checkBecomeSecret(secret);
    checkVariables(variables);
    const std::string playbook = playbookPath(request.recipe);
    const std::string path = hostPath();
    const std::string prog = program(settings, path);

    RunDirectory dir;
    const RunPaths paths = runPaths(dir.path());
    prepare(dir, paths);
    dir.writeFile(kConnectionInventory, connectionInventory({request.vm, request.host, request.port, request.user,
                                                             request.private_key_path}));
    dir.writeFile("known_hosts", std::string(request.known_hosts_line) + "\n");
    dir.writeFile(kExtraVariables, extraVariables(request.vm, variables));
    std::optional<SecretFile> secretFile;
    if (!secret.empty()) {
        const SecretBytes doc = secretInventory(request.vm, secret);
        secretFile.emplace(view(doc));
    }  // the document is wiped here; only the memfd holds it now

    ProcessSpec spec;
    spec.program = prog;
    spec.argv = playbookArgv(prog, dir, secretFile.has_value(), settings.verbosity, playbook);
    spec.environment = ansibleEnvironment(paths, path);
    spec.workingDirectory = dir.path();
    if (secretFile) spec.passFds = {{secretFile->fd(), kSecretFd}};
    spec.timeout = milliseconds(request.timeout_ms);

    // Output goes through redaction first; the host's sink and the parser only see clean lines.
    const SecretForms forms(secret);
    OutputParser parser;
    LineRedactor redactors[2] = {LineRedactor(forms), LineRedactor(forms)};
    const auto sink = [&](OutputStream stream, std::string_view piece, bool endOfLine) {
        redactors[stream == OutputStream::Stderr ? 1 : 0].feed(piece, endOfLine, [&](std::string_view clean, bool eol) {
            request.output(request.output_user, static_cast<int>(stream), clean.empty() ? "" : clean.data(),
                           clean.size());
            parser.feed(stream, clean, eol);
        });
    };
    CancelCheck cancelled;
    if (request.is_cancelled != nullptr) {
        cancelled = [&] { return request.is_cancelled(request.cancel_user) != 0; };
    }
    std::optional<ControlMasterExit> master;
    master.emplace(paths);
    const ProcessOutcome outcome = runProcess(spec, sink, cancelled);
    secretFile.reset();
    master.reset();

    fillResult(result, outcome, parser.recap(), started);
    const Verdict verdict = classify(parser, outcome, RunContext{settings.command, request.vm, target(request),
                                                                 request.timeout_ms});
    if (verdict.status != PDK_OK) throw pdk::Error(verdict.status, forms.redact(verdict.message));
}

std::string AnsibleProvisioner::check(const pdk_kv* settingPairs, size_t count, const char* recipe, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    const AnsibleSettings settings = parseSettings(settingPairs, count);
    const std::string prog = program(settings, hostPath());
    const std::vector<std::string> lines = runForCheck(prog, {prog, "--version"}, settings);
    const std::string version = lines.empty() ? settings.command : lines.front();
    if (recipe != nullptr) runForCheck(prog, {prog, "--syntax-check", "-i", "localhost,", playbookPath(recipe)}, settings);
    return version;
}

}  // namespace paddock::ansible
