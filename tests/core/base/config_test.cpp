#include "paddock/core/config.hpp"

#include "result_checks.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

using Catch::Matchers::Contains;
using paddock::AuthMode;
using paddock::Config;
using paddock::DomainType;
using paddock::EmptyPoolPolicy;
using paddock::Environment;
using paddock::ErrorCode;
using paddock::NetworkMode;
using paddock::parseConfig;
using paddock::PoolMode;
using paddock::Role;
using paddock::SiteConfig;
using paddock::connectionUri;
using paddock::poolSites;

namespace {

const std::string kMinimal = "sites:\n  - name: local\n";

const std::string kFull = R"(server:
  host: 0.0.0.0
  port: 9000
  max_body_bytes: 4096
  threads: 4
  public_paths: [/healthz]
  allowed_origins: ["https://lab.example.org", "http://localhost:3000"]
paths:
  state_dir: /var/lib/paddock
  log_dir: /var/log/paddock
  plugin_dirs: [/usr/lib/paddock/plugins, plugins]
  web_dir: /usr/share/paddock/web
auth:
  mode: token
  tokens:
    - name: ci
      token: 0123456789abcdef0123
      role: operator
    - name: dash
      token: fedcba9876543210fedc
      role: viewer
sites:
  - name: lab-1
    backend: org.example.test
    uri: test:///default
    domain_type: qemu
    storage_pool: default-pool
    network_mode: network
    network_name: labnet
    default_vcpus: 2
    default_memory_mb: 1024
    stop_timeout_s: 5
    ssh_user: learner
    ssh_port_min: 30000
    ssh_port_max: 30009
    ready_timeout_s: 120
    default_template: small
    templates:
      - name: big
        base_image: /img/debian.qcow2
        vcpus: 4
        memory_mb: 4096
      - name: small
        base_image: /img/tiny.raw
        base_format: raw
        kernel: /img/vmlinuz
        initrd: /img/initrd
        cmdline: console=ttyS0
  - name: lab-2
    uri: qemu+ssh://host/system
)";

Config parseOk(const std::string& yaml, const Environment& env = {}) {
    auto result = parseConfig(yaml, env, "test.yaml");
    INFO((result ? std::string("ok") : result.error().message));
    REQUIRE(result.ok());
    return std::move(result).value();
}

// The error message, after checking that parsing failed with InvalidArgument.
std::string parseError(const std::string& yaml, const Environment& env = {}) {
    auto result = parseConfig(yaml, env, "test.yaml");
    REQUIRE_FALSE(result.ok());
    CHECK(failure(result).code == ErrorCode::InvalidArgument);
    return result.error().message;
}

std::string siteWith(const std::string& lines) { return "sites:\n  - name: local\n" + lines; }

std::string templateWith(const std::string& lines) {
    return "sites:\n  - name: local\n    templates:\n      - name: t1\n" + lines;
}

}  // namespace

TEST_CASE("config: absent keys take the documented defaults", "[config]") {
    const Config c = parseOk(kMinimal);
    CHECK(c.server.host == "127.0.0.1");
    CHECK(c.server.port == 8000);
    CHECK(c.server.max_body_bytes == 1024 * 1024);
    CHECK(c.server.threads == 16);
    CHECK(c.server.public_paths == std::vector<std::string>{"/healthz", "/metrics"});
    CHECK(c.server.allowed_origins.empty());
    CHECK_FALSE(c.server.tls.enabled());
    CHECK(c.server.public_url.empty());
    CHECK(c.server.trusted_proxies.empty());
    CHECK(c.paths.state_dir == "state");
    CHECK(c.paths.log_dir == "logs");
    CHECK(c.paths.plugin_dirs == std::vector<std::string>{"build/plugins"});
    CHECK(c.paths.web_dir == "server/web");
    CHECK(c.auth.mode == AuthMode::Token);
    CHECK(c.auth.tokens.empty());
    CHECK(c.compat.stop_timeout_s == 15);  // the old tool's, not the sites' 60
    REQUIRE(c.sites.size() == 1);
    const auto& s = c.sites[0];
    CHECK(s.name == "local");
    CHECK(s.backend == "org.paddock.libvirt-qemu");
    CHECK(s.uri == "qemu:///system");
    CHECK(s.domain_type == DomainType::Auto);
    CHECK(s.storage_pool == "default");
    CHECK(s.network_mode == NetworkMode::None);
    CHECK(s.network_name == "default");
    CHECK(s.default_vcpus == 1);
    CHECK(s.default_memory_mb == 512);
    CHECK(s.stop_timeout_s == 60);
    CHECK(s.ssh_user == "student");
    CHECK(s.ssh_port_min == 22000);
    CHECK(s.ssh_port_max == 22999);
    CHECK(s.ready_timeout_s == 300);
    CHECK(s.default_template.empty());
    CHECK(s.templates.empty());
}

TEST_CASE("config: a key with no value keeps its default", "[config]") {
    const Config c = parseOk("server:\n  port:\n  public_paths:\n" + kMinimal);
    CHECK(c.server.port == 8000);
    CHECK(c.server.public_paths.size() == 2);
}

TEST_CASE("config: every key of a full file is read", "[config]") {
    const Config c = parseOk(kFull);
    CHECK(c.server.host == "0.0.0.0");
    CHECK(c.server.port == 9000);
    CHECK(c.server.max_body_bytes == 4096);
    CHECK(c.server.threads == 4);
    CHECK(c.server.public_paths == std::vector<std::string>{"/healthz"});
    CHECK(c.server.allowed_origins == std::vector<std::string>{"https://lab.example.org", "http://localhost:3000"});
    CHECK(c.paths.state_dir == "/var/lib/paddock");
    CHECK(c.paths.log_dir == "/var/log/paddock");
    CHECK(c.paths.plugin_dirs == std::vector<std::string>{"/usr/lib/paddock/plugins", "plugins"});
    CHECK(c.paths.web_dir == "/usr/share/paddock/web");
    REQUIRE(c.auth.tokens.size() == 2);
    CHECK(c.auth.tokens[0].name == "ci");
    CHECK(c.auth.tokens[0].token == "0123456789abcdef0123");
    CHECK(c.auth.tokens[0].role == Role::Operator);
    CHECK(c.auth.tokens[1].role == Role::Viewer);
    REQUIRE(c.sites.size() == 2);
    const auto& s = c.sites[0];
    CHECK(s.name == "lab-1");
    CHECK(s.backend == "org.example.test");
    CHECK(s.uri == "test:///default");
    CHECK(s.domain_type == DomainType::Qemu);
    CHECK(s.storage_pool == "default-pool");
    CHECK(s.network_mode == NetworkMode::Network);
    CHECK(s.network_name == "labnet");
    CHECK(s.default_vcpus == 2);
    CHECK(s.default_memory_mb == 1024);
    CHECK(s.stop_timeout_s == 5);
    CHECK(s.ssh_user == "learner");
    CHECK(s.ssh_port_min == 30000);
    CHECK(s.ssh_port_max == 30009);
    CHECK(s.ready_timeout_s == 120);
    CHECK(s.default_template == "small");
    REQUIRE(s.templates.size() == 2);
    CHECK(s.templates[0].name == "big");
    CHECK(s.templates[0].base_image == "/img/debian.qcow2");
    CHECK(s.templates[0].base_format == "qcow2");
    CHECK(s.templates[0].vcpus == 4);
    CHECK(s.templates[0].memory_mb == 4096);
    CHECK(s.templates[1].base_format == "raw");
    CHECK(s.templates[1].kernel == "/img/vmlinuz");
    CHECK(s.templates[1].initrd == "/img/initrd");
    CHECK(s.templates[1].cmdline == "console=ttyS0");
    CHECK(s.templates[1].vcpus == 0);
    CHECK(s.templates[1].memory_mb == 0);
    CHECK(c.sites[1].name == "lab-2");
    CHECK(c.sites[1].uri == "qemu+ssh://host/system");
}

TEST_CASE("config: the repository's config/paddock.yaml parses", "[config]") {
    auto result = paddock::loadConfig(paddock::test::sourceDir() + "/config/paddock.yaml", {});
    INFO((result ? std::string("ok") : result.error().message));
    REQUIRE(result.ok());
    CHECK(result->server.port == 8000);
    CHECK(result->auth.mode == AuthMode::Token);
    CHECK(result->auth.tokens.empty());
    REQUIRE(result->sites.size() == 1);
    CHECK(result->sites[0].name == "local");
    CHECK(result->sites[0].storage_pool == "paddock");
    CHECK(result->sites[0].network_mode == NetworkMode::User);
}

TEST_CASE("config: loadConfig reads a file and names a missing one", "[config]") {
    paddock::test::TempDir dir;
    const std::string path = dir.file("paddock.yaml");
    paddock::test::writeFile(path, "server:\n  prot: 1\n" + kMinimal);
    auto bad = paddock::loadConfig(path, {});
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(failure(bad).message, Contains("unknown key 'server.prot' in " + path + ":2"));

    paddock::test::writeFile(path, kMinimal);
    CHECK(paddock::loadConfig(path, {}).ok());

    auto missing = paddock::loadConfig(dir.file("nope.yaml"), {});
    REQUIRE_FALSE(missing.ok());
    CHECK(failure(missing).code == ErrorCode::InvalidArgument);
    CHECK_THAT(failure(missing).message, Contains("cannot read configuration file " + dir.file("nope.yaml")));
    CHECK_THAT(failure(missing).message, Contains("No such file"));
}

TEST_CASE("config: unknown keys are named with their full path and a suggestion", "[config]") {
    CHECK(parseError("server:\n  prot: 1\n" + kMinimal) ==
          "unknown key 'server.prot' in test.yaml:2 (did you mean 'server.port'?)");
    CHECK_THAT(parseError("bogus: 1\n" + kMinimal), Contains("unknown key 'bogus' in test.yaml:1"));
    CHECK_THAT(parseError("bogus: 1\n" + kMinimal), !Contains("did you mean"));
    CHECK_THAT(parseError(siteWith("    urii: x\n")),
               Contains("unknown key 'sites[0].urii'") && Contains("did you mean 'sites[0].uri'"));
    CHECK_THAT(parseError(templateWith("        base_imag: x\n")),
               Contains("unknown key 'sites[0].templates[0].base_imag' in test.yaml:5") &&
                   Contains("did you mean 'sites[0].templates[0].base_image'"));
    CHECK_THAT(
        parseError("auth:\n  tokens:\n    - name: a\n      token: 0123456789abcdef\n      rol: admin\n" + kMinimal),
        Contains("unknown key 'auth.tokens[0].rol'"));
    // An owner-bound token: the owner follows the one owner rule (no control characters, 128 bytes).
    CHECK_THAT(
        parseError("auth:\n  tokens:\n    - name: a\n      token: 0123456789abcdef\n      owner: \"al\\tice\"\n" +
                   kMinimal),
        Contains("auth.tokens[0].owner"));
    CHECK_THAT(parseError("auth:\n  tokens:\n    - name: a\n      token: 0123456789abcdef\n      owner: " +
                          std::string(129, 'a') + "\n" + kMinimal),
               Contains("auth.tokens[0].owner"));
}

TEST_CASE("config: allowed hosts and the cap on waiting allocations", "[config]") {
    CHECK_THAT(parseError("server:\n  allowed_hosts: [\"a b\"]\n" + kMinimal), Contains("server.allowed_hosts"));
    CHECK_THAT(parseError("server:\n  allowed_hosts: [\"x/y\"]\n" + kMinimal), Contains("server.allowed_hosts"));
    CHECK_THAT(parseError("server:\n  threads: 4\n  max_waiting_allocations: 4\n" + kMinimal),
               Contains("server.max_waiting_allocations") && Contains("below server.threads"));
}

TEST_CASE("config: structural errors", "[config]") {
    CHECK_THAT(parseError("server: [1, 2]\n" + kMinimal),
               Contains("server: expected a mapping, got a list (at test.yaml:1)"));
    CHECK_THAT(parseError("- 1\n"), Contains("expected a mapping at the top level"));
    CHECK_THAT(parseError("sites: local\n"), Contains("sites: expected a list"));
    CHECK_THAT(parseError("sites:\n  - local\n"), Contains("sites[0]: expected a mapping"));
    CHECK_THAT(parseError(siteWith("    uri: {a: 1}\n")),
               Contains("sites[0].uri: expected a string, got a mapping (at test.yaml:3)"));
    CHECK_THAT(parseError("server:\n  port: 1\n  port: 2\n" + kMinimal),
               Contains("duplicate key 'server.port' in test.yaml:3"));
    CHECK_THAT(parseError("server:\n  public_paths: /x\n" + kMinimal),
               Contains("server.public_paths: expected a list of strings"));
    CHECK_THAT(parseError("server: {port: [1\n"), Contains("YAML syntax error in test.yaml:"));
}

TEST_CASE("config: numbers are checked for type and range", "[config]") {
    CHECK_THAT(parseError("server:\n  port: 0\n" + kMinimal),
               Contains("server.port: 0 is out of range 1..65535 (at test.yaml:2)"));
    CHECK_THAT(parseError("server:\n  port: 65536\n" + kMinimal),
               Contains("server.port: 65536 is out of range 1..65535"));
    CHECK_THAT(parseError("server:\n  port: http\n" + kMinimal),
               Contains("server.port: 'http' is not an unsigned integer"));
    CHECK_THAT(parseError("server:\n  port: -1\n" + kMinimal),
               Contains("server.port: '-1' is not an unsigned integer"));
    CHECK_THAT(parseError("server:\n  port: 80.5\n" + kMinimal),
               Contains("server.port: '80.5' is not an unsigned integer"));
    CHECK_THAT(parseError("server:\n  threads: 99999999999999999999999\n" + kMinimal),
               Contains("server.threads: 99999999999999999999999 is out of range 1..1024"));
    CHECK_THAT(parseError("server:\n  max_body_bytes: 0\n" + kMinimal),
               Contains("server.max_body_bytes: 0 is out of range 1.."));
    CHECK_THAT(parseError("server:\n  threads: 0\n" + kMinimal), Contains("server.threads: 0 is out of range 1..1024"));
    CHECK_THAT(parseError(siteWith("    default_vcpus: 0\n")),
               Contains("sites[0].default_vcpus: 0 is out of range 1..64"));
    CHECK_THAT(parseError(siteWith("    default_memory_mb: 63\n")),
               Contains("sites[0].default_memory_mb: 63 is out of range 64.."));
    CHECK_THAT(
        parseError(templateWith("        memory_mb: 32\n")),
        Contains("sites[0].templates[0].memory_mb: 32 is out of range 64..") && Contains("or 0 for the default"));
    CHECK_THAT(parseError(templateWith("        vcpus: 5000\n")),
               Contains("sites[0].templates[0].vcpus: 5000 is out of range 1..64"));
    const Config c = parseOk(templateWith("        vcpus: 0\n        memory_mb: 0\n"));
    CHECK(c.sites[0].templates[0].vcpus == 0);
    CHECK(c.sites[0].templates[0].memory_mb == 0);
}

TEST_CASE("config: a site's hypervisor domain type and poll interval", "[config]") {
    const Config xen = parseOk(siteWith("    domain_type: xen\n    poll_interval_s: 2.5\n"));
    CHECK(xen.sites[0].domain_type == DomainType::Xen);
    CHECK(xen.sites[0].poll_interval_ms == 2500);
    CHECK(parseOk(siteWith("    domain_type: hyperv\n")).sites[0].domain_type == DomainType::Hyperv);
    CHECK(parseOk(kMinimal).sites[0].poll_interval_ms == 5000);
    CHECK_THAT(parseError(siteWith("    poll_interval_s: 0.1\n")), Contains("sites[0].poll_interval_s"));
    CHECK_THAT(parseError(siteWith("    poll_interval_s: often\n")), Contains("sites[0].poll_interval_s"));
    CHECK_THAT(parseError(siteWith("    poll_interval_s: [1]\n")), Contains("sites[0].poll_interval_s"));
}

TEST_CASE("config: enumerations list the allowed values", "[config]") {
    CHECK_THAT(parseError("auth:\n  mode: ldap\n" + kMinimal),
               Contains("auth.mode: 'ldap' is not one of: token, none (at test.yaml:2)"));
    CHECK_THAT(parseError(siteWith("    domain_type: vmware\n")),
               Contains("sites[0].domain_type: 'vmware' is not one of: auto, kvm, qemu, xen, hyperv"));
    CHECK_THAT(parseError(siteWith("    network_mode: bridge\n")),
               Contains("sites[0].network_mode: 'bridge' is not one of: none, user, network"));
    CHECK_THAT(parseError(templateWith("        base_format: vmdk\n")),
               Contains("sites[0].templates[0].base_format: 'vmdk' is not one of: qcow2, raw"));
    CHECK_THAT(parseError("auth:\n  tokens: [{name: a, token: 0123456789abcdef, role: root}]\n" + kMinimal),
               Contains("auth.tokens[0].role: 'root' is not one of: admin, operator, viewer"));
}

TEST_CASE("config: names of sites and templates", "[config]") {
    CHECK_THAT(parseError("sites:\n  - name: Local\n"),
               Contains("sites[0].name: site name 'Local' is invalid") && Contains("test.yaml:2"));
    CHECK_THAT(parseError("sites:\n  - uri: qemu:///system\n"),
               Contains("sites[0].name: site name must not be empty (at test.yaml:2)"));
    CHECK_THAT(parseError(templateWith("        cmdline: x\n        kernel: k\n      - name: -bad\n")),
               Contains("sites[0].templates[1].name: template name '-bad' is invalid"));
    CHECK_THAT(parseError("sites:\n  - name: a\n  - name: b\n  - name: a\n"),
               Contains("sites[2].name: duplicate site name 'a' (also sites[0]) (at test.yaml:4)"));
    CHECK_THAT(parseError(templateWith("      - name: t1\n")),
               Contains("sites[0].templates[1].name: duplicate template name 't1'"));
    // The same template name in two sites is fine.
    CHECK(parseOk("sites:\n  - name: a\n    templates: [{name: t}]\n  - name: b\n    templates: [{name: t}]\n")
              .sites.size() == 2);
}

TEST_CASE("config: cross-key checks", "[config]") {
    CHECK_THAT(parseError("sites: []\n"), Contains("sites: at least one site is required"));
    CHECK_THAT(parseError(""), Contains("sites: at least one site is required"));
    CHECK_THAT(parseError(siteWith("    default_template: missing\n")),
               Contains("sites[0].default_template: no template named 'missing' in this site (at test.yaml:3)"));
    CHECK(parseOk(templateWith("") + "    default_template: t1\n").sites[0].default_template == "t1");
    CHECK_THAT(parseError(templateWith("        initrd: /i\n")),
               Contains("sites[0].templates[0].initrd: requires kernel"));
    CHECK_THAT(parseError(siteWith("    uri: \"\"\n")), Contains("sites[0].uri: must not be empty"));
    CHECK_THAT(parseError(siteWith("    ssh_port_min: 23000\n    ssh_port_max: 22000\n")),
               Contains("sites[0].ssh_port_max: must not be below ssh_port_min (23000)"));
    CHECK_THAT(parseError("server:\n  public_paths: [healthz]\n" + kMinimal),
               Contains("server.public_paths: 'healthz' does not start with '/'"));
}

TEST_CASE("config: server.tls needs both files, readable", "[config][tls]") {
    paddock::test::TempDir dir;
    const std::string cert = dir.file("cert.pem");
    const std::string key = dir.file("key.pem");
    paddock::test::writeFile(cert, "PEM text is checked by the server\n");
    paddock::test::writeFile(key, "PEM text is checked by the server\n");
    const Config c = parseOk("server:\n  tls:\n    cert: " + cert + "\n    key: " + key + "\n" + kMinimal);
    CHECK(c.server.tls.enabled());
    CHECK(c.server.tls.cert == cert);
    CHECK(c.server.tls.key == key);
    CHECK(parseOk(kMinimal, {{"PADDOCK_SERVER_TLS_CERT", cert}, {"PADDOCK_SERVER_TLS_KEY", key}}).server.tls.key ==
          key);

    CHECK_THAT(parseError("server:\n  tls:\n    cert: " + cert + "\n" + kMinimal),
               Contains("server.tls.key: required when server.tls.cert is set (at test.yaml:3)"));
    CHECK_THAT(parseError("server:\n  tls: {key: " + key + "}\n" + kMinimal),
               Contains("server.tls.cert: required when server.tls.key is set"));
    CHECK_THAT(parseError(kMinimal, {{"PADDOCK_SERVER_TLS_CERT", cert}}),
               Contains("server.tls.key: required when server.tls.cert is set (from environment variable "
                        "PADDOCK_SERVER_TLS_CERT)"));
    const std::string missing = dir.file("absent.pem");
    CHECK_THAT(parseError("server:\n  tls: {cert: " + missing + ", key: " + key + "}\n" + kMinimal),
               Contains("server.tls.cert: cannot read '" + missing + "': No such file or directory"));
    CHECK_THAT(parseError("server:\n  tls: {cert: " + cert + ", key: " + dir.path() + "}\n" + kMinimal),
               Contains("server.tls.key: cannot read '" + dir.path() + "'"));
    paddock::test::writeFile(dir.file("empty.pem"), "");
    CHECK_THAT(parseError("server:\n  tls: {cert: " + cert + ", key: " + dir.file("empty.pem") + "}\n" + kMinimal),
               Contains("server.tls.key: cannot read") && Contains("empty"));
    CHECK_THAT(parseError("server:\n  tls: {cert: a, keys: b}\n" + kMinimal),
               Contains("unknown key 'server.tls.keys'"));
}

TEST_CASE("config: server.public_url and server.trusted_proxies", "[config]") {
    const Config c = parseOk(
        "server:\n  public_url: https://lab.example.org/paddock\n"
        "  trusted_proxies: [127.0.0.1, 10.0.0.0/8, \"fd00::/8\"]\n" +
        kMinimal);
    CHECK(c.server.public_url == "https://lab.example.org/paddock");
    CHECK(c.server.trusted_proxies == std::vector<std::string>{"127.0.0.1", "10.0.0.0/8", "fd00::/8"});
    CHECK(parseOk(kMinimal, {{"PADDOCK_SERVER_TRUSTED_PROXIES", "10.1.0.0/16, ::1"}}).server.trusted_proxies ==
          std::vector<std::string>{"10.1.0.0/16", "::1"});
    CHECK_THAT(parseError("server:\n  public_url: lab.example.org\n" + kMinimal),
               Contains("server.public_url: 'lab.example.org' must start with http:// or https://"));
    CHECK_THAT(parseError("server:\n  public_url: https://\n" + kMinimal), Contains("names no host"));
    CHECK_THAT(parseError("server:\n  public_url: \"https://lab.example.org/?a=b\"\n" + kMinimal),
               Contains("without spaces, query, fragment or user"));
    CHECK_THAT(parseError("server:\n  trusted_proxies: [10.0.0.0/33]\n" + kMinimal),
               Contains("server.trusted_proxies: '10.0.0.0/33': the prefix length must be 0..32"));
    CHECK_THAT(parseError("server:\n  trusted_proxies: [proxy.lab]\n" + kMinimal),
               Contains("'proxy.lab' is not an IP address or network"));
}

TEST_CASE("config: tokens", "[config]") {
    const std::string shortToken = "auth:\n  tokens:\n    - {name: ci, token: short}\n" + kMinimal;
    CHECK_THAT(parseError(shortToken),
               Contains("auth.tokens[0].token: tokens must be at least 16 characters long (at test.yaml:3)"));
    CHECK_THAT(parseError(shortToken), !Contains("short"));
    // Without authentication the tokens are unused, so their length does not matter.
    CHECK(parseOk("auth:\n  mode: none\n  tokens:\n    - {name: ci, token: short}\n" + kMinimal).auth.mode ==
          AuthMode::None);

    const std::string twice =
        "auth:\n  tokens:\n    - {name: a, token: 0123456789abcdef}\n    - {name: b, token: 0123456789abcdef}\n" +
        kMinimal;
    CHECK_THAT(parseError(twice), Contains("auth.tokens[1].token: same token as auth.tokens[0]"));
    CHECK_THAT(parseError(twice), !Contains("0123456789abcdef"));
    CHECK_THAT(
        parseError(
            "auth:\n  tokens:\n    - {name: a, token: 0123456789abcdef}\n    - {name: a, token: 0123456789abcdeX}\n" +
            kMinimal),
        Contains("auth.tokens[1].name: duplicate token name 'a'"));
    CHECK_THAT(parseError("auth:\n  tokens:\n    - {token: 0123456789abcdef}\n" + kMinimal),
               Contains("auth.tokens[0].name: must not be empty"));
    CHECK(parseOk("auth:\n  tokens:\n    - {name: a, token: 0123456789abcdef}\n" + kMinimal).auth.tokens[0].role ==
          Role::Admin);
}

TEST_CASE("config: environment overrides scalar keys", "[config][env]") {
    const Config c = parseOk(kFull, {{"PADDOCK_SERVER_PORT", "9100"},
                                     {"PADDOCK_SERVER_MAX_BODY_BYTES", "77"},
                                     {"PADDOCK_PATHS_STATE_DIR", "/tmp/st"},
                                     {"PADDOCK_AUTH_MODE", "none"},
                                     {"PADDOCK_AUTH_TOKENS_1_ROLE", "admin"}});
    CHECK(c.server.port == 9100);
    CHECK(c.server.max_body_bytes == 77);
    CHECK(c.paths.state_dir == "/tmp/st");
    CHECK(c.auth.mode == AuthMode::None);
    CHECK(c.auth.tokens[1].role == Role::Admin);
    CHECK(c.server.host == "0.0.0.0");
}

TEST_CASE("config: environment overrides apply to absent sections and keys", "[config][env]") {
    const Config c = parseOk(kMinimal, {{"PADDOCK_SERVER_HOST", "::1"}, {"PADDOCK_SITES_0_DEFAULT_MEMORY_MB", "2048"}});
    CHECK(c.server.host == "::1");
    CHECK(c.sites[0].default_memory_mb == 2048);
}

TEST_CASE("config: environment overrides keys of list items", "[config][env]") {
    const Config c = parseOk(kFull, {{"PADDOCK_SITES_0_URI", "qemu:///session"},
                                     {"PADDOCK_SITES_1_NETWORK_MODE", "user"},
                                     {"PADDOCK_SITES_0_TEMPLATES_1_BASE_IMAGE", "/img/other.qcow2"},
                                     {"PADDOCK_SITES_0_TEMPLATES_0_MEMORY_MB", "128"}});
    CHECK(c.sites[0].uri == "qemu:///session");
    CHECK(c.sites[1].network_mode == NetworkMode::User);
    CHECK(c.sites[0].templates[1].base_image == "/img/other.qcow2");
    CHECK(c.sites[0].templates[0].base_image == "/img/debian.qcow2");
    CHECK(c.sites[0].templates[0].memory_mb == 128);
}

TEST_CASE("config: environment overrides lists of strings with comma-separated values", "[config][env]") {
    const Config c =
        parseOk(kMinimal, {{"PADDOCK_PATHS_PLUGIN_DIRS", "a, /b/c ,,d"}, {"PADDOCK_SERVER_PUBLIC_PATHS", ""}});
    CHECK(c.paths.plugin_dirs == std::vector<std::string>{"a", "/b/c", "d"});
    CHECK(c.server.public_paths.empty());
}

TEST_CASE("config: bad environment values name the variable and the key", "[config][env]") {
    CHECK(parseError(kMinimal, {{"PADDOCK_SERVER_PORT", "abc"}}) ==
          "server.port: 'abc' is not an unsigned integer (from environment variable PADDOCK_SERVER_PORT)");
    CHECK_THAT(parseError(kMinimal, {{"PADDOCK_SERVER_PORT", "70000"}}),
               Contains("server.port: 70000 is out of range"));
    CHECK_THAT(parseError(kMinimal, {{"PADDOCK_SITES_0_DOMAIN_TYPE", "lxc"}}),
               Contains("sites[0].domain_type: 'lxc' is not one of") && Contains("PADDOCK_SITES_0_DOMAIN_TYPE"));
    CHECK_THAT(parseError(kMinimal, {{"PADDOCK_SITES_0_NAME", "Bad Name"}}),
               Contains("sites[0].name") && Contains("PADDOCK_SITES_0_NAME"));
    CHECK_THAT(parseError(kMinimal, {{"PADDOCK_SITES_0_DEFAULT_TEMPLATE", "nope"}}),
               Contains("sites[0].default_template: no template named 'nope'") &&
                   Contains("PADDOCK_SITES_0_DEFAULT_TEMPLATE"));
}

TEST_CASE("config: unknown environment variables are errors", "[config][env]") {
    CHECK(parseError(kMinimal, {{"PADDOCK_SERVER_PROT", "1"}}) ==
          "unknown environment variable PADDOCK_SERVER_PROT: it matches no configuration key (did you mean "
          "PADDOCK_SERVER_PORT?)");
    CHECK_THAT(parseError(kMinimal, {{"PADDOCK_SITES_0_TEMPLATE_2_KERNEL", "k"}}),
               Contains("did you mean PADDOCK_SITES_0_TEMPLATES_2_KERNEL?"));
    CHECK_THAT(parseError(kMinimal, {{"PADDOCK_SITES_URI", "x"}}), Contains("did you mean PADDOCK_SITES_<n>_URI?"));
    CHECK_THAT(parseError(kMinimal, {{"PADDOCK_NOTHING_LIKE_IT", "1"}}),
               Contains("unknown environment variable PADDOCK_NOTHING_LIKE_IT"));
    // Sections and lists are not scalars.
    CHECK_THAT(parseError(kMinimal, {{"PADDOCK_SERVER", "x"}}),
               Contains("unknown environment variable PADDOCK_SERVER"));
    CHECK_THAT(parseError(kMinimal, {{"PADDOCK_SITES", "x"}}), Contains("unknown environment variable PADDOCK_SITES"));
}

TEST_CASE("config: overrides of list items that do not exist are errors", "[config][env]") {
    CHECK(parseError(kMinimal, {{"PADDOCK_SITES_3_URI", "x"}}) ==
          "environment variable PADDOCK_SITES_3_URI overrides sites[3].uri, but sites has 1 item(s)");
    CHECK_THAT(parseError(kMinimal, {{"PADDOCK_SITES_0_TEMPLATES_0_BASE_IMAGE", "x"}}),
               Contains("overrides sites[0].templates[0].base_image, but sites[0].templates has 0 item(s)"));
    CHECK_THAT(parseError(kMinimal, {{"PADDOCK_AUTH_TOKENS_0_TOKEN", "0123456789abcdef"}}),
               Contains("overrides auth.tokens[0].token, but auth.tokens has 0 item(s)"));
    CHECK_THAT(parseError(kFull, {{"PADDOCK_SITES_1_TEMPLATES_0_NAME", "x"}}),
               Contains("but sites[1].templates has 0 item(s)"));
}

TEST_CASE("config: non-config PADDOCK_ variables and other variables are ignored", "[config][env]") {
    CHECK(parseOk(
              kMinimal,
              {{"PADDOCK_ALLOW_SKIP", "1"}, {"PADDOCK_LOG_LEVEL", "debug"}, {"PADDOCK_CONFIG", "x"}, {"HOME", "/root"}})
              .server.port == 8000);
}

TEST_CASE("config: processEnvironment returns only PADDOCK_ variables", "[config][env]") {
    ::setenv("PADDOCK_CONFIG_TEST_PROBE", "a=b", 1);
    const Environment env = paddock::processEnvironment();
    ::unsetenv("PADDOCK_CONFIG_TEST_PROBE");
    REQUIRE(env.count("PADDOCK_CONFIG_TEST_PROBE") == 1);
    CHECK(env.at("PADDOCK_CONFIG_TEST_PROBE") == "a=b");
    for (const auto& [name, value] : env) CHECK(name.rfind("PADDOCK_", 0) == 0);
}

TEST_CASE("config: pools", "[config][pool]") {
    const std::string site = "sites:\n  - name: a\n    templates: [{name: t}]\n    pools:\n";
    const Config c =
        parseOk(site +
                "      - {name: lab, template: t, min_idle: 2, max_total: 5, mode: saved, max_per_owner: 0,"
                " on_empty: cold, default_ttl_s: 60, max_ttl_s: 120}\n      - {name: other}\n");
    REQUIRE(c.sites[0].pools.size() == 2);
    const auto& p = c.sites[0].pools[0];
    CHECK(p.template_name == "t");
    CHECK(p.min_idle == 2);
    CHECK(p.max_total == 5);
    CHECK(p.mode == PoolMode::Saved);
    CHECK(p.max_per_owner == 0);
    CHECK(p.on_empty == EmptyPoolPolicy::Cold);
    CHECK(p.default_ttl_s == 60);
    CHECK(p.max_ttl_s == 120);
    const auto& d = c.sites[0].pools[1];
    CHECK((d.template_name.empty() && d.min_idle == 1 && d.max_total == 4 && d.mode == PoolMode::Running &&
           d.on_empty == EmptyPoolPolicy::Refuse));
    CHECK(parseOk(site + "      - {name: lab}\n", {{"PADDOCK_SITES_0_POOLS_0_MIN_IDLE", "3"}})
              .sites[0]
              .pools[0]
              .min_idle == 3);

    CHECK_THAT(parseError(site + "      - {name: lab, template: nope}\n"),
               Contains("sites[0].pools[0].template: no template named 'nope' in this site"));
    CHECK_THAT(parseError("sites:\n  - name: a\n    pools: [{name: lab}]\n"),
               Contains("sites[0].pools[0].template: no template"));
    CHECK_THAT(parseError(site + "      - {name: lab, min_idle: 5, max_total: 2}\n"),
               Contains("sites[0].pools[0].min_idle: must not exceed max_total (2)"));
    CHECK_THAT(parseError(site + "      - {name: lab, default_ttl_s: 500, max_ttl_s: 100}\n"),
               Contains("sites[0].pools[0].default_ttl_s: must not exceed max_ttl_s (100)"));
    CHECK(parseOk(site + "      - {name: lab, template: t, mode: paused}\n").sites[0].pools[0].mode == PoolMode::Paused);
    CHECK_THAT(parseError(site + "      - {name: lab, mode: bogus}\n"),
               Contains("sites[0].pools[0].mode: 'bogus' is not one of: running, saved, shutoff, paused"));
    CHECK_THAT(parseError(site + "      - {name: lab, on_empty: wait}\n"), Contains("'wait' is not one of: 503, cold"));
    CHECK_THAT(parseError(site + "      - {name: " + std::string(60, 'p') + "}\n"), Contains("at most 54 characters"));
    CHECK_THAT(
        parseError(site + "      - {name: lab}\n  - name: b\n    templates: [{name: t}]\n    pools: [{name: lab}]\n"),
        Contains("sites[1].pools[0].name: duplicate pool name 'lab' (also in site 'a')"));
}

TEST_CASE("config: recording", "[config][recording]") {
    const Config d = parseOk(kMinimal);
    CHECK(d.recording.enabled);
    CHECK(d.recording.plugin == "org.paddock.asciinema");
    CHECK(d.recording.directory.empty());
    CHECK_FALSE(d.recording.record_input);

    const Config c = parseOk(
        "recording:\n  enabled: false\n  plugin: org.example.rec\n  directory: /var/lib/casts\n"
        "  record_input: true\n" +
        kMinimal);
    CHECK_FALSE(c.recording.enabled);
    CHECK(c.recording.plugin == "org.example.rec");
    CHECK(c.recording.directory == "/var/lib/casts");
    CHECK(c.recording.record_input);

    CHECK(parseOk(kMinimal, {{"PADDOCK_RECORDING_RECORD_INPUT", "true"}}).recording.record_input);
    CHECK(parseOk(kMinimal, {{"PADDOCK_RECORDING_DIRECTORY", "/tmp/x"}}).recording.directory == "/tmp/x");
    CHECK_THAT(parseError("recording:\n  enabled: maybe\n" + kMinimal), Contains("recording.enabled"));
    CHECK_THAT(parseError("recording:\n  plugin: \"\"\n" + kMinimal), Contains("recording.plugin"));
    CHECK_THAT(parseError("recording:\n  record: true\n" + kMinimal), Contains("recording.record"));

    auto repo = paddock::loadConfig(paddock::test::sourceDir() + "/config/paddock.yaml", {});
    REQUIRE(repo.ok());
    CHECK(repo->recording.enabled);
    CHECK(repo->recording.plugin == "org.paddock.asciinema");
    CHECK_FALSE(repo->recording.record_input);
}

TEST_CASE("compat.stop_timeout_s: the file, the environment, and out-of-range values", "[config][compat]") {
    CHECK(parseOk(std::string(kMinimal) + "compat:\n  stop_timeout_s: 3\n").compat.stop_timeout_s == 3);
    CHECK(parseOk(kMinimal, {{"PADDOCK_COMPAT_STOP_TIMEOUT_S", "0"}}).compat.stop_timeout_s == 0);
    CHECK_THAT(parseError(std::string(kMinimal) + "compat:\n  stop_timeout_s: 86401\n"),
               Catch::Contains("compat.stop_timeout_s"));
    CHECK_THAT(parseError(std::string(kMinimal) + "compat:\n  stop_timeout_s: soon\n"),
               Catch::Contains("compat.stop_timeout_s"));
    CHECK_THAT(parseError(std::string(kMinimal) + "compat:\n  stop_timeout: 3\n"), Catch::Contains("compat"));
}

TEST_CASE("templates: snapshot_on_stop, snapshot limits and backups", "[config][snapshots]") {
    const std::string head = "sites:\n  - name: local\n    templates:\n      - name: lab\n";
    auto cfg = parseOk(head +
                       "        snapshot_on_stop: true\n        snapshot_on_stop_keep: 5\n        snapshot_limit: 9\n"
                       "        backups: {keep: 2, directory: /srv/backups}\n");
    const auto& t = cfg.sites.front().templates.front();
    CHECK(t.snapshot_on_stop);
    CHECK(t.snapshot_on_stop_keep == 5);
    CHECK(t.snapshot_limit == 9);
    CHECK(t.backups.keep == 2);
    CHECK(t.backups.directory == "/srv/backups");
    const auto defaults = parseOk(head).sites.front().templates.front();
    CHECK_FALSE(defaults.snapshot_on_stop);
    CHECK(defaults.snapshot_on_stop_keep == 3);
    CHECK(defaults.snapshot_limit == 32);
    CHECK(defaults.backups.keep == 7);
    CHECK(defaults.backups.directory.empty());
    CHECK_THAT(parseError(head + "        snapshot_on_stop: often\n"), Contains("snapshot_on_stop"));
    CHECK_THAT(parseError(head + "        snapshot_on_stop_keep: 0\n"), Contains("snapshot_on_stop_keep"));
    CHECK_THAT(parseError(head + "        snapshot_limit: 100000\n"), Contains("snapshot_limit"));
    CHECK_THAT(parseError(head + "        backups: {keep: 0}\n"), Contains("backups.keep"));
    CHECK_THAT(parseError(head + "        backups: {kept: 3}\n"), Contains("backups.kept"));
    CHECK_THAT(parseError(head + "        backups: 3\n"), Contains("backups"));
    // Snapshot on stop needs room for one more than it keeps (it prunes after taking the new one).
    CHECK_THAT(parseError(head + "        snapshot_on_stop: true\n        snapshot_on_stop_keep: 4\n"
                                 "        snapshot_limit: 4\n"),
               Contains("snapshot_on_stop_keep") && Contains("no room"));
    CHECK(parseOk(head + "        snapshot_on_stop: false\n        snapshot_on_stop_keep: 4\n"
                         "        snapshot_limit: 4\n")
              .sites.front()
              .templates.front()
              .snapshot_limit == 4);
}

TEST_CASE("watch: a template's watch settings, heartbeat sources and the exhibit VM", "[config][watch]") {
    const std::string head = "sites:\n  - name: local\n    templates:\n      - name: kiosk\n";
    auto cfg = parseOk(head +
                       "        watch: {snapshot: golden, heartbeat_timeout_s: 30, check_interval_s: 0.25,\n"
                       "                startup_grace_s: 5, startup_max_wait_s: 120.5, probe: agent,\n"
                       "                auto_revert: false, revert_on_start: false}\n"
                       "watch:\n  heartbeat_sources: [10.0.0.0/8, '::1']\n  heartbeat_rate_per_s: 3\n"
                       "  guest_url: http://192.168.122.1:8000\n"
                       "exhibit: {vm: art, site: local}\n");
    const auto& w = cfg.sites.front().templates.front().watch;
    REQUIRE(w.has_value());
    CHECK(w->snapshot == "golden");
    CHECK(w->heartbeat_timeout_ms == 30000);
    CHECK(w->check_interval_ms == 250);
    CHECK(w->startup_grace_ms == 5000);
    CHECK(w->startup_max_wait_ms == 120500);
    CHECK(w->probe == paddock::WatchProbeKind::Agent);
    CHECK_FALSE(w->auto_revert);
    CHECK_FALSE(w->revert_on_start);
    CHECK(cfg.watch.heartbeat_sources == std::vector<std::string>{"10.0.0.0/8", "::1"});
    CHECK(cfg.watch.heartbeat_rate_per_s == 3);
    CHECK(cfg.watch.guest_url == "http://192.168.122.1:8000");
    CHECK(cfg.exhibit.vm == "art");
    CHECK(cfg.exhibit.site == "local");

    // `watch: {}` watches with the defaults; no key, no watching.
    const auto defaults = parseOk(head + "        watch: {}\n");
    REQUIRE(defaults.sites.front().templates.front().watch.has_value());
    CHECK(defaults.sites.front().templates.front().watch->heartbeat_timeout_ms == 15000);
    CHECK(defaults.sites.front().templates.front().watch->check_interval_ms == 500);
    CHECK(defaults.sites.front().templates.front().watch->probe == paddock::WatchProbeKind::Heartbeat);
    CHECK_FALSE(parseOk(head).sites.front().templates.front().watch.has_value());
    CHECK(parseOk(head).watch.heartbeat_sources == std::vector<std::string>{"127.0.0.0/8", "::1"});
    CHECK(parseOk(head).exhibit.vm.empty());

    CHECK_THAT(parseError(head + "        watch: {heartbeat_timeout_s: 0.5}\n"), Contains("heartbeat_timeout_s"));
    CHECK_THAT(parseError(head + "        watch: {check_interval_s: 0.0001}\n"), Contains("check_interval_s"));
    CHECK_THAT(parseError(head + "        watch: {check_interval_s: fast}\n"), Contains("check_interval_s"));
    CHECK_THAT(parseError(head + "        watch: {check_interval_s: 1.2345}\n"), Contains("check_interval_s"));
    CHECK_THAT(parseError(head + "        watch: {probe: ping}\n"), Contains("probe"));
    CHECK_THAT(parseError(head + "        watch: {snapshot: ../ready}\n"), Contains("watch.snapshot"));
    CHECK_THAT(parseError(head + "        watch: {timeout: 3}\n"), Contains("watch.timeout"));
    CHECK_THAT(parseError(head + "        watch: 3\n"), Contains("watch"));
    CHECK_THAT(parseError(head + "watch: {heartbeat_sources: [not-a-network]}\n"), Contains("heartbeat_sources"));
    CHECK_THAT(parseError(head + "watch: {heartbeat_rate_per_s: 0}\n"), Contains("heartbeat_rate_per_s"));
    CHECK_THAT(parseError(head + "watch: {guest_url: 'ftp://x'}\n"), Contains("guest_url"));
    CHECK_THAT(parseError(head + "exhibit: {vm: 'a/b'}\n"), Contains("exhibit.vm"));
    CHECK_THAT(parseError(head + "exhibit: {vm: art, site: elsewhere}\n"), Contains("exhibit.site"));
    CHECK_THAT(parseError(head + "exhibit: {site: local}\n"), Contains("exhibit.site"));
    // The environment reaches the global keys like every other.
    CHECK(parseConfig(head, {{"PADDOCK_EXHIBIT_VM", "art"}}).value().exhibit.vm == "art");
}

TEST_CASE("config: provisioning and a template's provision section", "[config]") {
    const std::string head = templateWith("");
    const auto defaults = parseOk(head);
    CHECK(defaults.provisioning.plugin == "org.paddock.ansible");
    CHECK(defaults.provisioning.max_parallel == 2);
    CHECK(defaults.provisioning.settings.empty());
    CHECK_FALSE(defaults.sites.front().templates.front().provision.has_value());

    const auto cfg = parseOk(head +
                             "        provision:\n"
                             "          playbook: lab.yml\n"
                             "          on_create: true\n"
                             "          timeout_s: 120\n"
                             "          extra_vars:\n"
                             "            offline: true\n"
                             "            packages: [git, 'vim']\n"
                             "            firewall_allowed_ports: [8080, 443]\n"
                             "            ratio: 0.5\n"
                             "            quoted: '42'\n"
                             "            version: 01\n"
                             "            nothing: ~\n"
                             "            nested: {a: {b: [1, {c: yes}]}}\n"
                             "provisioning:\n"
                             "  plugin: org.example.chef\n"
                             "  max_parallel: 4\n"
                             "  settings: {command: /opt/ansible/bin/ansible-playbook, verbosity: 2}\n");
    const auto& p = cfg.sites.front().templates.front().provision;
    REQUIRE(p.has_value());
    CHECK(p->playbook == "lab.yml");
    CHECK(p->on_create);
    CHECK(p->timeout_s == 120);
    CHECK(p->extra_vars_json ==
          R"({"offline":true,"packages":["git","vim"],"firewall_allowed_ports":[8080,443],"ratio":0.5,)"
          R"("quoted":"42","version":"01","nothing":null,"nested":{"a":{"b":[1,{"c":"yes"}]}}})");
    CHECK(cfg.provisioning.plugin == "org.example.chef");
    CHECK(cfg.provisioning.max_parallel == 4);
    REQUIRE(cfg.provisioning.settings.size() == 2);
    CHECK(cfg.provisioning.settings[0] == std::pair<std::string, std::string>("command", "/opt/ansible/bin/ansible-playbook"));
    CHECK(cfg.provisioning.settings[1] == std::pair<std::string, std::string>("verbosity", "2"));

    // `provision: {}`: the defaults.
    const auto empty = parseOk(head + "        provision: {}\n");
    REQUIRE(empty.sites.front().templates.front().provision.has_value());
    CHECK(empty.sites.front().templates.front().provision->playbook == "ansible/playbooks/configure_vm.yml");
    CHECK(empty.sites.front().templates.front().provision->extra_vars_json == "{}");
    CHECK_FALSE(empty.sites.front().templates.front().provision->on_create);
    CHECK(empty.sites.front().templates.front().provision->timeout_s == 900);

    CHECK_THAT(parseError(head + "        provision: {timeout_s: 0}\n"), Contains("timeout_s"));
    CHECK_THAT(parseError(head + "        provision: {playbook: ''}\n"), Contains("playbook"));
    CHECK_THAT(parseError(head + "        provision: {extra_vars: [1, 2]}\n"), Contains("extra_vars"));
    CHECK_THAT(parseError(head + "        provision: {extra_vars: 3}\n"), Contains("extra_vars"));
    CHECK_THAT(parseError(head + "        provision: {extra_vars: {[a]: 1}}\n"), Contains("extra_vars"));
    CHECK_THAT(parseError(head + "        provision: {become: true}\n"), Contains("provision.become"));
    CHECK_THAT(parseError(head + "provisioning: {max_parallel: 0}\n"), Contains("max_parallel"));
    CHECK_THAT(parseError(head + "provisioning: {settings: [a]}\n"), Contains("settings"));
    CHECK_THAT(parseError(head + "provisioning: {settings: {a: [1]}}\n"), Contains("settings"));
    // Deeply nested variables are refused, not recursed into without end.
    std::string deep = "[";
    for (int i = 0; i < 40; ++i) deep += "[";
    deep += std::string(41, ']');
    CHECK_THAT(parseError(head + "        provision: {extra_vars: {x: " + deep + "}}\n"), Contains("deeper"));
    // The environment turns provisioning off.
    CHECK(parseConfig(head, {{"PADDOCK_PROVISIONING_PLUGIN", ""}}).value().provisioning.plugin.empty());
}

TEST_CASE("placement: policy, site capacity, labels and a template's site_selector", "[config][placement]") {
    const Config defaults = parseOk(kMinimal);
    CHECK(defaults.placement.policy == paddock::PlacementPolicy::Spread);
    CHECK(defaults.sites[0].max_vms == 0);
    CHECK(defaults.sites[0].max_memory_mb == 0);
    CHECK(defaults.sites[0].labels.empty());

    const std::string yaml = "placement:\n  policy: pack\n"
                             "sites:\n  - name: a\n    max_vms: 10\n    max_memory_mb: 8192\n"
                             "    labels: {zone: lab-b, gpu: \"yes\"}\n"
                             "    templates:\n      - name: t\n        site_selector: {zone: lab-b}\n";
    const Config cfg = parseOk(yaml);
    CHECK(cfg.placement.policy == paddock::PlacementPolicy::Pack);
    CHECK(cfg.sites[0].max_vms == 10);
    CHECK(cfg.sites[0].max_memory_mb == 8192);
    CHECK(cfg.sites[0].labels == paddock::Labels{{"gpu", "yes"}, {"zone", "lab-b"}});
    CHECK(cfg.sites[0].templates[0].site_selector == paddock::Labels{{"zone", "lab-b"}});

    // The environment overrides each key, labels as key=value pairs.
    const Config env = parseOk(yaml, {{"PADDOCK_PLACEMENT_POLICY", "spread"},
                                      {"PADDOCK_SITES_0_MAX_VMS", "3"},
                                      {"PADDOCK_SITES_0_MAX_MEMORY_MB", "0"},
                                      {"PADDOCK_SITES_0_LABELS", " zone=lab-c , rack=r1,"},
                                      {"PADDOCK_SITES_0_TEMPLATES_0_SITE_SELECTOR", "rack=r1"}});
    CHECK(env.placement.policy == paddock::PlacementPolicy::Spread);
    CHECK(env.sites[0].max_vms == 3);
    CHECK(env.sites[0].max_memory_mb == 0);
    CHECK(env.sites[0].labels == paddock::Labels{{"rack", "r1"}, {"zone", "lab-c"}});
    CHECK(env.sites[0].templates[0].site_selector == paddock::Labels{{"rack", "r1"}});

    // Bad values name the key.
    CHECK_THAT(parseError("placement:\n  policy: random\n" + kMinimal), Contains("placement.policy") && Contains("spread, pack"));
    CHECK_THAT(parseError(kMinimal, {{"PADDOCK_PLACEMENT_POLICY", "fill"}}), Contains("PADDOCK_PLACEMENT_POLICY"));
    CHECK_THAT(parseError(kMinimal + "    max_vms: -1\n"), Contains("sites[0].max_vms"));
    CHECK_THAT(parseError(kMinimal + "    max_vms: many\n"), Contains("sites[0].max_vms"));
    CHECK_THAT(parseError(kMinimal + "    max_memory_mb: 99999999999999999999999\n"), Contains("sites[0].max_memory_mb"));
    CHECK_THAT(parseError(kMinimal + "    labels: [zone]\n"), Contains("sites[0].labels") && Contains("mapping"));
    CHECK_THAT(parseError(kMinimal + "    labels: {Zone: a}\n"), Contains("sites[0].labels") && Contains("label key 'Zone'"));
    CHECK_THAT(parseError(kMinimal + "    labels: {zone: \"a b\"}\n"), Contains("label value 'a b'"));
    CHECK_THAT(parseError(kMinimal + "    labels: {zone: {x: 1}}\n"), Contains("sites[0].labels"));
    CHECK_THAT(parseError(kMinimal + "    labels: {\"\": a}\n"), Contains("label key ''"));
    CHECK_THAT(parseError(kMinimal + "    labels: {" + std::string(64, 'k') + ": a}\n"), Contains("1-63"));
    CHECK_THAT(parseError(kMinimal, {{"PADDOCK_SITES_0_LABELS", "zone"}}),
               Contains("sites[0].labels") && Contains("'zone' is not key=value") && Contains("PADDOCK_SITES_0_LABELS"));
    CHECK_THAT(parseError(kMinimal, {{"PADDOCK_SITES_0_LABELS", "zone=a,zone=b"}}), Contains("duplicate label key 'zone'"));
    CHECK_THAT(parseError(kMinimal + "    templates:\n      - name: t\n        site_selector: {zone: \"a/b\"}\n"),
               Contains("sites[0].templates[0].site_selector"));
}

TEST_CASE("remote sites: ssh_key and known_hosts go into the URI, guest_ssh_host, ssh_forward_address",
          "[config][remote]") {
    const paddock::test::TempDir temp;
    const std::string& dir = temp.path();
    using paddock::test::writeFile;
    const std::string key = dir + "/id key&x=1";  // characters that must not end a URI parameter
    const std::string hosts = dir + "/known_hosts";
    writeFile(key, "not a real key\n");
    writeFile(hosts, "[127.0.0.1]:2222 ssh-ed25519 AAAA\n");
    const auto remote = [&](const std::string& uri, const std::string& more = {}) {
        return "sites:\n  - name: far\n    uri: \"" + uri + "\"\n    ssh_key: \"" + key + "\"\n" + more;
    };
    const Config c = parseOk(remote("qemu+libssh2://lab@host:2222/system",
                                    "    known_hosts: " + hosts + "\n    guest_ssh_host: host.example\n"
                                    "    ssh_forward_address: 0.0.0.0\n"));
    const SiteConfig& far = c.sites[0];
    CHECK(far.guest_ssh_host == "host.example");
    CHECK(far.ssh_forward_address == "0.0.0.0");
    CHECK(connectionUri(far) == "qemu+libssh2://lab@host:2222/system?keyfile=" + dir +
                                    "/id%20key%26x%3D1&sshauth=privkey&known_hosts=" + dir + "/known_hosts");
    // An existing query is extended; the ssh transport gets the key only (no sshauth there).
    const Config ssh = parseOk(remote("qemu+ssh://lab@host/system?no_tty=1"));
    CHECK(connectionUri(ssh.sites[0]) == "qemu+ssh://lab@host/system?no_tty=1&keyfile=" + dir + "/id%20key%26x%3D1");
    // Defaults: the URI as written, forwards on loopback, the backend's own address.
    const Config plain = parseOk(kMinimal);
    CHECK(connectionUri(plain.sites[0]) == plain.sites[0].uri);
    CHECK(plain.sites[0].ssh_forward_address == "127.0.0.1");
    CHECK(plain.sites[0].guest_ssh_host.empty());
    // From the environment.
    const Config env = parseOk(kMinimal, {{"PADDOCK_SITES_0_GUEST_SSH_HOST", "10.1.2.3"},
                                          {"PADDOCK_SITES_0_SSH_FORWARD_ADDRESS", "::"}});
    CHECK(env.sites[0].guest_ssh_host == "10.1.2.3");
    CHECK(env.sites[0].ssh_forward_address == "::");

    CHECK_THAT(parseError("sites:\n  - name: a\n    uri: qemu:///system\n    ssh_key: " + key + "\n"),
               Contains("sites[0].ssh_key: needs an SSH transport"));
    CHECK_THAT(parseError(remote("qemu+ssh://lab@host/system", "    known_hosts: " + hosts + "\n")),
               Contains("sites[0].known_hosts: needs the libssh2 or libssh transport") && Contains("ssh(1)"));
    CHECK_THAT(parseError("sites:\n  - name: a\n    uri: qemu+libssh2://h/system\n    ssh_key: " + dir + "/none\n"),
               Contains("sites[0].ssh_key: cannot read") && Contains("/none"));
    CHECK_THAT(parseError(remote("qemu+libssh://h/system", "    known_hosts: " + dir + "\n")),
               Contains("sites[0].known_hosts: cannot read"));
    CHECK_THAT(parseError(siteWith("    guest_ssh_host: \"a b\"\n")), Contains("sites[0].guest_ssh_host") &&
                                                                           Contains("not a host name"));
    CHECK_THAT(parseError(siteWith("    guest_ssh_host: \"-oProxyCommand=x\"\n")), Contains("sites[0].guest_ssh_host"));
    CHECK_THAT(parseError(siteWith("    ssh_forward_address: lab.example\n")),
               Contains("sites[0].ssh_forward_address: 'lab.example' is not an IP address"));
    CHECK_THAT(parseError(siteWith("    ssh_forward_address: 10.0.0.0/8\n")), Contains("sites[0].ssh_forward_address"));
    CHECK_THAT(parseError(siteWith("    ssh_forward_address: \"\"\n")), Contains("sites[0].ssh_forward_address"));
    CHECK_THAT(parseError(siteWith("    uri: \"qemu:///system bogus\"\n")), Contains("sites[0].uri: must not contain white space"));
}

TEST_CASE("pools spanning sites: sites, site_selector, templates on every site", "[config][pool][placement]") {
    const std::string sites = "sites:\n"
                              "  - {name: a, labels: {zone: x}, templates: [{name: t}], pools: [{name: local}]}\n"
                              "  - {name: b, labels: {zone: x}, templates: [{name: t}]}\n"
                              "  - {name: c, labels: {zone: y}, templates: [{name: u}]}\n";
    using paddock::PoolConfig;
    const Config c = parseOk(sites + "pools:\n  - {name: lab, template: t, sites: [a, b], min_idle: 3, max_total: 6}\n"
                                     "  - {name: zoned, template: t, site_selector: {zone: x}}\n");
    REQUIRE(c.pools.size() == 2);
    CHECK(c.pools[0].sites == std::vector<std::string>{"a", "b"});
    CHECK(c.pools[0].min_idle == 3);
    const auto names = [&](const PoolConfig& p) {
        std::vector<std::string> out;
        for (const SiteConfig* s : poolSites(c, p)) out.push_back(s->name);
        return out;
    };
    CHECK(names(c.pools[0]) == std::vector<std::string>{"a", "b"});
    CHECK(names(c.pools[1]) == std::vector<std::string>{"a", "b"});
    CHECK(parseOk(sites + "pools: [{name: lab, template: t}]\n", {{"PADDOCK_POOLS_0_SITES", "b"}}).pools[0].sites ==
          std::vector<std::string>{"b"});

    CHECK_THAT(parseError(sites + "pools: [{name: lab, template: t, sites: [a, nowhere]}]\n"),
               Contains("pools[0].sites: no site named 'nowhere'"));
    CHECK_THAT(parseError(sites + "pools: [{name: lab, template: t, sites: [a, a]}]\n"),
               Contains("pools[0].sites: site 'a' is listed twice"));
    CHECK_THAT(parseError(sites + "pools: [{name: lab, template: t}]\n"),
               Contains("pools[0].template: site 'c' has no template named 't'") && Contains("every site"));
    CHECK_THAT(parseError(sites + "pools: [{name: lab, template: t, sites: [c], site_selector: {zone: x}}]\n"),
               Contains("pools[0].site_selector: the pool spans no site"));
    CHECK_THAT(parseError(sites + "pools: [{name: local, template: t, sites: [a, b]}]\n"),
               Contains("pools[0].name: duplicate pool name 'local' (also in site 'a')"));
    CHECK_THAT(parseError(sites + "pools: [{name: p, template: t, sites: [a]}, {name: p, template: t, sites: [b]}]\n"),
               Contains("pools[1].name: duplicate pool name 'p' (also in pools)"));
    CHECK_THAT(parseError(sites + "pools: [{name: lab, template: t, sites: [a], min_idle: 9, max_total: 2}]\n"),
               Contains("pools[0].min_idle: must not exceed max_total (2)"));
    CHECK_THAT(parseError(sites + "pools: [{name: lab, template: t, sites: a}]\n"), Contains("pools[0].sites"));
}
