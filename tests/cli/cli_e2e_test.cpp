// The built `paddock` binary end to end against the real paddockd on test:///default: every
// verb in tables and -o json (parsed back), exit codes for 401/403/404/409/400 and an unreachable
// server, token from file and environment, https with --ca-file, --help for every verb, sessions listed, downloaded
// and played; hostile answers (malformed, wrong shape, huge) from a raw socket; and the
// interactive console under a pty against a real sshd (terminal_site): typing, resize through
// TIOCSWINSZ + SIGWINCH seen by `stty size`, Ctrl-] detaching, and pipe mode.
#include "cli_process.hpp"
#include "paddock/cli/args.hpp"
#include "paddockd_fixture.hpp"
#include "terminal_site.hpp"

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

using namespace paddock::test;
using namespace std::chrono_literals;

namespace {

const std::string kAdmin = "cli-admin-token-0123456789";
const std::string kViewer = "cli-viewer-token-0123456789";

const std::string kCast =
    "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": 1714557600, \"vm\": \"vm-a\", \"owner\": "
    "\"alice\"}\n"
    "[0.100000, \"o\", \"hello from the cast\\r\\n\"]\n"
    "[0.200000, \"i\", \"secret-input\"]\n"
    "[1.500000, \"o\", \"second line\\r\\n\"]\n";

DaemonOptions e2eOptions() {
    DaemonOptions options;
    options.tokens = {{"cli-admin", kAdmin, "admin"}, {"cli-viewer", kViewer, "viewer"}};
    options.recording_directory = "casts";
    SiteOptions& site = options.sites.front();
    site.storage_pool = "default-pool";
    site.templates = {{.name = "tiny", .base_image = "/var/lib/paddock/test/base.qcow2", .memory_mb = 128}};
    site.pools = {{.name = "lab",
                   .template_name = "tiny",
                   .mode = "running",
                   .min_idle = 1,
                   .max_total = 2,
                   .default_ttl_s = 600,
                   .max_ttl_s = 3600}};
    return options;
}

rapidjson::Document parse(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse(text.c_str(), text.size());
    INFO(text);
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
}

// paddock against the fixture with the admin token in the environment.
class Cli {
public:
    explicit Cli(const PaddockdFixture& d, std::string token = kAdmin) : d_(d), token_(std::move(token)) {}
    CliRun operator()(const std::vector<std::string>& args, const std::string& input = {}) const {
        auto run = runCli(args, {"PADDOCK_URL=" + d_.baseUrl(), "PADDOCK_TOKEN=" + token_}, input);
        UNSCOPED_INFO("paddock exit " << run.exit << "\nstdout: " << run.out << "\nstderr: " << run.err);
        return run;
    }

private:
    const PaddockdFixture& d_;
    std::string token_;
};

// A one-shot HTTP server on loopback that answers every request with `response` (raw bytes):
// the hostile peer for the client's answer parsing.
class RawServer {
public:
    explicit RawServer(std::string response) : socket_(Poco::Net::SocketAddress("127.0.0.1", 0)), response_(std::move(response)) {
        thread_ = std::thread([this] {
            try {
                Poco::Net::StreamSocket client = socket_.acceptConnection();
                char buffer[4096];
                std::string head;
                while (head.find("\r\n\r\n") == std::string::npos) {
                    const int n = client.receiveBytes(buffer, sizeof buffer);
                    if (n <= 0) break;
                    head.append(buffer, static_cast<size_t>(n));
                }
                size_t sent = 0;
                while (sent < response_.size()) {
                    const int n = client.sendBytes(response_.data() + sent,
                                                   static_cast<int>(std::min<size_t>(response_.size() - sent, 1 << 20)));
                    if (n <= 0) break;
                    sent += static_cast<size_t>(n);
                }
                client.shutdown();
            } catch (const Poco::Exception&) {
                // The client may hang up first (a refused huge answer).
            }
        });
    }
    ~RawServer() {
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(socket_.address().port()); }

private:
    Poco::Net::ServerSocket socket_;
    std::string response_;
    std::thread thread_;
};

std::string httpResponse(int status, const std::string& body, const std::string& type = "application/json") {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + type + "\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

TEST_CASE("paddock against paddockd: VMs, pools, leases, sites, plugins, sessions, exit codes", "[cli][e2e]") {
    PaddockdFixture d(e2eOptions());
    const Cli cli(d);

    SECTION("help for every verb, without a server or a token") {
        for (const auto& c : paddock::cli::commandSpecs()) {
            auto run = runCli({c.group, c.verb, "--help"});
            CHECK(run.exit == 0);
            CHECK(run.out.find("Usage: paddock " + c.group + " " + c.verb) != std::string::npos);
        }
        auto top = runCli({"--help"});
        CHECK(top.exit == 0);
        CHECK(top.out.find("Exit codes:") != std::string::npos);
        CHECK(runCli({"vm", "--help"}).out.find("console NAME") != std::string::npos);
        auto bad = runCli({"vm", "explode"});
        CHECK(bad.exit == 2);
        CHECK(bad.err.find("unknown verb 'explode'") != std::string::npos);
        CHECK(runCli({"vm", "ls", "--frobnicate"}).exit == 2);
    }

    SECTION("VM lifecycle in tables and JSON") {
        auto created = cli({"vm", "create", "cli-vm-1", "--template", "tiny", "--memory", "256", "--owner", "alice", "--no-start"});
        REQUIRE(created.exit == 0);
        CHECK(created.out.find("name") != std::string::npos);
        CHECK(created.out.find("cli-vm-1") != std::string::npos);

        auto ls = cli({"vm", "ls"});
        REQUIRE(ls.exit == 0);
        CHECK(ls.out.rfind("NAME ", 0) == 0);
        CHECK(ls.out.find("cli-vm-1") != std::string::npos);
        CHECK(ls.out.find("alice") != std::string::npos);
        CHECK(cli({"vm", "ls", "-o", "wide"}).out.find("UUID") != std::string::npos);
        CHECK(cli({"vm", "ls", "--owner", "alice", "--state", "shutoff"}).out.find("cli-vm-1") != std::string::npos);
        CHECK(cli({"vm", "ls", "--owner", "bob"}).out.find("cli-vm-1") == std::string::npos);
        CHECK(cli({"vm", "ls", "--state", "running"}).out.find("cli-vm-1") == std::string::npos);
        auto bogus = cli({"vm", "ls", "--state", "bogus"});  // the API's 400, in its words
        CHECK(bogus.exit == 1);
        CHECK(bogus.err.find("?state=") != std::string::npos);

        auto json = cli({"vm", "ls", "-o", "json"});
        REQUIRE(json.exit == 0);
        auto doc = parse(json.out);
        REQUIRE(doc["vms"].IsArray());
        bool found = false;
        for (const auto& vm : doc["vms"].GetArray())
            if (std::string(vm["name"].GetString()) == "cli-vm-1") {
                found = true;
                CHECK(vm["memory_mb"].GetInt() == 256);
                CHECK(std::string(vm["owner"].GetString()) == "alice");
            }
        CHECK(found);

        auto start = cli({"vm", "start", "cli-vm-1", "-o", "json"});
        REQUIRE(start.exit == 0);
        CHECK(std::string(parse(start.out)["vm"]["state"].GetString()) == "running");
        auto show = cli({"vm", "show", "cli-vm-1"});
        REQUIRE(show.exit == 0);
        CHECK(show.out.find("state") != std::string::npos);
        CHECK(show.out.find("running") != std::string::npos);
        CHECK(cli({"vm", "restart", "cli-vm-1"}).exit == 0);
        auto stop = cli({"vm", "stop", "cli-vm-1", "--force", "-o", "json"});
        REQUIRE(stop.exit == 0);
        CHECK(parse(stop.out)["vm"]["state"].IsString());

        // 409: the name is taken; 400: a name the API refuses; 403: a viewer may not create.
        auto again = cli({"vm", "create", "cli-vm-1", "--template", "tiny", "--no-start"});
        CHECK(again.exit == 5);
        CHECK(again.err.find("paddock: ") == 0);
        CHECK(again.err.find("409") != std::string::npos);
        CHECK(cli({"vm", "create", "Bad_Name", "--no-start"}).exit == 1);
        CHECK(Cli(d, kViewer)({"vm", "create", "cli-vm-2", "--no-start"}).exit == 3);
        CHECK(cli({"vm", "create", "cli-vm-3", "--vcpus", "many"}).exit == 2);

        // rm refuses without a terminal unless --yes.
        auto refused = cli({"vm", "rm", "cli-vm-1"});
        CHECK(refused.exit == 2);
        CHECK(refused.err.find("--yes") != std::string::npos);
        CHECK(cli({"vm", "show", "cli-vm-1"}).exit == 0);
        auto rm = cli({"vm", "rm", "cli-vm-1", "--yes", "-o", "json"});
        REQUIRE(rm.exit == 0);
        CHECK(std::string(parse(rm.out)["name"].GetString()) == "cli-vm-1");

        auto gone = cli({"vm", "show", "cli-vm-1"});
        CHECK(gone.exit == 4);
        CHECK(gone.err.find("404") != std::string::npos);
        CHECK(cli({"vm", "start", "cli-vm-1"}).exit == 4);
    }

    SECTION("create --wait returns once the VM is settled") {
        auto created = cli({"vm", "create", "cli-vm-w", "--template", "tiny", "--wait", "-o", "json"});
        REQUIRE(created.exit == 0);
        CHECK(std::string(parse(created.out)["vm"]["name"].GetString()) == "cli-vm-w");
        CHECK(cli({"vm", "rm", "-y", "cli-vm-w"}).exit == 0);
    }

    SECTION("pools and leases") {
        REQUIRE(eventually([&] { return d.getJson("/api/v1/pools/lab")["idle"].GetUint() == 1; }));
        auto pools = cli({"pool", "ls"});
        REQUIRE(pools.exit == 0);
        CHECK(pools.out.find("lab") != std::string::npos);
        CHECK(parse(cli({"pool", "ls", "-o", "json"}).out)["pools"].Size() == 1);

        auto lease = cli({"pool", "allocate", "lab", "--owner", "bob", "--ttl", "600", "-o", "json"});
        REQUIRE(lease.exit == 0);
        const auto leaseDoc = parse(lease.out);
        const std::string id = leaseDoc["id"].GetString();
        CHECK(std::string(leaseDoc["owner"].GetString()) == "bob");

        auto leases = cli({"lease", "ls", "--owner", "bob"});
        REQUIRE(leases.exit == 0);
        CHECK(leases.out.find(id) != std::string::npos);
        CHECK(parse(cli({"lease", "ls", "--owner", "nobody", "-o", "json"}).out)["leases"].Size() == 0);

        auto extended = cli({"lease", "extend", id, "--ttl", "1800", "-o", "json"});
        REQUIRE(extended.exit == 0);
        CHECK(parse(extended.out)["ttl_s"].GetInt() > 600);
        CHECK(cli({"lease", "extend", id}).exit == 2);
        CHECK(cli({"lease", "extend", id, "--seconds", "-5"}).exit == 2);
        CHECK(cli({"lease", "extend", "no-such-lease", "--ttl", "60"}).exit == 4);
        CHECK(Cli(d, kViewer)({"lease", "extend", id, "--ttl", "60"}).exit == 3);

        auto released = cli({"lease", "release", id});
        REQUIRE(released.exit == 0);
        CHECK(cli({"lease", "release", id}).exit == 4);
        CHECK(cli({"pool", "allocate", "no-such-pool"}).exit == 4);
    }

    SECTION("sites and plugins") {
        auto sites = cli({"site", "ls"});
        REQUIRE(sites.exit == 0);
        CHECK(sites.out.find("test:///default") != std::string::npos);
        CHECK(parse(cli({"site", "ls", "-o", "json"}).out)["sites"].Size() == 1);
        auto plugins = cli({"plugin", "ls"});
        REQUIRE(plugins.exit == 0);
        CHECK(plugins.out.find("org.paddock.libvirt-qemu") != std::string::npos);
        CHECK(parse(cli({"plugin", "ls", "-o", "json"}).out)["plugins"].IsArray());
    }

    SECTION("sessions: list, download, play; malformed casts refused") {
        writeFile(d.recordingDir() + "/s-cli.cast", kCast);
        auto ls = cli({"session", "ls"});
        REQUIRE(ls.exit == 0);
        CHECK(ls.out.find("s-cli") != std::string::npos);
        CHECK(parse(cli({"session", "ls", "--vm", "vm-a", "-o", "json"}).out)["sessions"].Size() == 1);

        auto toStdout = cli({"session", "download", "s-cli"});
        REQUIRE(toStdout.exit == 0);
        CHECK(toStdout.out == kCast);
        const std::string file = d.dir().file("copy.cast");
        REQUIRE(cli({"session", "download", "s-cli", "-O", file}).exit == 0);
        CHECK(readFile(file) == kCast);
        CHECK(cli({"session", "download", "nope"}).exit == 4);
        CHECK(cli({"session", "download", ".."}).exit == 1);

        auto played = cli({"session", "play", "s-cli", "--speed", "100"});
        REQUIRE(played.exit == 0);
        CHECK(played.out == "hello from the cast\r\nsecond line\r\n");  // no input events
        auto local = cli({"session", "play", file, "--idle-limit", "0.01"});
        REQUIRE(local.exit == 0);
        CHECK(local.out == played.out);

        const std::string broken = d.dir().file("broken.cast");
        writeFile(broken, "{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.1, \"o\", \"ok\"]\n[0.2, \"o\"\n");
        auto bad = cli({"session", "play", broken});
        CHECK(bad.exit == 1);
        CHECK(bad.out == "ok");
        CHECK(bad.err.find("line 3") != std::string::npos);
        writeFile(broken, "not json at all\n");
        CHECK(cli({"session", "play", broken}).exit == 1);
        CHECK(cli({"session", "play", "/no/such/file.cast"}).exit == 4);
        CHECK(cli({"session", "play", "s-cli", "--speed", "0"}).exit == 2);
    }

    SECTION("tokens: file, environment, wrong, none; an unreachable server") {
        const std::string tokenFile = d.dir().file("token");
        writeFile(tokenFile, kAdmin + "\n");
        auto fromFile = runCli({"--url", d.baseUrl(), "--token-file", tokenFile, "site", "ls"});
        CHECK(fromFile.exit == 0);
        auto wrong = runCli({"site", "ls"}, {"PADDOCK_URL=" + d.baseUrl(), "PADDOCK_TOKEN=not-the-token"});
        CHECK(wrong.exit == 3);
        CHECK(wrong.err.find("401") != std::string::npos);
        CHECK(runCli({"--url", d.baseUrl(), "site", "ls"}).exit == 3);
        CHECK(runCli({"--url", d.baseUrl(), "--token-file", d.dir().file("missing"), "site", "ls"}).exit == 2);
        // --token works, though help warns about ps.
        CHECK(runCli({"--url", d.baseUrl(), "--token", kAdmin, "site", "ls"}).exit == 0);

        const uint16_t closed = freeLoopbackPort();
        auto refused = runCli({"--url", "http://127.0.0.1:" + std::to_string(closed), "vm", "ls"});
        CHECK(refused.exit == 6);
        CHECK(refused.err.find("connection refused") != std::string::npos);
        CHECK(runCli({"--url", "not a url", "vm", "ls"}).exit == 2);
    }
}

TEST_CASE("hostile answers: malformed JSON, wrong shapes, huge bodies, errors that are not JSON", "[cli][e2e][hostile]") {
    struct Case {
        std::string response;
        int exit;
        std::string message;
    };
    const std::vector<Case> cases = {
        {httpResponse(200, "{\"vms\": [1, 2"), 1, "unexpected answer"},
        {httpResponse(200, "{\"vms\": 5}"), 1, "unexpected answer"},
        {httpResponse(200, std::string(200000, '[')), 1, "unexpected answer"},
        {httpResponse(200, "{\"vms\":[{\"name\":\"\\u001b[2Jevil\"}]}"), 0, ""},
        {httpResponse(500, "<html>oops</html>", "text/html"), 6, "oops"},
        {httpResponse(404, "{\"error\":{\"code\":\"not_found\",\"message\":\"gone\"}}"), 4, "gone (not_found)"},
        {httpResponse(200, std::string(70u << 20, ' ')), 1, "larger than"},
        {"garbage that is not HTTP\r\n\r\n", 6, "cannot talk to"},
    };
    for (const auto& c : cases) {
        RawServer server(c.response);
        auto run = runCli({"--url", server.url(), "vm", "ls"}, {"PADDOCK_TOKEN=x"});
        INFO(c.response.substr(0, 80) << "\nstderr: " << run.err);
        CHECK(run.exit == c.exit);
        CHECK(run.err.find(c.message) != std::string::npos);
        CHECK(run.out.find('\x1b') == std::string::npos);  // escape sequences never reach the terminal
    }
}

TEST_CASE("https: the server's CA from --ca-file, refused without it, --insecure", "[cli][e2e][tls]") {
    DaemonOptions options;
    options.tls = true;
    options.tokens = {{"cli-admin", kAdmin, "admin"}};
    PaddockdFixture d(options);
    const std::vector<std::string> env = {"PADDOCK_URL=" + d.baseUrl(), "PADDOCK_TOKEN=" + kAdmin};
    REQUIRE(d.baseUrl().rfind("https://", 0) == 0);
    auto trusted = runCli({"--ca-file", d.caFile(), "site", "ls"}, env);
    INFO(trusted.err);
    CHECK(trusted.exit == 0);
    CHECK(trusted.out.find("test:///default") != std::string::npos);
    auto untrusted = runCli({"site", "ls"}, env);
    CHECK(untrusted.exit == 6);
    CHECK(untrusted.err.find("TLS") != std::string::npos);
    CHECK(runCli({"--insecure", "site", "ls"}, env).exit == 0);
    CHECK(runCli({"--ca-file", d.dir().file("missing.pem"), "site", "ls"}, env).exit == 2);
}

namespace {

// paddock under a pseudo-terminal, as a person at a terminal runs it.
class PtyCli {
public:
    PtyCli(const std::vector<std::string>& args, const std::vector<std::string>& env, unsigned cols, unsigned rows) {
        winsize ws{};
        ws.ws_col = static_cast<unsigned short>(cols);
        ws.ws_row = static_cast<unsigned short>(rows);
        const CliExec command(args, env);
        pid_ = ::forkpty(&master_, nullptr, nullptr, &ws);
        if (pid_ < 0) throw std::runtime_error("forkpty failed");
        if (pid_ == 0) command.exec();
    }
    ~PtyCli() {
        if (pid_ > 0 && exit_ < 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(master_);
    }

    void type(const std::string& bytes) {
        REQUIRE(::write(master_, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
    }
    // Reads until the output since the last clear() contains `needle` (true), or EOF/timeout.
    bool waitFor(const std::string& needle, std::chrono::seconds timeout = 60s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (output_.find(needle) == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            pollfd fd{master_, POLLIN, 0};
            if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
            char buffer[4096];
            const ssize_t n = ::read(master_, buffer, sizeof buffer);
            if (n <= 0) return false;  // EIO: the child is gone
            output_.append(buffer, static_cast<size_t>(n));
        }
        return true;
    }
    void resize(unsigned cols, unsigned rows) {
        winsize ws{};
        ws.ws_col = static_cast<unsigned short>(cols);
        ws.ws_row = static_cast<unsigned short>(rows);
        // The kernel sends SIGWINCH to the terminal's foreground process group: paddock.
        REQUIRE(::ioctl(master_, TIOCSWINSZ, &ws) == 0);
    }
    // The exit code once the child ended by itself within `timeout`, else -1.
    int waitExit(std::chrono::seconds timeout = 60s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                return exit_;
            }
            waitFor("\x01never\x02", 1s);  // keeps draining the output meanwhile
        }
        return -1;
    }
    const std::string& output() const noexcept { return output_; }
    void clear() { output_.clear(); }
    int master() const noexcept { return master_; }
    pid_t pid() const noexcept { return pid_; }

private:
    int master_ = -1;
    pid_t pid_ = -1;
    int exit_ = -1;
    std::string output_;
};

// The terminal modes of the pty as the test sees them from the master side.
bool echoOn(int fd) {
    termios t{};
    REQUIRE(::tcgetattr(fd, &t) == 0);
    return (t.c_lflag & ECHO) != 0 && (t.c_lflag & ICANON) != 0;
}

}  // namespace

TEST_CASE("vm console under a pty: type, resize, detach; pipe mode; refusals", "[cli][e2e][console]") {
    TerminalSite site;
    const std::vector<std::string> env = {"PADDOCK_URL=" + site.baseUrl(), "PADDOCK_TOKEN=" + site.token()};

    SECTION("interactive: raw mode, echo, SIGWINCH resize, Ctrl-] detaches and restores the terminal") {
        PtyCli pty({"vm", "console", "term"}, env, 80, 24);
        REQUIRE(pty.waitFor("Connected to term"));
        CHECK(pty.output().find("Ctrl-] detaches") != std::string::npos);
        CHECK_FALSE(echoOn(pty.master()));  // raw mode while attached
        pty.type("echo hello-$((6*7))\r");
        REQUIRE(pty.waitFor("hello-42"));
        pty.clear();
        pty.type("stty size\r");
        REQUIRE(pty.waitFor("24 80"));

        pty.resize(100, 40);
        pty.clear();
        pty.type("stty size\r");
        REQUIRE(pty.waitFor("40 100"));

        pty.clear();
        pty.type(std::string(1, '\x1d'));
        REQUIRE(pty.waitFor("Detached from term."));
        CHECK(pty.waitExit() == 0);
        CHECK(echoOn(pty.master()));  // the terminal's own modes are back
    }

    SECTION("interactive: the shell exiting ends the console with exit 0") {
        PtyCli pty({"vm", "console", "term"}, env, 80, 24);
        REQUIRE(pty.waitFor("Connected to term"));
        pty.type("exit\r");
        REQUIRE(pty.waitFor("Connection to term closed."));
        CHECK(pty.waitExit() == 0);
        CHECK(echoOn(pty.master()));
    }

    SECTION("a signal ends the console and still restores the terminal") {
        PtyCli pty({"vm", "console", "term"}, env, 80, 24);
        REQUIRE(pty.waitFor("Connected to term"));
        CHECK_FALSE(echoOn(pty.master()));
        REQUIRE(::kill(pty.pid(), SIGTERM) == 0);
        REQUIRE(pty.waitFor("ended by signal"));
        CHECK(pty.waitExit() == 1);
        CHECK(echoOn(pty.master()));
    }

    SECTION("pipe mode: input sent as it is, its end ends the shell") {
        auto run = runCli({"vm", "console", "term"}, env, "echo piped-$((2*3))\n");
        INFO("stdout: " << run.out << "\nstderr: " << run.err);
        CHECK(run.exit == 0);
        CHECK(run.out.find("piped-6") != std::string::npos);
        CHECK(run.err.find("Connection to term closed.") != std::string::npos);
    }

    SECTION("a changed host key: the server's error frame, in plain words") {
        REQUIRE(runCli({"vm", "console", "term"}, env, "exit\n").exit == 0);  // pins the host key
        site.sshd().rotateHostKey();
        auto run = runCli({"vm", "console", "term"}, env, "echo never\n");
        INFO("stderr: " << run.err);
        CHECK(run.exit == 5);
        CHECK(run.err.find("paddock: the terminal failed: ") == 0);
        CHECK(run.err.find("host key") != std::string::npos);
        CHECK(run.out.empty());
    }

    SECTION("refusals: unknown VM, no token, a viewer") {
        CHECK(runCli({"vm", "console", "nosuch"}, env).exit == 4);
        CHECK(runCli({"vm", "console", "term"}, {"PADDOCK_URL=" + site.baseUrl()}).exit == 3);
        CHECK(runCli({"vm", "console", "term"}, {"PADDOCK_URL=" + site.baseUrl(), "PADDOCK_TOKEN=" + site.tokenFor("viewer")})
                  .exit == 3);
    }
}

TEST_CASE("vm rm asks on a terminal: no keeps the VM, yes deletes it", "[cli][e2e][rm]") {
    PaddockdFixture d(e2eOptions());
    const std::vector<std::string> env = {"PADDOCK_URL=" + d.baseUrl(), "PADDOCK_TOKEN=" + kAdmin};
    REQUIRE(runCli({"vm", "create", "cli-rm", "--template", "tiny", "--no-start"}, env).exit == 0);
    {
        PtyCli pty({"vm", "rm", "cli-rm"}, env, 80, 24);
        REQUIRE(pty.waitFor("Delete VM cli-rm and its disk? [y/N]"));
        pty.type("n\r");
        REQUIRE(pty.waitFor("Not deleted."));
        CHECK(pty.waitExit() == 1);
    }
    CHECK(runCli({"vm", "show", "cli-rm"}, env).exit == 0);
    {
        PtyCli pty({"vm", "rm", "cli-rm"}, env, 80, 24);
        REQUIRE(pty.waitFor("[y/N]"));
        pty.type("y\r");
        CHECK(pty.waitExit() == 0);
    }
    CHECK(runCli({"vm", "show", "cli-rm"}, env).exit == 4);
}
