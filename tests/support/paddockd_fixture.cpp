#include "paddockd_fixture.hpp"

#include "test_tls.hpp"

#include <catch2/catch.hpp>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>

#include <sstream>
#include <stdexcept>

namespace paddock::test {

namespace {

// A YAML double-quoted scalar.
std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

// A YAML flow sequence of double-quoted scalars. (Built with append: GCC 12 warns falsely
// about "[" + std::string.)
std::string flowList(const std::vector<std::string>& items) {
    std::string out("[");
    for (const auto& item : items) out.append(out.size() > 1 ? ", " : "").append(quoted(item));
    return out.append("]");
}

// `key: value` lines at `indent`, written only when the value is set.
class Block {
public:
    explicit Block(std::ostringstream& out, std::string indent) : out_(out), indent_(std::move(indent)) {}
    Block& text(const std::string& key, const std::string& value) {
        if (!value.empty()) line(key, quoted(value));
        return *this;
    }
    template <class N>
    Block& number(const std::string& key, const std::optional<N>& value) {
        if (value) line(key, std::to_string(*value));
        return *this;
    }
    Block& line(const std::string& key, const std::string& value) {
        out_ << indent_ << key << ": " << value << "\n";
        return *this;
    }

private:
    std::ostringstream& out_;
    std::string indent_;
};

// `key:` of a site, then one `- name:` item per entry with the keys `fields` writes.
template <class Item, class Fields>
void listOfNamed(std::ostringstream& out, const std::string& key, const std::vector<Item>& items, Fields fields) {
    if (items.empty()) return;
    out << "    " << key << ":\n";
    for (const auto& item : items) {
        out << "      - name: " << quoted(item.name) << "\n";
        fields(Block(out, "        "), item);
    }
}

std::string resolve(const std::string& path, const std::string& root) {
    return !path.empty() && path.front() == '/' ? path : root + "/" + path;
}

// The last `maxLines` lines of `text`.
std::string tail(const std::string& text, size_t maxLines) {
    size_t at = text.size();
    if (at > 0 && text.back() == '\n') --at;
    for (size_t i = 0; i < maxLines; ++i) {
        const auto nl = at == 0 ? std::string::npos : text.rfind('\n', at - 1);
        if (nl == std::string::npos) return text;
        at = nl;
    }
    return "[...]\n" + text.substr(at + 1);
}

}  // namespace

std::string paddockdConfigYaml(const DaemonOptions& options, uint16_t port, const std::string& root) {
    std::ostringstream out;
    out << "server:\n";
    Block server(out, "  ");
    server.text("host", options.host)
        .line("port", std::to_string(port))
        .number("threads", options.threads)
        .number("max_body_bytes", options.max_body_bytes);
    if (!options.allowed_origins.empty()) server.line("allowed_origins", flowList(options.allowed_origins));
    if (options.tls)
        server.line("tls", "{cert: " + quoted(root + "/server.crt") + ", key: " + quoted(root + "/server.key") + "}");
    out << options.server_yaml;
    out << "paths:\n";
    Block(out, "  ")
        .text("state_dir", root + "/state")
        .text("log_dir", root + "/logs")
        .line("plugin_dirs", flowList({pluginDir()}))
        .text("web_dir", sourceDir() + "/server/web");
    out << "auth:\n";
    Block(out, "  ").text("mode", options.auth_mode);
    if (!options.tokens.empty()) {
        out << "  tokens:\n";
        for (const auto& t : options.tokens)
            out << "    - {name: " << quoted(t.name) << ", token: " << quoted(t.token) << ", role: " << quoted(t.role)
                << (t.owner.empty() ? std::string() : ", owner: " + quoted(t.owner)) << "}\n";
    }
    if (options.recording_directory || options.recording_enabled || !options.recording_plugin.empty()) {
        out << "recording:\n";
        Block recording(out, "  ");
        if (options.recording_enabled) recording.line("enabled", *options.recording_enabled ? "true" : "false");
        if (options.recording_directory) recording.text("directory", resolve(*options.recording_directory, root));
        recording.text("plugin", options.recording_plugin);
    }
    out << "sites:\n";
    for (const auto& site : options.sites) {
        out << "  - name: " << quoted(site.name) << "\n";
        Block(out, "    ")
            .text("backend", site.backend)
            .text("uri", site.uri)
            .text("storage_pool", site.storage_pool)
            .text("network_mode", site.network_mode)
            .text("ssh_user", site.ssh_user)
            .number("ssh_port_min", site.ssh_port_min)
            .number("ssh_port_max", site.ssh_port_max)
            .number("stop_timeout_s", site.stop_timeout_s)
            .number("ready_timeout_s", site.ready_timeout_s);
        listOfNamed(out, "templates", site.templates, [](Block&& b, const TemplateOptions& t) {
            b.text("base_image", t.base_image)
                .text("kernel", t.kernel)
                .text("initrd", t.initrd)
                .text("cmdline", t.cmdline)
                .number("memory_mb", t.memory_mb != 0 ? std::optional<unsigned>(t.memory_mb) : std::nullopt)
                .line("snapshot_on_stop", t.snapshot_on_stop ? "true" : "false")
                .number("snapshot_on_stop_keep", t.snapshot_on_stop_keep)
                .number("snapshot_limit", t.snapshot_limit);
            if (t.backups_keep) b.line("backups", "{keep: " + std::to_string(*t.backups_keep) + "}");
            if (!t.watch.empty()) b.line("watch", t.watch);
            if (!t.provision.empty()) b.line("provision", t.provision);
        });
        listOfNamed(out, "pools", site.pools, [](Block&& b, const PoolOptions& p) {
            b.text("template", p.template_name)
                .text("mode", p.mode)
                .number("min_idle", p.min_idle)
                .number("max_total", p.max_total)
                .number("max_per_owner", p.max_per_owner)
                .text("on_empty", p.on_empty)
                .number("default_ttl_s", p.default_ttl_s)
                .number("max_ttl_s", p.max_ttl_s);
        });
        out << site.extra_yaml;
    }
    out << options.extra_yaml;
    return out.str();
}

PaddockdFixture::PaddockdFixture(DaemonOptions options)
    : options_(std::move(options)), port_(freeLoopbackPort()), logOnFailure_([this] {
          return "paddockd log (" + configPath() + "), as it is at this failure:\n" + tail(log(), 100);
      }) {
    if (options_.tls) makeTestCertificate(dir_.path(), "server");  // where paddockdConfigYaml points
    writeFile(configPath(), paddockdConfigYaml(options_, port_, dir_.path()));
    if (options_.start) start();
}

PaddockdFixture::~PaddockdFixture() { stop(); }

void PaddockdFixture::start(const std::vector<std::string>& env) {
    if (running()) throw std::logic_error("paddockd is already running");
    process_.reset();
    process_ = std::make_unique<DaemonProcess>(std::vector<std::string>{paddockdPath(), "--config", configPath()},
                                               dir_.file("paddockd.log"), port_, 30, env);
    if (!options_.tokens.empty()) {
        token_ = options_.tokens.front().token;
    } else if (options_.auth_mode == "token") {
        // Written before paddockd listens.
        const std::string text = readFile(tokenPath());
        token_ = text.substr(0, text.find_first_of(" \r\n"));
    }
    for (const auto& name : options_.adopt) {
        const auto adopted = call("POST", "/api/v1/vms/" + name + "/adopt");
        if (adopted.status != 200 && adopted.status != 409)
            throw std::runtime_error("cannot adopt " + name + ": " + std::to_string(adopted.status) + " " +
                                     adopted.body);
    }
}

int PaddockdFixture::stop(int graceS) { return running() ? process_->stop(graceS) : -1; }

void PaddockdFixture::restart() {
    stop();
    start();
}

int PaddockdFixture::runOnce(std::string& output) {
    if (running()) throw std::logic_error("paddockd is running");
    return runToCompletion({paddockdPath(), "--config", configPath()}, output, dir_.file("paddockd-once.log"));
}

int PaddockdFixture::waitExit(int timeoutS) { return running() ? process_->waitExit(timeoutS) : -1; }

bool PaddockdFixture::running() const noexcept { return process_ != nullptr && process_->pid() > 0; }

pid_t PaddockdFixture::pid() const noexcept { return process_ != nullptr ? process_->pid() : -1; }

std::string PaddockdFixture::log() const { return process_ != nullptr ? process_->log() : std::string(); }

std::string PaddockdFixture::baseUrl() const {
    return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

std::string PaddockdFixture::caFile() const { return options_.tls ? dir_.path() + "/server.crt" : std::string(); }

std::string PaddockdFixture::tokenFor(const std::string& role) const {
    for (const auto& t : options_.tokens)
        if (t.role == role) return t.token;
    throw std::logic_error("no token with role " + role + " is configured");
}

std::string PaddockdFixture::recordingDir() const {
    return options_.recording_directory ? resolve(*options_.recording_directory, dir_.path()) : logDir() + "/ssh";
}

HttpReply PaddockdFixture::request(const std::string& method, const std::string& path, HttpOptions options) const {
    if (options.ca_file.empty()) options.ca_file = caFile();
    return httpRequest(port_, method, path, options);
}

HttpReply PaddockdFixture::call(const std::string& method, const std::string& path, std::optional<std::string> body,
                                const std::optional<std::string>& bearer,
                                std::vector<std::pair<std::string, std::string>> headers) const {
    HttpOptions options;
    options.token = bearer.value_or(token_);
    options.body = std::move(body);
    options.headers = std::move(headers);
    return request(method, path, std::move(options));
}

rapidjson::Document PaddockdFixture::getJson(const std::string& path, int status) const {
    const auto reply = get(path);
    INFO("GET " << path << " -> " << reply.status << " " << reply.body);
    REQUIRE(reply.status == status);
    rapidjson::Document doc;
    doc.Parse(reply.body.c_str(), reply.body.size());
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
}

double PaddockdFixture::metric(const std::string& sample) const {
    return metricValue(request("GET", "/metrics").body, sample);
}

std::unique_ptr<Poco::Net::WebSocket> PaddockdFixture::openWebSocket(const std::string& path, const std::string& bearer,
                                                                     const std::string& origin) const {
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!bearer.empty()) request.set("Authorization", "Bearer " + bearer);
    if (!origin.empty()) request.set("Origin", origin);
    Poco::Net::HTTPResponse response;
    if (options_.tls) {
        Poco::Net::HTTPSClientSession session("127.0.0.1", port_, clientTlsContext(caFile()));
        return std::make_unique<Poco::Net::WebSocket>(session, request, response);
    }
    Poco::Net::HTTPClientSession session("127.0.0.1", port_);
    return std::make_unique<Poco::Net::WebSocket>(session, request, response);
}

HttpReply PaddockdFixture::upgrade(const std::string& path, const std::string& bearer,
                                   const std::string& origin) const {
    HttpOptions options;
    options.token = bearer;
    options.headers = {{"Connection", "Upgrade"},
                       {"Upgrade", "websocket"},
                       {"Sec-WebSocket-Version", "13"},
                       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
    if (!origin.empty()) options.headers.emplace_back("Origin", origin);
    return request("GET", path, std::move(options));
}

double metricValue(const std::string& metrics, const std::string& sample) {
    const auto at = metrics.find("\n" + sample + " ");
    if (at == std::string::npos) return -1;
    return std::stod(metrics.substr(at + sample.size() + 2));
}

}  // namespace paddock::test
