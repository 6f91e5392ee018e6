// Host-side C++ view of a backend plugin. Turns the C vtable into Result-returning calls; a
// NULL vtable entry becomes ErrorCode::Unsupported "<op>: unsupported by backend <id>".
// Only the bytes of the plugin's vtable covered by its struct_size are read.
#pragma once

#include "paddock/core/metadata_store.hpp"
#include "paddock/core/plugin_host.hpp"
#include "paddock/core/result.hpp"

#include <paddock/pdk_backend.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paddock {

using Metadata = std::map<std::string, std::string>;

enum class DomainState : int {
    NoState = 0,
    Running = 1,
    Blocked = 2,
    Paused = 3,
    Shutdown = 4,
    Shutoff = 5,
    Crashed = 6,
    PmSuspended = 7
};

// "running", "blocked", "paused", "shutdown", "shut off", "crashed", "pmsuspended", "nostate"
// (virsh's words, which the old clients compare against).
// Inline: request parsers built without core's code (server_wire, the fuzz tree) read it too.
constexpr std::string_view domainStateName(DomainState state) noexcept {
    switch (state) {
        case DomainState::NoState: return "nostate";
        case DomainState::Running: return "running";
        case DomainState::Blocked: return "blocked";
        case DomainState::Paused: return "paused";
        case DomainState::Shutdown: return "shutdown";
        case DomainState::Shutoff: return "shut off";
        case DomainState::Crashed: return "crashed";
        case DomainState::PmSuspended: return "pmsuspended";
    }
    return "nostate";
}
// Running, blocked, paused, being shut down or PM-suspended: the domain has a live process.
bool domainIsActive(DomainState state) noexcept;

struct DomainInfo {
    std::string name;
    std::string uuid;
    int id = -1;
    DomainState state = DomainState::NoState;
    uint64_t max_memory_kib = 0;
    uint64_t memory_kib = 0;
    uint32_t vcpus = 0;
    uint64_t cpu_time_ns = 0;
    bool has_managed_save = false;
    Metadata metadata;
};

struct DomainSpec {
    std::string name;
    uint32_t vcpus = 1;
    uint64_t memory_mib = 512;
    std::string domain_type = "auto";
    std::string disk_path;  // empty: diskless
    std::string disk_format = "qcow2";
    std::string kernel_path, initrd_path, kernel_cmdline;
    pdk_network_mode network_mode = PDK_NETWORK_NONE;
    std::string network_name;
    uint16_t ssh_forward_port = 0;
    // Where the user-mode SSH forward listens on the hypervisor host (ABI 1.7); empty:
    // 127.0.0.1. A backend older than 1.7 cannot bind elsewhere: defineDomain then refuses any
    // other address (Unsupported) instead of silently binding 127.0.0.1.
    std::string ssh_forward_address;
    Metadata metadata;
};

struct OverlaySpec {
    std::string pool;
    std::string name;
    std::string backing_path;
    std::string backing_format = "qcow2";
    uint64_t capacity_bytes = 0;
};

// The host's capacity (ABI 1.7 host_resources): a snapshot, free memory changes by itself.
struct HostResources {
    uint32_t cpus = 0;
    uint64_t memory_total_bytes = 0;
    uint64_t memory_free_bytes = 0;
};

// A file on the hypervisor host (ABI 1.7 volume_info).
struct VolumeInfo {
    bool in_pool = false;     // a storage volume; false: a plain file (local connections only)
    std::string pool;         // its pool when in_pool
    uint64_t capacity_bytes = 0;  // 0: unknown
    std::string format;       // "" when unknown
};

struct HostInfo {
    std::string hypervisor;
    std::string auto_domain_type;
    std::string hostname;
    uint64_t library_version = 0;
    uint64_t hypervisor_version = 0;  // 0: unknown (a 1.0 backend never says)
};

// A snapshot as the backend reports it (ABI 1.4 snapshot_list_info; a 1.0-1.3 backend gives
// names only, the other fields then stay at their "unknown" values).
struct SnapshotInfo {
    std::string name;
    std::string description;
    std::string parent;  // empty: none
    int64_t created_at = 0;  // Unix seconds; 0: unknown
    DomainState state = DomainState::NoState;  // the state it captured
    bool has_memory = false;
    bool is_current = false;
    std::optional<uint64_t> size_bytes;
};

struct BackupSpec {
    std::string target_path;
    std::string checkpoint;
    std::string incremental_from;  // empty: full
    std::string backing_name;      // incremental: the parent file's name, relative to target's directory
};

struct BackupOutcome {
    uint64_t bytes = 0;
    bool offline = false;
};

class BackendConnection;

// A loaded backend plugin. Shared; keeps its library loaded.
class BackendPlugin : public std::enable_shared_from_this<BackendPlugin> {
public:
    explicit BackendPlugin(std::shared_ptr<LoadedPlugin> plugin);
    const PluginInfo& info() const noexcept { return plugin_->info(); }
    const pdk_backend_vtable& vtable() const noexcept { return vtable_; }
    // Whether the vtable entry `operation` (e.g. "backup_create") is non-NULL.
    bool supports(const char* operation) const;
    // Whether the backend keeps Paddock's metadata itself (get_metadata and set_metadata); if
    // not, the host keeps it (BackendConnection::keepMetadataIn).
    bool keepsMetadata() const { return supports("get_metadata") && supports("set_metadata"); }
    // OK when it is; else the Unsupported error calling it would give (for checks made before
    // work is queued).
    Status requireOperation(const char* operation) const;

    // Opens a connection. Thread-safe.
    Result<std::shared_ptr<BackendConnection>> connect(const std::string& uri);

private:
    std::shared_ptr<LoadedPlugin> plugin_;
    pdk_backend_vtable vtable_{};  // zero beyond the plugin's struct_size
};

// The names of the non-NULL operations of a vtable, e.g. "define_domain", "snapshot_create".
std::vector<std::string> backendOperations(const pdk_backend_vtable& vtable);

// One open connection. Thread-safe as far as the plugin is (pdk_backend.h). Closes on destruction.
class BackendConnection {
public:
    using EventSink = std::function<void(const std::string& name, pdk_lifecycle_event event)>;

    BackendConnection(std::shared_ptr<BackendPlugin> plugin, pdk_backend_connection* handle, std::string uri);
    ~BackendConnection();
    BackendConnection(const BackendConnection&) = delete;
    BackendConnection& operator=(const BackendConnection&) = delete;

    const std::string& uri() const noexcept { return uri_; }
    const BackendPlugin& plugin() const noexcept { return *plugin_; }
    bool supports(const char* operation) const;

    // For a backend without get_metadata/set_metadata: Paddock keeps the domains' metadata in
    // `store` instead (keyed by UUID). defineDomain then hands the backend no metadata and
    // records it in the store (undefining the domain again when that fails), get/setMetadata,
    // getDomain and listDomains(true) read and write the store, undefineDomain drops the
    // entry. Ignored for a backend that has both entries. Call before the connection is shared.
    void keepMetadataIn(std::shared_ptr<MetadataStore> store);

    bool isAlive();
    Result<HostInfo> hostInfo();
    // One bulk call; metadata only when asked (it may cost a round trip per domain).
    Result<std::vector<DomainInfo>> listDomains(bool withMetadata = false);
    Result<DomainInfo> getDomain(const std::string& name);
    Status defineDomain(const DomainSpec& spec);
    Status startDomain(const std::string& name);
    Status shutdownDomain(const std::string& name);
    Status destroyDomain(const std::string& name);
    Status undefineDomain(const std::string& name, bool removeStorage);
    Result<Metadata> getMetadata(const std::string& name);
    Status setMetadata(const std::string& name, const Metadata& metadata, bool live);
    Result<std::string> createOverlay(const OverlaySpec& spec);
    // The path createOverlay will give volume `name` in `pool`, before it exists (ABI 1.2).
    // AlreadyExists when the pool holds that volume; Unsupported when the backend or the pool
    // cannot tell in advance.
    Result<std::string> volumePath(const std::string& pool, const std::string& name);
    Status deleteVolume(const std::string& path);
    // A description needs ABI 1.4 snapshot_create_spec; without one, snapshot_create serves.
    Status snapshotCreate(const std::string& domain, const std::string& snapshot, uint32_t flags,
                          const std::string& description = {});
    Result<std::vector<std::string>> snapshotList(const std::string& domain);
    // With facts where the backend has snapshot_list_info (ABI 1.4), else names only.
    Result<std::vector<SnapshotInfo>> snapshotInfos(const std::string& domain);
    // `start`: nullopt restores the power state the snapshot recorded; true/false overrides it.
    Status snapshotRevert(const std::string& domain, const std::string& snapshot, std::optional<bool> start);
    Status snapshotDelete(const std::string& domain, const std::string& snapshot);
    // ABI 1.4. NotFound when spec.incremental_from names no checkpoint of the domain.
    Result<BackupOutcome> backupCreate(const std::string& domain, const BackupSpec& spec);
    Status checkpointDelete(const std::string& domain, const std::string& checkpoint);
    // A new self-contained volume from a backup file and its chain; returns its path.
    Result<std::string> restoreVolume(const std::string& pool, const std::string& name, const std::string& source);
    Status saveDomain(const std::string& name);
    // Pause running domain `name` (ABI 1.8 suspend_domain): its memory stays on the host, its
    // vCPUs stop; startDomain resumes it. A paused domain stays paused (ok). NotFound: no such
    // domain; Conflict: not running; Unsupported: a backend without suspend_domain.
    Status suspendDomain(const std::string& name);
    // Whether the guest agent in running domain `domain` answers within `timeout` (ABI 1.5
    // guest_ping; a backend rounds up to its own unit, e.g. whole seconds). NotFound: no such
    // domain; Conflict: not running; Unsupported: no agent channel, or a backend without
    // guest_ping (older than 1.5, or NULL); Unavailable: the agent did not answer in time or is
    // not connected. Blocks while it waits (about `timeout`: guest_ping in pdk_backend.h). A
    // negative timeout counts as 0, one beyond UINT32_MAX ms as UINT32_MAX ms.
    Status guestPing(const std::string& domain, std::chrono::milliseconds timeout);
    Result<std::pair<std::string, uint16_t>> sshTarget(const std::string& name);
    // The host's CPUs and total/free memory (ABI 1.7 host_resources; Unsupported for a backend
    // without it). A hypervisor round trip or two: call off the request path (Site does).
    Result<HostResources> hostResources();
    // Whether `path` is on the host, as a storage volume or (local connections) a file (ABI 1.7
    // volume_info). NotFound with the backend's reason when it is not; Unsupported for a
    // backend without volume_info.
    Result<VolumeInfo> volumeInfo(const std::string& path);
    // The sink runs on the backend's event thread (see pdk_event_sink); it must not block.
    Status subscribeEvents(EventSink sink);

private:
    std::shared_ptr<BackendPlugin> plugin_;
    pdk_backend_connection* handle_;
    std::string uri_;
    std::unique_ptr<EventSink> eventSink_;
    std::shared_ptr<MetadataStore> metadataStore_;  // set: the backend keeps no metadata
};

}  // namespace paddock
