// How the backend runs virsh: no shell, a scrubbed environment, stdin from a pipe, a deadline
// that kills the whole process group. Through runChild directly and through the built .so
// pointed at fake virsh scripts (PADDOCK_VIRSH).
#include "plugin_fixture.hpp"

#include <child_process.hpp>
#include <virsh_output.hpp>

#include <paddock/cpp/error.hpp>

#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

using namespace virshtest;
namespace t = paddock::test;
using paddock::virsh::runChild;
using std::chrono::milliseconds;

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// True while `pid` is a live process (a zombie waiting for its reaper counts as gone).
bool processLives(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) return false;
    std::string line;
    std::getline(stat, line);
    const size_t close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

std::vector<pid_t> readPids(const std::string& file) {
    std::vector<pid_t> pids;
    std::ifstream in(file);
    long p = 0;
    while (in >> p) pids.push_back(static_cast<pid_t>(p));
    return pids;
}

std::vector<std::string> readLines(const std::string& file) {
    std::vector<std::string> lines;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

}  // namespace

TEST_CASE("runChild captures stdout, stderr, the exit code and feeds stdin", "[process]") {
    const auto r = runChild({"/bin/sh", "-c", "cat; echo out; echo err >&2; exit 3"}, {"PATH=/usr/bin:/bin"},
                            std::string("piped\n"), milliseconds(5000));
    CHECK(r.exitCode == 3);
    CHECK(r.out == "piped\nout\n");
    CHECK(r.err == "err\n");
    CHECK_FALSE(r.timedOut);

    // A child that never reads a large stdin and exits: no SIGPIPE reaches this process.
    const std::string big(4 << 20, 'x');
    const auto early = runChild({"/bin/true"}, {}, big, milliseconds(5000));
    CHECK(early.exitCode == 0);

    // Output larger than a pipe buffer.
    const auto lots = runChild({"/bin/sh", "-c", "head -c 3000000 /dev/zero"}, {"PATH=/usr/bin:/bin"}, std::nullopt,
                               milliseconds(10000));
    CHECK(lots.out.size() == 3000000);
}

TEST_CASE("runChild: the deadline kills the whole process group", "[process]") {
    t::TempDir dir;
    const std::string pids = dir.file("pids");
    // The shell and a grandchild that holds the pipes: both must go.
    const auto start = std::chrono::steady_clock::now();
    const auto r = runChild({"/bin/sh", "-c", "echo $$ > " + pids + "; sleep 30 & echo $! >> " + pids + "; wait"},
                            {"PATH=/usr/bin:/bin"}, std::nullopt, milliseconds(700));
    CHECK(r.timedOut);
    CHECK(secondsSince(start) < 5);
    const auto seen = readPids(pids);
    REQUIRE(seen.size() == 2);
    CHECK(t::eventually([&] { return !processLives(seen[0]) && !processLives(seen[1]); }, std::chrono::seconds(5)));

    // A child that exits while a grandchild keeps its stdout open: the call returns soon after
    // the exit, with its status, and the grandchild is gone too.
    const std::string pids2 = dir.file("pids2");
    const auto start2 = std::chrono::steady_clock::now();
    const auto r2 = runChild({"/bin/sh", "-c", "sleep 30 & echo $! > " + pids2 + "; exit 4"}, {"PATH=/usr/bin:/bin"},
                             std::nullopt, milliseconds(20000));
    CHECK_FALSE(r2.timedOut);
    CHECK(r2.exitCode == 4);
    CHECK(secondsSince(start2) < 5);
    const auto seen2 = readPids(pids2);
    REQUIRE(seen2.size() == 1);
    CHECK(t::eventually([&] { return !processLives(seen2[0]); }, std::chrono::seconds(5)));
}

TEST_CASE("runChild refuses relative programs and reports missing ones", "[process]") {
    CHECK_THROWS_AS(runChild({"virsh"}, {}, std::nullopt, milliseconds(1000)), pdk::Error);
    try {
        runChild({"/nonexistent/virsh"}, {}, std::nullopt, milliseconds(1000));
        FAIL("no exception");
    } catch (const pdk::Error& e) {
        CHECK(e.status() == PDK_ERR_UNAVAILABLE);
        CHECK(std::string(e.what()).find("not found") != std::string::npos);
    }
}

TEST_CASE("a missing virsh answers UNAVAILABLE 'virsh not found' at open", "[process]") {
    pdk_backend_connection* c = nullptr;
    {
        ScopedEnv env("PADDOCK_VIRSH", "/nonexistent/bin/virsh");
        Err err;
        CHECK(vt().open("qemu:///system", 0, &c, &err) == PDK_ERR_UNAVAILABLE);
        CHECK(err.text().find("virsh not found") != std::string::npos);
    }
    {
        ScopedEnv env("PADDOCK_VIRSH", "no-such-virsh-program");
        Err err;
        CHECK(vt().open("qemu:///system", 0, &c, &err) == PDK_ERR_UNAVAILABLE);
        CHECK(err.text().find("virsh not found") != std::string::npos);
    }
    {
        ScopedEnv env("PADDOCK_VIRSH_TIMEOUT_MS", "soon");
        Err err;
        CHECK(vt().open("test:///default", 0, &c, &err) == PDK_ERR_INVALID_ARGUMENT);
    }
    Err err;
    CHECK(vt().open("test:///default", 0x10, &c, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().open("-c", 0, &c, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().open("qemu:///system\n", 0, &c, &err) == PDK_ERR_INVALID_ARGUMENT);
}

TEST_CASE("a hung virsh call is killed at its deadline and leaves no process", "[process]") {
    t::TempDir dir;
    const std::string script = dir.file("virsh");
    const std::string pids = dir.file("pids");
    // Answers `version` (the probe at open) at once and hangs on everything else, with a
    // grandchild, as an ssh to a dead host would.
    writeScript(script, "for a in \"$@\"; do [ \"$a\" = version ] && { printf '" + std::string(kFakeVersion) +
                            "'; exit 0; }; done\n"
                            "echo $$ >> " + pids + "\nsleep 60 &\necho $! >> " + pids + "\nwait\n");
    ScopedEnv env("PADDOCK_VIRSH", script);
    ScopedEnv timeout("PADDOCK_VIRSH_TIMEOUT_MS", "800");
    Conn c("qemu:///system");

    Err err;
    DomainView v;
    const auto start = std::chrono::steady_clock::now();
    CHECK(c.get("paddock-virsh-test-hung", v, err) == PDK_ERR_TIMEOUT);
    const double took = secondsSince(start);
    INFO(err.text());
    CHECK(err.text().find("did not finish within 800 ms") != std::string::npos);
    CHECK(took >= 0.7);
    CHECK(took < 5);
    const auto seen = readPids(pids);
    REQUIRE(seen.size() == 2);
    CHECK(t::eventually([&] { return !processLives(seen[0]) && !processLives(seen[1]); }, std::chrono::seconds(5)));

    // is_alive has its own short deadline (min(5 s, the call timeout)) and says no.
    CHECK(vt().is_alive(c.get()) == 0);
}

TEST_CASE("virsh gets an argv array and a scrubbed C-locale environment", "[process]") {
    t::TempDir dir;
    const std::string script = dir.file("virsh");
    const std::string args = dir.file("args");
    const std::string envFile = dir.file("env");
    const std::string stdinFile = dir.file("stdin");
    writeScript(script, "for a in \"$@\"; do [ \"$a\" = version ] && { printf '" + std::string(kFakeVersion) +
                            "'; exit 0; }; done\n"
                            "printf '%s\\n' \"$@\" > " + args + "\nenv > " + envFile + "\ncat > " + stdinFile +
                            "\necho 'error: failed to get domain' >&2\nexit 1\n");
    ScopedEnv env("PADDOCK_VIRSH", script);
    ScopedEnv leak("PADDOCK_SECRET_TEST_VALUE", "must-not-leak");
    ScopedEnv locale("LC_ALL", "de_DE.UTF-8");
    ScopedEnv uri("LIBVIRT_DEFAULT_URI", "test:///default");
    Conn c("qemu+ssh://user@host.invalid/system");

    const std::string odd = "a b'c\"d$(touch x);e`f`|g";
    Err err;
    DomainView v;
    CHECK(c.get(odd.c_str(), v, err) == PDK_ERR_NOT_FOUND);
    const auto argv = readLines(args);
    REQUIRE(argv.size() >= 6);
    CHECK(argv[0] == "-c");
    CHECK(argv[1] == "qemu+ssh://user@host.invalid/system");
    CHECK(argv[2] == "--quiet");
    CHECK(argv[3] == "dominfo");
    CHECK(argv[4] == "--domain");
    CHECK(argv[5] == odd);
    const std::string envText = t::readFile(envFile);
    CHECK(envText.find("LC_ALL=C\n") != std::string::npos);
    CHECK(envText.find("must-not-leak") == std::string::npos);
    CHECK(envText.find("LIBVIRT_DEFAULT_URI") == std::string::npos);
    CHECK(envText.find("de_DE") == std::string::npos);
    CHECK(t::readFile(stdinFile).empty());  // /dev/null unless data is piped

    // Hostile names never reach virsh: the args file stays as the last call left it.
    ::unlink(args.c_str());
    for (const std::string& bad : {std::string("--connect"), std::string("-c"), std::string("x\ny"),
                                   std::string(10 * 1024, 'n'), std::string("\x1b]0;title\x07")}) {
        Err e;
        CHECK(c.get(bad.c_str(), v, e) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(vt().start_domain(c.get(), bad.c_str(), 0, &e) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(vt().snapshot_create(c.get(), "ok", bad.c_str(), 0, &e) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(vt().delete_volume(c.get(), bad.c_str(), 0, &e) == PDK_ERR_INVALID_ARGUMENT);
    }
    CHECK_FALSE(std::ifstream(args).good());
    // Unknown flag bits are refused before anything else, hostile name or not.
    CHECK(vt().start_domain(c.get(), "--connect", 0x4, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().undefine_domain(c.get(), "x", 0x2, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().list_domains(c.get(), 0x2, &collectDomain, &v, &err) == PDK_ERR_BAD_FLAGS);
    CHECK_FALSE(std::ifstream(args).good());

    // The domain XML of a define reaches virsh on its stdin (`define --file /dev/stdin`).
    pdk_domain_spec s = diskless("paddock-virsh-test-stdin");
    s.domain_type = "qemu";  // no `capabilities` run for "auto"
    CHECK(vt().define_domain(c.get(), &s, 0, &err) != PDK_OK);  // the fake finds nothing, then fails
    const auto defineArgs = readLines(args);
    REQUIRE(defineArgs.size() >= 6);
    CHECK(defineArgs[3] == "define");
    CHECK(defineArgs[5] == "/dev/stdin");
    CHECK(t::readFile(stdinFile).find("<name>paddock-virsh-test-stdin</name>") != std::string::npos);
}

TEST_CASE("is_alive runs virsh at most once per 5 s", "[process]") {
    t::TempDir dir;
    const std::string script = dir.file("virsh");
    const std::string calls = dir.file("calls");
    writeScript(script, "for a in \"$@\"; do [ \"$a\" = version ] && { printf '" + std::string(kFakeVersion) +
                            "'; exit 0; }; done\n"
                            "echo \"$*\" >> " + calls + "\necho qemu:///system\n");
    ScopedEnv env("PADDOCK_VIRSH", script);
    Conn c("qemu:///system");
    for (int i = 0; i < 5; ++i) CHECK(vt().is_alive(c.get()) == 1);
    const auto lines = readLines(calls);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == "-c qemu:///system --quiet uri");
}
