// Typed configuration. Loaded from YAML; every key can be overridden from the environment as
// PADDOCK_<PATH> where PATH is the key path upper-cased and joined by '_' (list items by
// index): PADDOCK_SERVER_PORT, PADDOCK_PATHS_STATE_DIR, PADDOCK_SITES_0_URI.
// Unknown keys and bad values are errors that name the key.
#pragma once

#include "paddock/core/enum_names.hpp"
#include "paddock/core/result.hpp"
#include "paddock/core/role.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace paddock {

// The configuration's enumerated values, parsed once when the file is read. Their spellings
// (EnumTable) are the YAML words and what the API reports.
enum class AuthMode { Token, None };
enum class DomainType { Auto, Kvm, Qemu, Xen, Hyperv };
enum class NetworkMode { None, User, Network };
enum class PoolMode { Running, Saved, Shutoff, Paused };
enum class EmptyPoolPolicy { Refuse, Cold };
enum class PlacementPolicy { Spread, Pack };

template <>
struct EnumTable<AuthMode> {
    static constexpr std::array<EnumSpelling<AuthMode>, 2> values{
        {{"token", AuthMode::Token}, {"none", AuthMode::None}}};
};
template <>
struct EnumTable<DomainType> {
    static constexpr std::array<EnumSpelling<DomainType>, 5> values{{{"auto", DomainType::Auto},
                                                                      {"kvm", DomainType::Kvm},
                                                                      {"qemu", DomainType::Qemu},
                                                                      {"xen", DomainType::Xen},
                                                                      {"hyperv", DomainType::Hyperv}}};
};
template <>
struct EnumTable<NetworkMode> {
    static constexpr std::array<EnumSpelling<NetworkMode>, 3> values{
        {{"none", NetworkMode::None}, {"user", NetworkMode::User}, {"network", NetworkMode::Network}}};
};
template <>
struct EnumTable<PoolMode> {
    static constexpr std::array<EnumSpelling<PoolMode>, 4> values{{{"running", PoolMode::Running},
                                                                    {"saved", PoolMode::Saved},
                                                                    {"shutoff", PoolMode::Shutoff},
                                                                    {"paused", PoolMode::Paused}}};
};
template <>
struct EnumTable<EmptyPoolPolicy> {
    static constexpr std::array<EnumSpelling<EmptyPoolPolicy>, 2> values{
        {{"503", EmptyPoolPolicy::Refuse}, {"cold", EmptyPoolPolicy::Cold}}};
};
template <>
struct EnumTable<PlacementPolicy> {
    static constexpr std::array<EnumSpelling<PlacementPolicy>, 2> values{
        {{"spread", PlacementPolicy::Spread}, {"pack", PlacementPolicy::Pack}}};
};

// Site labels and template selectors (`zone: lab-b`). Keys: 1-63 of [a-z0-9._-], starting with a
// letter or digit; values: 0-63 of [A-Za-z0-9._-]. From the environment: "zone=lab-b,gpu=yes".
using Labels = std::map<std::string, std::string>;

// server.tls: paddockd serves HTTPS and WSS on server.port when both files are set (both or
// neither; each must be readable at startup).
struct TlsConfig {
    std::string cert;  // PEM certificate, then any intermediate certificates
    std::string key;   // PEM private key of the certificate, unencrypted
    bool enabled() const noexcept { return !cert.empty(); }
};

struct ServerConfig {
    std::string host = "127.0.0.1";
    uint16_t port = 8000;
    uint64_t max_body_bytes = 1024 * 1024;
    unsigned threads = 16;                      // HTTP worker threads (a request holds one while its handler runs)
    uint32_t max_connections = 10000;           // open client connections in total
    uint32_t max_connections_per_client = 512;  // from one client address
    uint32_t head_timeout_s = 10;               // a whole request head, from its first byte
    uint32_t body_timeout_s = 30;               // a whole request body
    uint32_t idle_timeout_s = 30;               // a kept-alive connection between requests
    uint32_t write_timeout_s = 30;              // a whole response
    uint32_t max_websockets = 4096;             // open WebSockets in total
    uint32_t max_websockets_per_token = 256;    // open WebSockets per API token
    uint32_t websocket_ping_interval_s = 30;    // a quiet WebSocket gets a ping
    uint32_t websocket_idle_timeout_s = 90;     // a WebSocket silent this long is closed
    std::vector<std::string> public_paths = {"/healthz", "/metrics"};  // no token needed
    std::vector<std::string> allowed_origins;                          // WebSocket Origins accepted besides same-origin
    // Non-empty: the names (or name:port) clients must address paddockd by in the Host header;
    // any other Host is refused (400), against DNS rebinding. Empty: any Host.
    std::vector<std::string> allowed_hosts;
    // Requests that may wait at once for a pool VM to boot or an Idempotency-Key twin to finish
    // (each holds a worker thread while it waits); beyond: 503. 0: half of `threads`.
    uint32_t max_waiting_allocations = 0;
    TlsConfig tls;
    // Where clients reach paddockd (scheme://host[:port][/prefix]), for the absolute URLs it hands
    // out; empty: the listening address and scheme, or what a trusted proxy forwards.
    std::string public_url;
    // Addresses/CIDRs whose X-Forwarded-Proto/-Host are believed; everyone else's are ignored.
    std::vector<std::string> trusted_proxies;
};

struct PathsConfig {
    std::string state_dir = "state";
    std::string log_dir = "logs";
    std::vector<std::string> plugin_dirs = {"build/plugins"};
    std::string web_dir = "server/web";  // static assets (docs, console)
};

struct TokenConfig {
    std::string name;
    std::string token;
    Role role = Role::Admin;
    // Non-empty: the token reaches only this owner's VMs, leases, consoles and recordings
    // (README, "Owner-scoped tokens"), whatever its role.
    std::string owner;
};

struct AuthConfig {
    AuthMode mode = AuthMode::Token;  // none: no auth, every caller is admin
    std::vector<TokenConfig> tokens;
};

// Terminal-session recording (recording.hpp).
struct RecordingConfig {
    bool enabled = true;
    std::string plugin = "org.paddock.asciinema";  // recorder plugin id; must be loaded when enabled
    std::string directory;                         // empty: <paths.log_dir>/ssh
    bool record_input = false;                     // also keep keystrokes (they may hold passwords)
};

// Configuring VMs after they are made (provision_service.hpp): which provisioner plugin runs
// the templates' `provision` recipes.
struct ProvisioningConfig {
    std::string plugin = "org.paddock.ansible";  // provisioner plugin id; "": provisioning off
    uint32_t max_parallel = 2;                   // runs at once; more wait queued
    // Handed to the plugin as they are (org.paddock.ansible: command, verbosity).
    std::vector<std::pair<std::string, std::string>> settings;
};

// How the VMs of a template are configured after they are made.
struct ProvisionPolicy {
    std::string playbook = "ansible/playbooks/configure_vm.yml";  // the recipe; relative: to paddockd's directory
    std::string extra_vars_json = "{}";  // YAML `extra_vars` (any mapping), as one JSON object
    bool on_create = false;              // every create (and every pool VM) is provisioned
    uint32_t timeout_s = 900;            // a run is killed after this long
};

// The compatibility routes (COMPAT.md): where they keep the earlier tools' behaviour.
struct CompatConfig {
    uint32_t stop_timeout_s = 15;  // POST /vms/stop: graceful shutdown before forcing (the old tool's 15 s)
};

// A machine template: what a new VM is made from.
// Backups of the VMs made from a template (POST /api/v1/vms/{name}/backups).
struct BackupPolicy {
    // Restore points kept: a chain (a full backup and the incremental ones after it) holds at
    // most `keep`; then a new chain starts, and the oldest chains go while the rest still hold
    // `keep` backups. So between keep and 2*keep-1 backups exist per VM.
    uint32_t keep = 7;
    std::string directory;  // empty: <state_dir>/backups; each VM gets its own directory below
};

// Watching a VM (issue 12, watch_service.hpp): a template's `watch:`, a VM's POST .../watch.
// Durations are kept in milliseconds; the YAML gives seconds (decimals allowed).
enum class WatchProbeKind { Heartbeat, Agent, Ssh, None };
template <>
struct EnumTable<WatchProbeKind> {
    static constexpr std::array<EnumSpelling<WatchProbeKind>, 4> values{{{"heartbeat", WatchProbeKind::Heartbeat},
                                                                         {"agent", WatchProbeKind::Agent},
                                                                         {"ssh", WatchProbeKind::Ssh},
                                                                         {"none", WatchProbeKind::None}}};
};
struct WatchPolicy {
    std::string snapshot = "ready";        // reverted to when the guest fails
    uint32_t heartbeat_timeout_ms = 15000;  // no heartbeat this long (once the first came): revert
    uint32_t check_interval_ms = 500;       // how often the watchdog looks
    uint32_t startup_grace_ms = 10000;      // after the probe answered, before re-arming
    uint32_t startup_max_wait_ms = 300000;  // for the probe after a revert, then re-armed anyway
    WatchProbeKind probe = WatchProbeKind::Heartbeat;
    bool auto_revert = true;      // false: maintenance, observe and report only
    bool revert_on_start = true;  // paddockd start: revert and start the VM (the old tool's boot)
};

// A change of a VM's watch settings (POST .../watch): fields not given keep what the VM has
// (its own settings, else its template's, else the defaults).
struct WatchPatch {
    std::optional<std::string> snapshot;
    std::optional<uint32_t> heartbeat_timeout_ms;
    std::optional<uint32_t> check_interval_ms;
    std::optional<uint32_t> startup_grace_ms;
    std::optional<uint32_t> startup_max_wait_ms;
    std::optional<WatchProbeKind> probe;
    std::optional<bool> auto_revert;
    std::optional<bool> revert_on_start;
};

struct TemplateConfig {
    std::string name;
    std::string base_image;  // empty: diskless
    std::string base_format = "qcow2";
    std::string kernel;  // optional direct kernel boot
    std::string initrd;
    std::string cmdline;
    uint32_t vcpus = 0;      // 0: the site's default
    uint64_t memory_mb = 0;  // 0: the site's default
    // A snapshot (memory + disk) of a running VM before every stop through the API, named
    // "stop-<UTC time>"; the newest `snapshot_on_stop_keep` of them are kept. Pool VMs never.
    bool snapshot_on_stop = false;
    uint32_t snapshot_on_stop_keep = 3;
    uint32_t snapshot_limit = 32;  // snapshots one VM may hold, automatic ones included
    BackupPolicy backups;
    // Present: every VM made from the template is watched (unless DELETE .../watch said not).
    std::optional<WatchPolicy> watch;
    // Present: VMs of this template can be provisioned (POST /api/v1/vms/{name}/provision), and
    // with on_create they are after every create, pool VMs before they become idle.
    std::optional<ProvisionPolicy> provision;
    // Placement (POST /api/v1/vms without a site) only considers sites whose labels hold every
    // pair of this selector; a VM created on a named site ignores it.
    Labels site_selector;
};

// A hot pool of VMs made from one template, handed out as leases (pool_manager.hpp).
struct PoolConfig {
    std::string name;                                    // unique across all sites, at most 54 characters
    std::string template_name;                           // YAML key `template`; empty: the site's default template
    uint32_t min_idle = 1;                               // idle VMs kept ready
    uint32_t max_total = 4;                              // idle + allocated + booting, never more
    PoolMode mode = PoolMode::Running;                   // saved: managed save; shutoff: off; paused: suspended
    uint32_t max_per_owner = 1;                          // leases one owner may hold at once; 0: no limit
    EmptyPoolPolicy on_empty = EmptyPoolPolicy::Refuse;  // cold: boot one now, answer 202 + operation
    uint32_t default_ttl_s = 3600;                       // lease length when the request names none
    uint32_t max_ttl_s = 86400;                          // a lease never lasts longer than this from its creation
    // Deployment-wide pools (Config::pools) only: the sites the pool spans (empty: every site),
    // narrowed to those whose labels hold every pair of site_selector. Its idle VMs are spread
    // over those sites by placement.policy and refilled on the others when one goes down
    // (pool_group.hpp). A pool listed under a site keeps both empty.
    std::vector<std::string> sites;
    Labels site_selector;
};

struct SiteConfig {
    std::string name;
    std::string backend = "org.paddock.libvirt-qemu";
    std::string uri = "qemu:///system";
    // Remote sites over libvirt's SSH transports (qemu+ssh://, qemu+libssh2://, qemu+libssh://):
    // the private key Paddock logs in with (URI parameter keyfile=) and the known_hosts file the
    // host's key is checked against (known_hosts=, libssh2/libssh transports only: the ssh
    // transport runs ssh(1), which checks the known_hosts of the user paddockd runs as).
    // connectionUri() adds them to `uri`.
    std::string ssh_key;
    std::string known_hosts;
    // Where paddockd reaches the guests' SSH forwards (terminal, readiness probe, leases' ssh
    // host). Empty: what the backend says (127.0.0.1 for user-mode networking), right for a
    // local hypervisor only: a remote site names its host here.
    std::string guest_ssh_host;
    // The address user-mode SSH forwards listen on at the hypervisor host (an IP literal).
    // A remote site sets it to an address of that host paddockd can reach (or 0.0.0.0).
    std::string ssh_forward_address = "127.0.0.1";
    // auto: the backend's own (QEMU: kvm when the host can, else qemu (TCG)); xen and hyperv
    // for the backends of those names
    DomainType domain_type = DomainType::Auto;
    std::string storage_pool = "default";       // libvirt storage pool for overlays
    NetworkMode network_mode = NetworkMode::None;
    std::string network_name = "default";  // for network_mode: network
    uint32_t default_vcpus = 1;
    uint64_t default_memory_mb = 512;
    uint32_t stop_timeout_s = 60;      // graceful shutdown before forcing
    std::string ssh_user = "student";  // account Paddock's key logs into
    uint16_t ssh_port_min = 22000;     // network_mode user: 127.0.0.1 ports forwarded to guest 22
    uint16_t ssh_port_max = 22999;
    uint32_t ready_timeout_s = 300;  // SSH must answer this long after a start
    // Backends without lifecycle events (org.paddock.libvirt-hyperv, org.paddock.virsh): how
    // often the site re-lists its domains to notice changes (evented backends: every second).
    uint32_t poll_interval_ms = 5000;
    std::string default_template;    // empty: the first template, or none
    // Capacity for new VMs (placement and creates naming the site): the VMs Paddock manages on
    // the site (any state, pool VMs included) and their memory. 0: unlimited.
    uint32_t max_vms = 0;
    uint64_t max_memory_mb = 0;
    Labels labels;  // matched by templates' site_selector
    std::vector<TemplateConfig> templates;
    std::vector<PoolConfig> pools;
};

// Site-independent watchdog settings: who may send heartbeats without a token.
struct WatchConfig {
    // Networks whose guests may call the guest-facing routes (heartbeat, revert request, idle
    // reset, the old /api/v1/vm/restart) without a token. QEMU user-mode guests reach the host
    // from 127.0.0.1; a guest on a libvirt network is admitted from its own leased address too.
    std::vector<std::string> heartbeat_sources = {"127.0.0.0/8", "::1"};
    uint32_t heartbeat_rate_per_s = 10;  // per VM; more answer 429
    // How guests address paddockd (paddock.heartbeat=<guest_url>/api/v1/vms/<vm>/heartbeat on the
    // kernel command line of watched VMs booted directly). Empty: http://10.0.2.2:<server.port>
    // on user-mode sites (QEMU's gateway is the host), nothing on other sites.
    std::string guest_url;
};

// The earlier exhibition controller's routes (/api/v1/status, /api/v1/heartbeat, ...) act on
// this one VM; empty vm: those routes are not served and GET / is the teaching tool's.
struct ExhibitConfig {
    std::string vm;
    std::string site;  // empty: the first site
};

// How POST /api/v1/vms without a site chooses one (placement.hpp): spread to the site with the
// most headroom, or pack onto the first site (in config order) that fits.
struct PlacementConfig {
    PlacementPolicy policy = PlacementPolicy::Spread;
};

struct Config {
    ServerConfig server;
    PathsConfig paths;
    AuthConfig auth;
    RecordingConfig recording;
    ProvisioningConfig provisioning;
    CompatConfig compat;
    WatchConfig watch;
    ExhibitConfig exhibit;
    PlacementConfig placement;
    std::vector<SiteConfig> sites;
    // Pools that span sites (PoolConfig::sites / site_selector); names are unique together with
    // every site's pools.
    std::vector<PoolConfig> pools;
};

// The URI a site's backend opens: `uri` with the SSH transport's parameters of ssh_key and
// known_hosts added (percent-encoded; libssh2/libssh also get sshauth=privkey when a key is set,
// so that they never fall back to an agent or a password prompt).
std::string connectionUri(const SiteConfig& site);

// The sites a deployment-wide pool spans, in configuration order (PoolConfig::sites filtered by
// site_selector; every site when sites is empty).
std::vector<const SiteConfig*> poolSites(const Config& config, const PoolConfig& pool);

// Whether `labels` hold every pair of `selector` (an empty selector matches every site).
bool labelsMatch(const Labels& selector, const Labels& labels);

// The memory (MiB) of a new VM from `tmpl` on `site`: the template's, else the site's default
// (also for no template).
uint64_t templateMemoryMb(const SiteConfig& site, const TemplateConfig* tmpl) noexcept;

// The template `name` names in `site`; an empty name means the site's default_template, or
// its first template when it names none. nullptr when there is no such template (or none at all).
const TemplateConfig* findTemplate(const SiteConfig& site, std::string_view name) noexcept;

using Environment = std::map<std::string, std::string>;

// The process environment as a map (only PADDOCK_* entries).
Environment processEnvironment();

// Parses YAML text, applies `env` overrides, validates. `origin` names the source in errors.
Result<Config> parseConfig(const std::string& yamlText, const Environment& env, const std::string& origin = "config");

// Reads and parses a file.
Result<Config> loadConfig(const std::string& path, const Environment& env);

}  // namespace paddock
