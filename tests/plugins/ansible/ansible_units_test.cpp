// The ansible plugin's parts on their own: settings, the two inventories, redaction, the output
// parser and verdicts, and the process runner (real processes, no ansible, no ssh).
#include "ansible_environment.hpp"
#include "ansible_output.hpp"
#include "ansible_inputs.hpp"
#include "process_runner.hpp"
#include "redactor.hpp"
#include "run_directory.hpp"
#include "settings.hpp"

#include "scoped_tmpdir.hpp"

#include <test_support.hpp>

#include <paddock/cpp/error.hpp>

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using namespace paddock::ansible;

namespace {

pdk_status statusOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const pdk::Error& e) {
        return e.status();
    }
    return PDK_OK;
}

std::string messageOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const pdk::Error& e) {
        return e.what();
    }
    return {};
}

rapidjson::Document parse(std::string_view json) {
    rapidjson::Document d;
    d.Parse(json.data(), json.size());
    REQUIRE_FALSE(d.HasParseError());
    return d;
}

struct Line {
    OutputStream stream;
    std::string text;
    bool endOfLine;
};

struct Collected {
    std::vector<Line> pieces;
    LineSink sink() {
        return [this](OutputStream s, std::string_view piece, bool eol) { pieces.push_back({s, std::string(piece), eol}); };
    }
    std::vector<std::string> lines(OutputStream s) const {
        std::vector<std::string> out;
        std::string current;
        for (const Line& l : pieces) {
            if (l.stream != s) continue;
            current += l.text;
            if (l.endOfLine) {
                out.push_back(current);
                current.clear();
            }
        }
        return out;
    }
};

ProcessSpec shell(const std::string& script) {
    ProcessSpec spec;
    spec.program = "/bin/sh";
    spec.argv = {"sh", "-c", script};
    spec.environment = {"PATH=/usr/bin:/bin"};
    spec.timeout = std::chrono::seconds(30);
    return spec;
}

ProcessSpec bash(const std::string& script) {
    ProcessSpec spec = shell(script);
    spec.program = "/bin/bash";
    spec.argv = {"bash", "-c", script};
    return spec;
}

// Live processes whose command line contains `needle`.
int processesWith(const std::string& needle) {
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string cmdline;
        try {
            cmdline = paddock::test::readFile(entry.path().string() + "/cmdline");
        } catch (...) {
            continue;
        }
        if (cmdline.find(needle) != std::string::npos) ++n;
    }
    return n;
}

std::string uniqueMarker() {
    return "paddock-unit-" + std::to_string(::getpid()) + "-" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

OutputParser parsed(std::initializer_list<std::pair<OutputStream, std::string_view>> lines) {
    OutputParser p;
    for (const auto& [s, l] : lines) p.feed(s, l, true);
    return p;
}

ProcessOutcome exited(int code) {
    ProcessOutcome o;
    o.end = ProcessEnd::Exited;
    o.exitCode = code;
    return o;
}

const RunContext kContext{"ansible-playbook", "vm1", "127.0.0.1:22001", 3000};
constexpr OutputStream kOut = OutputStream::Stdout;
constexpr OutputStream kErr = OutputStream::Stderr;

}  // namespace

TEST_CASE("settings: command and verbosity, anything else refused by name", "[unit][ansible]") {
    const AnsibleSettings d = parseSettings(nullptr, 0);
    CHECK(d.command == "ansible-playbook");
    CHECK(d.verbosity == 0);
    const pdk_kv ok[] = {{"command", "/opt/ansible/bin/ansible-playbook"}, {"verbosity", "3"}};
    const AnsibleSettings s = parseSettings(ok, 2);
    CHECK(s.command == "/opt/ansible/bin/ansible-playbook");
    CHECK(s.verbosity == 3);
    const pdk_kv unknown[] = {{"forks", "5"}};
    CHECK(statusOf([&] { parseSettings(unknown, 1); }) == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(messageOf([&] { parseSettings(unknown, 1); }), Contains("\"forks\""));
    for (const char* bad : {"5", "-1", "", "01", "v"}) {
        const pdk_kv v[] = {{"verbosity", bad}};
        CHECK(statusOf([&] { parseSettings(v, 1); }) == PDK_ERR_INVALID_ARGUMENT);
    }
    const pdk_kv empty[] = {{"command", ""}};
    CHECK(statusOf([&] { parseSettings(empty, 1); }) == PDK_ERR_INVALID_ARGUMENT);
}

TEST_CASE("the connection inventory names the VM and how to log in", "[unit][ansible]") {
    const std::string inv = connectionInventory({"vm-1", "127.0.0.1", 22001, "pad\"dock", "/keys/id \\x"});
    const rapidjson::Document d = parse(inv);
    const rapidjson::Value& host = d["all"]["hosts"]["vm-1"];
    CHECK(std::string(host["ansible_host"].GetString()) == "127.0.0.1");
    CHECK(host["ansible_port"].GetInt() == 22001);
    CHECK(std::string(host["ansible_user"].GetString()) == "pad\"dock");
    CHECK(std::string(host["ansible_ssh_private_key_file"].GetString()) == "/keys/id \\x");
    CHECK(std::string(host["ansible_python_interpreter"].GetString()) == "auto_silent");
    CHECK(statusOf([] { connectionInventory({"vm\xff", "h", 1, "u", "k"}); }) == PDK_ERR_INVALID_ARGUMENT);
}

TEST_CASE("the extra variables carry the request's variables and vm_name", "[unit][ansible]") {
    const std::string vars = R"({"n": 12345678901234567890123, "f": 1.10, "s": "a\"b", "o": {"ansible_x": [1, null, true]}})";
    const std::string text = extraVariables("vm1", vars);
    // Numbers digit for digit, never through a double.
    CHECK_THAT(text, Contains("\"n\":12345678901234567890123"));
    CHECK_THAT(text, Contains("\"f\":1.10"));
    const rapidjson::Document d = parse(text);
    CHECK(std::string(d["s"].GetString()) == "a\"b");
    CHECK(d["o"]["ansible_x"].Size() == 3);  // only top-level names are reserved
    CHECK(std::string(d["vm_name"].GetString()) == "vm1");
    CHECK(d.MemberCount() == 5);
    const rapidjson::Document none = parse(extraVariables("vm1", ""));
    CHECK(none.MemberCount() == 1);
}

TEST_CASE("the secret inventory holds only the become password, as unsafe", "[unit][ansible]") {
    const std::string secret = "p\"w\\{{ x }}\x01\xC3\xA9";
    const SecretBytes doc = secretInventory("vm1", secret);
    const rapidjson::Document d = parse(std::string(view(doc)));
    const rapidjson::Value& host = d["all"]["hosts"]["vm1"];
    CHECK(host.MemberCount() == 1);
    const rapidjson::Value& pass = host["ansible_become_pass"];
    REQUIRE(pass.IsObject());
    CHECK(std::string(pass["__ansible_unsafe"].GetString(), pass["__ansible_unsafe"].GetStringLength()) == secret);
    CHECK(statusOf([] { secretInventory("vm1", "a\nb"); }) == PDK_ERR_INVALID_ARGUMENT);
}

TEST_CASE("variables must be one JSON object without reserved names", "[unit][ansible]") {
    CHECK(statusOf([] { checkVariables(""); }) == PDK_OK);
    CHECK(statusOf([] { checkVariables(" {} "); }) == PDK_OK);
    for (const char* bad : {"[1]", "1", "\"x\"", "null", "{", "{\"a\":1} {}", "{\"a\":}", "{\"a\":\"\xff\"}", " "}) {
        INFO(bad);
        CHECK(statusOf([&] { checkVariables(bad); }) == PDK_ERR_INVALID_ARGUMENT);
    }
    CHECK_THAT(messageOf([] { checkVariables("[1]"); }), Contains("one JSON object"));
    CHECK_THAT(messageOf([] { checkVariables("{"); }), Contains("not valid JSON"));
    CHECK_THAT(messageOf([] { checkVariables(R"({"ansible_ssh_common_args": "-o StrictHostKeyChecking=no"})"); }),
               Contains("\"ansible_ssh_common_args\" is reserved"));
    CHECK(statusOf([] { checkVariables(R"({"vm_name": "other"})"); }) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(statusOf([] { extraVariables("vm1", "[]"); }) == PDK_ERR_INVALID_ARGUMENT);
}

TEST_CASE("a become secret is UTF-8 without NUL or line breaks", "[unit][ansible]") {
    CHECK(statusOf([] { checkBecomeSecret("s3cr\xC3\xA9t \"'\\{{"); }) == PDK_OK);
    for (const std::string& bad : {std::string("a\0b", 3), std::string("a\nb"), std::string("a\rb"),
                                  std::string("\xff"), std::string("\xC0\xAF"), std::string("\xED\xA0\x80"),
                                  std::string("\xF4\x90\x80\x80"), std::string("ab\xC3")}) {
        const pdk_status st = statusOf([&] { checkBecomeSecret(bad); });
        CHECK(st == PDK_ERR_INVALID_ARGUMENT);
        CHECK_THAT(messageOf([&] { checkBecomeSecret(bad); }), !Contains(bad));
    }
}

TEST_CASE("secret forms: as is and JSON-escaped the way Python writes it", "[unit][ansible]") {
    const SecretForms forms("a\"b\\c\x01\xC3\xA9\xF0\x9F\x98\x80");
    const std::string escaped = R"(a\"b\\c\u0001)"
                                "\xC3\xA9\xF0\x9F\x98\x80";
    const std::string ascii = R"(a\"b\\c\u0001\u00e9\ud83d\ude00)";
    CHECK(forms.redact("x a\"b\\c\x01\xC3\xA9\xF0\x9F\x98\x80 y") == "x ******** y");
    CHECK(forms.redact("\"" + escaped + "\"") == "\"********\"");
    CHECK(forms.redact(ascii + ascii) == "****************");
    CHECK(forms.redact("nothing here") == "nothing here");
    CHECK(SecretForms("").empty());
    CHECK(SecretForms("").redact("abc") == "abc");
}

TEST_CASE("line redaction catches a secret split across pieces and keeps pieces small", "[unit][ansible]") {
    const std::string secret = "hunter2-correct-horse";
    const SecretForms forms(secret);
    LineRedactor redactor(forms);
    std::vector<std::pair<std::string, bool>> out;
    const LineRedactor::Emit emit = [&](std::string_view p, bool eol) { out.emplace_back(std::string(p), eol); };
    // A long line arriving in 4096-byte pieces, the secret straddling the boundaries.
    const std::string line = std::string(4090, 'x') + secret + std::string(5000, 'y') + secret + "z";
    for (size_t at = 0; at < line.size(); at += kMaxLinePiece) {
        const bool last = at + kMaxLinePiece >= line.size();
        redactor.feed(std::string_view(line).substr(at, kMaxLinePiece), last, emit);
    }
    std::string joined;
    for (size_t i = 0; i < out.size(); ++i) {
        CHECK(out[i].first.size() <= kMaxLinePiece);
        CHECK(out[i].second == (i + 1 == out.size()));
        joined += out[i].first;
    }
    CHECK(joined == std::string(4090, 'x') + "********" + std::string(5000, 'y') + "********z");

    out.clear();
    redactor.feed("hunter2", false, emit);
    redactor.feed("-correct-horse and more", true, emit);
    joined.clear();
    for (const auto& [p, eol] : out) joined += p;
    CHECK(joined == "******** and more");
    out.clear();
    redactor.feed("", true, emit);  // an empty line stays a line
    REQUIRE(out.size() == 1);
    CHECK(out[0] == std::make_pair(std::string(), true));
}

TEST_CASE("the output parser sums the recap and reads fatal reports", "[unit][ansible]") {
    const OutputParser p = parsed({
        {kOut, "PLAY [all] ******"},
        {kOut, "TASK [Write the greeting] *******"},
        {kOut, "changed: [vm1]"},
        {kOut, "TASK [Check the [widget]] ********"},
        {kOut, R"(fatal: [vm1]: FAILED! => {"changed": false, "msg": "the widget is broken"})"},
        {kOut, "PLAY RECAP *****"},
        {kOut, "vm1                        : ok=3    changed=1    unreachable=0    failed=1    skipped=2    rescued=0    ignored=0   "},
        {kOut, "vm2 : ok=1 changed=1 unreachable=1 failed=0 skipped=0 rescued=0 ignored=0"},
    });
    CHECK(p.recap().seen);
    CHECK(p.recap().ok == 4);
    CHECK(p.recap().changed == 2);
    CHECK(p.recap().unreachable == 1);
    CHECK(p.recap().failed == 1);
    CHECK(p.recap().skipped == 2);
    REQUIRE(p.fatals().size() == 1);
    CHECK(p.fatals()[0].task == "Check the [widget]");
    CHECK(p.fatals()[0].host == "vm1");
    const Verdict v = classify(p, exited(2), kContext);
    CHECK(v.status == PDK_ERR_INTERNAL);
    CHECK(v.message == "task \"Check the [widget]\" failed on vm1: the widget is broken");
    CHECK(classify(p, exited(0), kContext).status == PDK_OK);
    CHECK_FALSE(parsed({{kOut, "ok: [vm1]"}}).recap().seen);
}

TEST_CASE("the output parser reads JSON spread over lines, ignored failures and command stderr", "[unit][ansible]") {
    OutputParser p;
    for (const char* l : {"TASK [Run it] ***", "fatal: [vm1]: FAILED! => {", "    \"changed\": true,",
                          "    \"msg\": \"non-zero return code\",", "    \"rc\": 2,",
                          "    \"stderr\": \"ls: cannot access '/nope'\"", "}", "TASK [Fine] ***"}) {
        p.feed(kOut, l, true);
    }
    REQUIRE(p.fatals().size() == 1);
    CHECK(p.fatals()[0].message == "non-zero return code: ls: cannot access '/nope'");
    p.feed(kOut, R"(fatal: [vm1]: FAILED! => {"msg": "ignored one"})", true);
    p.feed(kOut, "...ignoring", true);
    CHECK(p.fatals().size() == 1);
    // A report cut short (unreadable JSON) still ends at the next line that is not part of it.
    p.feed(kOut, R"(fatal: [vm1]: FAILED! => {"msg": "cut)", true);
    p.feed(kOut, "PLAY RECAP ***", true);
    p.feed(kOut, "vm1 : ok=1 changed=0 unreachable=0 failed=2 skipped=0", true);
    CHECK(p.fatals().size() == 2);
    CHECK(p.recap().failed == 2);
    // A long line in pieces is read whole.
    OutputParser q;
    const std::string fatal = R"(fatal: [vm1]: FAILED! => {"msg": ")" + std::string(6000, 'm') + "\"}";
    q.feed(kOut, std::string_view(fatal).substr(0, 4096), false);
    q.feed(kOut, std::string_view(fatal).substr(4096), true);
    REQUIRE(q.fatals().size() == 1);
    CHECK_THAT(q.fatals()[0].message, StartsWith("mmmm"));
}

TEST_CASE("verdicts: unreachable, become, missing and broken playbooks", "[unit][ansible]") {
    const OutputParser hostKey = parsed({
        {kOut, "TASK [Do a thing] ****"},
        {kOut, R"(fatal: [vm1]: UNREACHABLE! => {"changed": false, "msg": "Data could not be sent to remote host \"127.0.0.1\". Make sure this host can be reached over ssh: @@@@@@@\r\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\nHost key for [127.0.0.1]:22001 has changed and you have requested strict checking.\r\nHost key verification failed.\r\n", "unreachable": true})"},
        {kOut, "PLAY RECAP ****"},
        {kOut, "vm1 : ok=0 changed=0 unreachable=1 failed=0 skipped=0 rescued=0 ignored=0"},
    });
    Verdict v = classify(hostKey, exited(4), kContext);
    CHECK(v.status == PDK_ERR_UNAVAILABLE);
    CHECK_THAT(v.message, StartsWith("cannot reach vm1 over ssh at 127.0.0.1:22001: Host key verification failed"));

    const OutputParser refused = parsed({{kOut, R"(fatal: [vm1]: UNREACHABLE! => {"changed": false, "msg": "Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 port 9: Connection refused", "unreachable": true})"}});
    v = classify(refused, exited(4), kContext);
    CHECK(v.status == PDK_ERR_UNAVAILABLE);
    CHECK_THAT(v.message, Contains(": ssh: connect to host 127.0.0.1 port 9: Connection refused"));

    for (const char* msg : {"Incorrect sudo password", "Missing sudo password", "Incorrect su password"}) {
        const std::string line = std::string(R"(fatal: [vm1]: FAILED! => {"msg": ")") + msg + "\"}";
        v = classify(parsed({{kOut, line}}), exited(2), kContext);
        CHECK(v.status == PDK_ERR_FORBIDDEN);
        CHECK_THAT(v.message, Contains(msg));
    }

    v = classify(parsed({{kErr, "ERROR! the playbook: /x/site.yml could not be found"}}), exited(1), kContext);
    CHECK(v.status == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.message == "the playbook: /x/site.yml could not be found");

    const OutputParser syntax = parsed({
        {kErr, "ERROR! We were unable to read either as JSON nor YAML, these are the errors we got from each:"},
        {kErr, "JSON: Expecting value: line 1 column 1 (char 0)"},
        {kErr, ""},
        {kErr, "Syntax Error while loading YAML."},
    });
    v = classify(syntax, exited(4), kContext);
    CHECK(v.status == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(v.message, Contains("Syntax Error while loading YAML."));
    CHECK(classify(syntax, exited(1), kContext).status == PDK_ERR_INTERNAL);

    v = classify(parsed({{kErr, "[WARNING]: something"}, {kErr, "Traceback: boom"}}), exited(250), kContext);
    CHECK(v.status == PDK_ERR_INTERNAL);
    CHECK(v.message == "ansible-playbook exited with status 250: Traceback: boom");
}

TEST_CASE("verdicts: not started, timed out, cancelled, killed", "[unit][ansible]") {
    ProcessOutcome o;
    o.spawnErrno = ENOENT;
    Verdict v = classify(OutputParser(), o, kContext);
    CHECK(v.status == PDK_ERR_UNAVAILABLE);
    CHECK(v.message ==
          "ansible-playbook not found (install the ansible package, or set provisioning.settings.command)");
    o.spawnErrno = EACCES;
    CHECK(classify(OutputParser(), o, kContext).status == PDK_ERR_UNAVAILABLE);
    o.end = ProcessEnd::TimedOut;
    v = classify(OutputParser(), o, kContext);
    CHECK(v.status == PDK_ERR_TIMEOUT);
    CHECK(v.message == "ansible-playbook did not finish within 3 s (killed)");
    RunContext c = kContext;
    c.timeoutMs = 2500;
    CHECK(classify(OutputParser(), o, c).message == "ansible-playbook did not finish within 2.5 s (killed)");
    o.end = ProcessEnd::Cancelled;
    CHECK(classify(OutputParser(), o, kContext).status == PDK_ERR_CANCELLED);
    o.end = ProcessEnd::Signalled;
    o.signal = SIGSEGV;
    v = classify(OutputParser(), o, kContext);
    CHECK(v.status == PDK_ERR_INTERNAL);
    CHECK_THAT(v.message, Contains("SIGSEGV"));
}

TEST_CASE("ansible's environment is built from nothing", "[unit][ansible]") {
    const RunPaths paths = runPaths("/tmp/paddock-ansible-abc");
    const std::vector<std::string> env = ansibleEnvironment(paths, "/usr/bin:/bin");
    const auto has = [&](const std::string& entry) { return std::find(env.begin(), env.end(), entry) != env.end(); };
    CHECK(has("PATH=/usr/bin:/bin"));
    CHECK(has("HOME=/tmp/paddock-ansible-abc"));
    CHECK(has("ANSIBLE_CONFIG=/tmp/paddock-ansible-abc/ansible.cfg"));
    CHECK(has("ANSIBLE_LOCAL_TEMP=/tmp/paddock-ansible-abc/tmp"));
    CHECK(has("ANSIBLE_HOST_KEY_CHECKING=True"));
    CHECK(has("PYTHONUNBUFFERED=1"));
    CHECK(has("ANSIBLE_SSH_ARGS=-o ControlMaster=auto -o ControlPath=/tmp/paddock-ansible-abc/cm -o "
              "ControlPersist=30 -o UserKnownHostsFile=/tmp/paddock-ansible-abc/known_hosts -o "
              "GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes"));
    CHECK(controlExitArgv("/usr/bin/ssh", paths) ==
          std::vector<std::string>{"/usr/bin/ssh", "-o", "ControlPath=/tmp/paddock-ansible-abc/cm", "-O", "exit",
                                   "paddock-run"});
    for (const std::string& e : env) CHECK_THAT(e, !StartsWith("SSH_AUTH_SOCK") && !StartsWith("LC_ALL"));
}

TEST_CASE("the run directory is private and gone afterwards", "[unit][ansible]") {
    paddock::test::TempDir base;
    std::optional<ScopedTmpdir> tmpdir(std::in_place, base.path());
    std::string path;
    {
        RunDirectory dir;
        path = dir.path();
        CHECK_THAT(path, StartsWith(base.path() + "/paddock-ansible-"));
        struct stat st{};
        REQUIRE(::stat(path.c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0700);
        dir.writeFile("known_hosts", "line\n");
        REQUIRE(::stat(dir.file("known_hosts").c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0600);
        CHECK(statusOf([&] { dir.writeFile("known_hosts", "again"); }) == PDK_ERR_INTERNAL);  // never overwritten
        dir.makeDirectory("tmp");
        paddock::test::writeFile(dir.file("tmp/left-behind"), "x");
        ::chmod(dir.file("tmp").c_str(), 0500);  // something made a directory read-only
    }
    CHECK_FALSE(std::filesystem::exists(path));
    tmpdir.emplace("/tmp/with space");
    CHECK(RunDirectory::baseDirectory() == "/tmp");
    tmpdir.emplace("relative");
    CHECK(RunDirectory::baseDirectory() == "/tmp");
}

TEST_CASE("process runner: lines as they come, long lines in pieces, exit status", "[unit][ansible][runner]") {
    Collected c;
    const std::string script = "echo one; echo two >&2; printf '%5000s\\n' x; printf 'tail-without-newline'; exit 7";
    const ProcessOutcome o = runProcess(shell(script), c.sink(), {});
    CHECK(o.end == ProcessEnd::Exited);
    CHECK(o.exitCode == 7);
    const std::vector<std::string> out = c.lines(OutputStream::Stdout);
    REQUIRE(out.size() == 3);
    CHECK(out[0] == "one");
    CHECK(out[1].size() == 5000);
    CHECK(out[2] == "tail-without-newline");
    CHECK(c.lines(OutputStream::Stderr) == std::vector<std::string>{"two"});
    for (const Line& l : c.pieces) CHECK(l.text.size() <= kMaxLinePiece);
    CHECK(std::count_if(c.pieces.begin(), c.pieces.end(), [](const Line& l) { return !l.endOfLine; }) == 1);
}

TEST_CASE("process runner: exactly the environment, fds and directory given", "[unit][ansible][runner]") {
    paddock::test::TempDir dir;
    const int memfd = ::memfd_create("unit", MFD_CLOEXEC);
    REQUIRE(memfd >= 0);
    REQUIRE(::write(memfd, "from-memfd", 10) == 10);
    REQUIRE(::lseek(memfd, 0, SEEK_SET) == 0);
    ProcessSpec spec = shell("pwd; env | sort; ls /proc/$$/fd | sort -n | tr '\\n' ' '; echo; cat /dev/fd/3; echo; "
                             "read x; echo \"stdin=$?\"");
    spec.environment = {"PATH=/usr/bin:/bin", "ONLY=this"};
    spec.workingDirectory = dir.path();
    spec.passFds = {{memfd, 3}};
    Collected c;
    const ProcessOutcome o = runProcess(spec, c.sink(), {});
    ::close(memfd);
    CHECK(o.exitCode == 0);
    const std::vector<std::string> out = c.lines(OutputStream::Stdout);
    REQUIRE(out.size() >= 6);
    CHECK(out[0] == dir.path());
    CHECK(std::find(out.begin(), out.end(), "ONLY=this") != out.end());
    CHECK(std::find(out.begin(), out.end(), "0 1 2 3 ") != out.end());  // nothing else leaked in
    CHECK(std::find(out.begin(), out.end(), "from-memfd") != out.end());
    CHECK(out.back() == "stdin=1");  // /dev/null: end of input at once
}

TEST_CASE("process runner: a program that cannot run is reported, not thrown", "[unit][ansible][runner]") {
    ProcessSpec spec = shell("true");
    spec.program = "/nonexistent/ansible-playbook";
    Collected c;
    const ProcessOutcome o = runProcess(spec, c.sink(), {});
    CHECK(o.end == ProcessEnd::NotStarted);
    CHECK(o.spawnErrno == ENOENT);
    CHECK(findExecutable("sh", "/nonexistent::/bin") == "/bin/sh");
    CHECK(findExecutable("no-such-program-here", "/usr/bin:/bin").empty());
    CHECK(findExecutable("/x/y", "") == "/x/y");
}

TEST_CASE("process runner: timeout and cancel kill everything the program started", "[unit][ansible][runner]") {
    const std::string marker = uniqueMarker();
    // The background sleeper ignores SIGTERM: only the SIGKILL after the grace period ends it.
    ProcessSpec spec = bash("(trap '' TERM; exec -a " + marker + " sleep 60) & sleep 60; echo never");
    spec.killGrace = std::chrono::milliseconds(500);
    Collected c;
    const auto t0 = std::chrono::steady_clock::now();
    ProcessOutcome o;
    int polls = 0;
    SECTION("timeout") {
        spec.timeout = std::chrono::milliseconds(1500);
        o = runProcess(spec, c.sink(), {});
        CHECK(o.end == ProcessEnd::TimedOut);
        CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(1500));
    }
    SECTION("cancel") {
        o = runProcess(spec, c.sink(), [&] {
            ++polls;
            return std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(1000);
        });
        CHECK(o.end == ProcessEnd::Cancelled);
        CHECK(polls >= 9);  // at least every 100 ms (plus the one that said yes)
    }
    CHECK(o.exitCode == -1);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
    CHECK(c.lines(OutputStream::Stdout).empty());
    CHECK(processesWith(marker) == 0);
}

TEST_CASE("process runner: what the program leaves running is killed when it exits", "[unit][ansible][runner]") {
    const std::string marker = uniqueMarker();
    // set -m puts the background job in a process group of its own (still in the session), and
    // it keeps stdout open: neither the group kill nor waiting for end of output would end it.
    const ProcessSpec spec = bash("set -m; (exec -a " + marker + " sleep 60) & sleep 0.2; echo main done");
    Collected c;
    const auto t0 = std::chrono::steady_clock::now();
    const ProcessOutcome o = runProcess(spec, c.sink(), {});
    CHECK(o.end == ProcessEnd::Exited);
    CHECK(o.exitCode == 0);
    CHECK(c.lines(OutputStream::Stdout) == std::vector<std::string>{"main done"});
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
    CHECK(processesWith(marker) == 0);
}
