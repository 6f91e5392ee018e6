// The real paddockd for integration tests, configured in code: a temp dir with a generated
// config (sites, tokens, server limits, auth mode, recording, TLS), the daemon on a free
// 127.0.0.1 port, and HTTP(S) and WebSocket (WS/WSS) helpers against it. With `tls`, the
// fixture makes a certificate in its temp dir and every helper speaks TLS trusting only it.
// While a fixture lives, every failing Catch assertion reports the tail of its log as read at
// the moment of the failure (FailureContext).
// Construct, start, stop and destroy on the test's main thread; request(), call() and metric()
// do not assert and may also be used from worker threads (collect results there, assert on the
// main thread). Stopped and removed on destruction.
#pragma once

#include "daemon_process.hpp"
#include "failure_context.hpp"
#include "http_client.hpp"
#include "test_support.hpp"

#include <Poco/Net/WebSocket.h>
#include <rapidjson/document.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace paddock::test {

// One entry of sites[i].templates. Empty strings and zero sizes are not written.
struct TemplateOptions {
    std::string name{};
    std::string base_image{};
    std::string kernel{};
    std::string initrd{};
    std::string cmdline{};
    unsigned memory_mb = 0;
    bool snapshot_on_stop = false;
    std::optional<unsigned> snapshot_on_stop_keep{};
    std::optional<unsigned> snapshot_limit{};
    std::optional<unsigned> backups_keep{};
    std::string watch{};  // a YAML flow mapping for the template's watch:, e.g. "{heartbeat_timeout_s: 8}"
    std::string provision{};  // a YAML flow mapping for the template's provision:, e.g. "{playbook: p.yml}"
};

// One entry of sites[i].pools. Unset fields are not written (paddockd's defaults apply).
struct PoolOptions {
    std::string name{};
    std::string template_name{};
    std::string mode{};
    std::optional<unsigned> min_idle{};
    std::optional<unsigned> max_total{};
    std::optional<unsigned> max_per_owner{};
    std::string on_empty{};
    std::optional<unsigned> default_ttl_s{};
    std::optional<unsigned> max_ttl_s{};
};

// One entry of sites. Empty strings and unset fields are not written.
struct SiteOptions {
    std::string name = "local";
    std::string uri = "test:///default";
    std::string backend{};
    std::string storage_pool{};
    std::string network_mode = "none";
    std::string ssh_user{};
    std::optional<uint16_t> ssh_port_min{};
    std::optional<uint16_t> ssh_port_max{};
    std::optional<unsigned> stop_timeout_s{};
    std::optional<unsigned> ready_timeout_s{};
    std::vector<TemplateOptions> templates{};
    std::vector<PoolOptions> pools{};
    std::string extra_yaml{};  // more keys of this site, each line indented by four spaces
};

struct TokenOptions {
    std::string name{};
    std::string token{};
    std::string role{};   // admin | operator | viewer
    std::string owner{};  // non-empty: an owner-scoped token
};

struct DaemonOptions {
    std::vector<SiteOptions> sites{SiteOptions{}};
    std::string host = "127.0.0.1";  // server.host (the fixture talks to 127.0.0.1)
    bool tls = false;                // server.tls with a certificate made for the test
    std::string auth_mode = "token";
    std::vector<TokenOptions> tokens{};  // none: paddockd generates an admin token, token() reads it
    std::optional<unsigned> threads{};
    std::optional<uint64_t> max_body_bytes{};
    std::vector<std::string> allowed_origins{};
    std::optional<std::string> recording_directory{};  // relative: inside the fixture's temp dir
    std::optional<bool> recording_enabled{};
    std::string recording_plugin{};
    std::string extra_yaml{};   // more top-level keys
    std::string server_yaml{};  // more server keys, each line indented by two spaces
    // Foreign domains to adopt after every start (e.g. "test", the test driver's own domain),
    // with token() (an admin's) or anonymously under auth mode none.
    std::vector<std::string> adopt{};
    bool start = true;  // false: only write the config (start() or runOnce() later)
};

// The config paddockd reads, as YAML. `root` is the directory that state/, logs/, relative
// recording directories and the TLS files (server.crt, server.key) live in.
std::string paddockdConfigYaml(const DaemonOptions& options, uint16_t port, const std::string& root);

class PaddockdFixture {
public:
    // Writes the config and, unless options.start is false, starts paddockd and waits until it
    // listens (throws with the log when it exits or does not listen).
    explicit PaddockdFixture(DaemonOptions options = {});
    ~PaddockdFixture();
    PaddockdFixture(const PaddockdFixture&) = delete;
    PaddockdFixture& operator=(const PaddockdFixture&) = delete;

    // Starts paddockd with the config (again, after stop(): same port, state and logs; the log
    // file starts over). Re-reads a generated admin token.
    // `env` ("NAME=value", e.g. PADDOCK_CRASH_POINT=...) is added to paddockd's environment.
    void start(const std::vector<std::string>& env = {});
    // SIGTERM and wait: the exit code (128 + signal when it had to be killed); -1 when not running.
    int stop(int graceS = 20);
    void restart();
    // Runs paddockd with the config to completion (for startup refusals): its exit code, and its
    // output in `output`. The fixture must not be running.
    int runOnce(std::string& output);

    // Waits up to `timeoutS` for paddockd to end by itself (a crash point): its exit code
    // (128 + signal), or -1 when it still runs.
    int waitExit(int timeoutS);
    bool running() const noexcept;
    pid_t pid() const noexcept;
    uint16_t port() const noexcept { return port_; }
    std::string log() const;
    // "https://127.0.0.1:<port>" with TLS, else "http://...".
    std::string baseUrl() const;
    // The certificate clients trust with TLS ("" without): for curl --cacert, RawClient, ...
    std::string caFile() const;

    // The first configured token, else the generated admin token ("" with auth mode none or
    // before the first start).
    const std::string& token() const noexcept { return token_; }
    // The first configured token with `role`; throws when there is none.
    std::string tokenFor(const std::string& role) const;

    TempDir& dir() noexcept { return dir_; }
    std::string configPath() const { return dir_.file("paddock.yaml"); }
    std::string stateDir() const { return dir_.file("state"); }
    std::string logDir() const { return dir_.file("logs"); }
    std::string tokenPath() const { return stateDir() + "/admin.token"; }
    // Where casts are written: recording_directory, or paddockd's default <log_dir>/ssh.
    std::string recordingDir() const;

    // A request with exactly `options` (no token is added; with TLS, the fixture's CA unless
    // options.ca_file names another).
    HttpReply request(const std::string& method, const std::string& path, HttpOptions options = {}) const;
    // A request with a bearer token: `bearer` nullopt sends token(), "" sends none.
    HttpReply call(const std::string& method, const std::string& path, std::optional<std::string> body = std::nullopt,
                   const std::optional<std::string>& bearer = std::nullopt,
                   std::vector<std::pair<std::string, std::string>> headers = {}) const;
    HttpReply get(const std::string& path) const { return call("GET", path); }
    HttpReply post(const std::string& path, std::optional<std::string> body = std::nullopt) const {
        return call("POST", path, std::move(body));
    }
    HttpReply del(const std::string& path) const { return call("DELETE", path); }
    // GET `path` with token(); REQUIREs `status` and a JSON body, which it returns. Main thread.
    rapidjson::Document getJson(const std::string& path, int status = 200) const;

    // The value of one sample line of /metrics (e.g. `paddock_x{a="b"}`), or -1 when absent.
    double metric(const std::string& sample) const;

    // A client WebSocket (WSS with TLS); throws Poco::Net::WebSocketException unless the server
    // answers 101.
    // `bearer` "" sends no Authorization header; `origin` "" no Origin header.
    std::unique_ptr<Poco::Net::WebSocket> openWebSocket(const std::string& path, const std::string& bearer = {},
                                                        const std::string& origin = {}) const;
    // The answer to a WebSocket upgrade request made with the plain HTTP client (for refusals).
    HttpReply upgrade(const std::string& path, const std::string& bearer = {}, const std::string& origin = {}) const;
    int upgradeStatus(const std::string& path, const std::string& bearer = {}, const std::string& origin = {}) const {
        return upgrade(path, bearer, origin).status;
    }

private:
    DaemonOptions options_;
    TempDir dir_;
    uint16_t port_;
    std::string token_;
    std::unique_ptr<DaemonProcess> process_;
    FailureContext logOnFailure_;
};

// The value of one sample line in a /metrics text, or -1 when absent.
double metricValue(const std::string& metrics, const std::string& sample);

}  // namespace paddock::test
