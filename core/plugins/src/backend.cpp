#include "paddock/core/backend.hpp"

#include <algorithm>
#include <cstring>
#include <set>

namespace paddock {

namespace {

// Reads the plugin's domain info by the host's rules: a copy of what its struct_size covers.
DomainInfo toDomainInfo(const pdk_domain_info* theirs) {
    const auto in = copyPluginStruct<pdk_domain_info>(theirs);
    DomainInfo out;
    out.name = in.name != nullptr ? in.name : "";
    out.uuid = in.uuid != nullptr ? in.uuid : "";
    out.id = in.id;
    out.state = static_cast<DomainState>(in.state);
    out.max_memory_kib = in.max_memory_kib;
    out.memory_kib = in.memory_kib;
    out.vcpus = in.vcpus;
    out.cpu_time_ns = in.cpu_time_ns;
    out.has_managed_save = in.has_managed_save != 0;
    if (in.metadata != nullptr) {
        for (size_t i = 0; i < in.metadata_count; ++i) {
            if (in.metadata[i].key != nullptr)
                out.metadata[in.metadata[i].key] = in.metadata[i].value ? in.metadata[i].value : "";
        }
    }
    return out;
}

void collectDomain(void* user, const pdk_domain_info* info) {
    if (info != nullptr) static_cast<std::vector<DomainInfo>*>(user)->push_back(toDomainInfo(info));
}

void collectName(void* user, const char* name) {
    if (name != nullptr) static_cast<std::vector<std::string>*>(user)->emplace_back(name);
}

void collectSnapshot(void* user, const pdk_snapshot_info* theirs) {
    if (theirs == nullptr) return;
    const auto in = copyPluginStruct<pdk_snapshot_info>(theirs);
    if (in.name == nullptr) return;
    SnapshotInfo out;
    out.name = in.name;
    out.description = in.description != nullptr ? in.description : "";
    out.parent = in.parent != nullptr ? in.parent : "";
    out.created_at = in.created_at;
    out.state = static_cast<DomainState>(in.state);
    out.has_memory = in.has_memory != 0;
    out.is_current = in.is_current != 0;
    if (in.size_bytes >= 0) out.size_bytes = static_cast<uint64_t>(in.size_bytes);
    static_cast<std::vector<SnapshotInfo>*>(user)->push_back(std::move(out));
}

void collectPair(void* user, const char* key, const char* value) {
    if (key != nullptr) (*static_cast<Metadata*>(user))[key] = value != nullptr ? value : "";
}

void forwardEvent(void* user, const char* name, pdk_lifecycle_event event) {
    const auto* sink = static_cast<const BackendConnection::EventSink*>(user);
    try {
        (*sink)(name != nullptr ? name : "", event);
    } catch (...) {
        // An exception must not unwind into the plugin's event thread.
    }
}

// The entry names, in vtable order, used both for "unsupported" messages and capability lists.
struct OperationEntry {
    const char* name;
    bool (*present)(const pdk_backend_vtable&);
};

#define PDK_OP(field)                                                          \
    OperationEntry {                                                           \
#field, [](const pdk_backend_vtable& v) { return v.field != nullptr; } \
    }
constexpr OperationEntry kOperations[] = {
    PDK_OP(is_alive),          PDK_OP(host_info),          PDK_OP(list_domains),         PDK_OP(get_domain),
    PDK_OP(define_domain),     PDK_OP(start_domain),       PDK_OP(shutdown_domain),      PDK_OP(destroy_domain),
    PDK_OP(undefine_domain),   PDK_OP(get_metadata),       PDK_OP(set_metadata),         PDK_OP(create_overlay),
    PDK_OP(delete_volume),     PDK_OP(snapshot_create),    PDK_OP(snapshot_list),        PDK_OP(snapshot_revert),
    PDK_OP(snapshot_delete),   PDK_OP(save_domain),        PDK_OP(ssh_target),           PDK_OP(subscribe_events),
    PDK_OP(volume_path),       PDK_OP(snapshot_list_info), PDK_OP(snapshot_create_spec), PDK_OP(backup_create),
    PDK_OP(checkpoint_delete), PDK_OP(restore_volume),     PDK_OP(guest_ping),           PDK_OP(host_resources),
    PDK_OP(volume_info),       PDK_OP(suspend_domain),
};
#undef PDK_OP

}  // namespace

bool domainIsActive(DomainState s) noexcept {
    return s == DomainState::Running || s == DomainState::Blocked || s == DomainState::Paused ||
           s == DomainState::Shutdown || s == DomainState::PmSuspended;
}

std::vector<std::string> backendOperations(const pdk_backend_vtable& vtable) {
    std::vector<std::string> out;
    for (const auto& op : kOperations) {
        if (op.present(vtable)) out.emplace_back(op.name);
    }
    return out;
}

BackendPlugin::BackendPlugin(std::shared_ptr<LoadedPlugin> plugin) : plugin_(std::move(plugin)) {
    vtable_ = copyPluginStruct<pdk_backend_vtable>(plugin_->descriptor().vtable);
}

Result<std::shared_ptr<BackendConnection>> BackendPlugin::connect(const std::string& uri) {
    pdk_backend_connection* handle = nullptr;
    if (Status st = callPlugin(vtable_.open, "open", "backend", info().id, uri.c_str(), 0u, &handle); !st) {
        Error e = std::move(st).error();
        e.message = "cannot connect to " + uri + " with backend " + info().id + ": " + e.message;
        return e;
    }
    if (handle == nullptr) return makeError(ErrorCode::Internal, "backend " + info().id + " returned no connection");
    return std::make_shared<BackendConnection>(shared_from_this(), handle, uri);
}

BackendConnection::BackendConnection(std::shared_ptr<BackendPlugin> plugin, pdk_backend_connection* handle,
                                     std::string uri)
    : plugin_(std::move(plugin)), handle_(handle), uri_(std::move(uri)) {}

BackendConnection::~BackendConnection() {
    const auto& v = plugin_->vtable();
    if (eventSink_ && v.subscribe_events != nullptr) {
        pdk_error err = emptyPdkError();
        (void)v.subscribe_events(handle_, nullptr, nullptr, 0, &err);
    }
    v.close(handle_);
}

bool BackendPlugin::supports(const char* operation) const {
    for (const auto& op : kOperations) {
        if (std::strcmp(op.name, operation) == 0) return op.present(vtable_);
    }
    return false;
}

Status BackendPlugin::requireOperation(const char* operation) const {
    if (supports(operation)) return {};
    return unsupportedOperation(operation, "backend", info().id);
}

bool BackendConnection::supports(const char* operation) const { return plugin_->supports(operation); }

// Calls a vtable entry on this connection and returns from the caller on failure (callPlugin:
// NULL entries answer Unsupported).
#define PDK_CALL(field, ...)                                                                                      \
    do {                                                                                                          \
        if (Status st =                                                                                           \
                callPlugin(plugin_->vtable().field, #field, "backend", plugin_->info().id, handle_, __VA_ARGS__); \
            !st)                                                                                                  \
            return std::move(st).error();                                                                         \
    } while (0)

bool BackendConnection::isAlive() {
    const auto fn = plugin_->vtable().is_alive;
    return fn == nullptr || fn(handle_) != 0;
}

Result<HostInfo> BackendConnection::hostInfo() {
    pdk_host_info out{};
    out.struct_size = sizeof out;
    PDK_CALL(host_info, 0, &out);
    HostInfo info{out.hypervisor, out.auto_domain_type, out.hostname, out.library_version};
    // A 1.0 backend leaves the field zero; one that wrongly wrote its own, shorter struct_size
    // back says the field is not there.
    if (PDK_STRUCT_HAS(&out, pdk_host_info, hypervisor_version)) info.hypervisor_version = out.hypervisor_version;
    return info;
}

void BackendConnection::keepMetadataIn(std::shared_ptr<MetadataStore> store) {
    if (!plugin_->keepsMetadata()) metadataStore_ = std::move(store);
}

Result<std::vector<DomainInfo>> BackendConnection::listDomains(bool withMetadata) {
    std::vector<DomainInfo> out;
    PDK_CALL(list_domains, withMetadata && !metadataStore_ ? PDK_LIST_WITH_METADATA : 0u, &collectDomain, &out);
    if (metadataStore_ && withMetadata) {
        std::set<std::string> present;
        for (auto& d : out) {
            d.metadata = metadataStore_->get(d.uuid);
            present.insert(d.uuid);
        }
        // A full listing: entries of domains removed behind Paddock's back can go. A failed
        // write only delays that; the listing stands.
        (void)metadataStore_->retainOnly(present);
    }
    return out;
}

Result<DomainInfo> BackendConnection::getDomain(const std::string& name) {
    std::vector<DomainInfo> out;
    PDK_CALL(get_domain, name.c_str(), 0, &collectDomain, &out);
    if (out.size() != 1) return makeError(ErrorCode::Internal, "backend returned no domain for " + name);
    if (metadataStore_) out.front().metadata = metadataStore_->get(out.front().uuid);
    return std::move(out.front());
}

Status BackendConnection::defineDomain(const DomainSpec& spec) {
    std::vector<pdk_kv> pairs;
    pairs.reserve(spec.metadata.size());
    for (const auto& [k, v] : spec.metadata) pairs.push_back({k.c_str(), v.c_str()});
    const auto cstr = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
    pdk_domain_spec c{};
    c.struct_size = sizeof c;
    c.name = spec.name.c_str();
    c.vcpus = spec.vcpus;
    c.memory_mib = spec.memory_mib;
    c.domain_type = cstr(spec.domain_type);
    c.disk_path = cstr(spec.disk_path);
    c.disk_format = cstr(spec.disk_format);
    c.kernel_path = cstr(spec.kernel_path);
    c.initrd_path = cstr(spec.initrd_path);
    c.kernel_cmdline = cstr(spec.kernel_cmdline);
    c.network_mode = spec.network_mode;
    c.network_name = cstr(spec.network_name);
    c.ssh_forward_port = spec.ssh_forward_port;
    c.metadata = metadataStore_ ? nullptr : pairs.data();
    c.metadata_count = metadataStore_ ? 0 : pairs.size();
    c.ssh_forward_address = cstr(spec.ssh_forward_address);
    // A 1.0-1.6 backend never reads the address and would bind 127.0.0.1, out of reach of a
    // paddockd on another machine: refuse rather than make a VM nobody can log into.
    if (c.ssh_forward_address != nullptr && spec.ssh_forward_address != "127.0.0.1" &&
        spec.network_mode == PDK_NETWORK_USER && spec.ssh_forward_port != 0 &&
        (plugin_->info().abi_major == 1 && plugin_->info().abi_minor < 7))
        return makeError(ErrorCode::Unsupported,
                         "ssh_forward_address " + spec.ssh_forward_address + ": backend " + plugin_->info().id +
                             " (ABI " + std::to_string(plugin_->info().abi_major) + "." +
                             std::to_string(plugin_->info().abi_minor) +
                             ") binds SSH forwards to 127.0.0.1 only; it needs ABI 1.7");
    PDK_CALL(define_domain, &c, 0);
    if (metadataStore_) {
        auto defined = getDomain(spec.name);
        Status kept = defined ? metadataStore_->put(defined->uuid, spec.metadata) : Status(std::move(defined).error());
        if (!kept) {
            // Without its metadata the domain would be a stranger Paddock made: take it back.
            (void)undefineDomain(spec.name, false);
            return kept;
        }
    }
    return {};
}

Status BackendConnection::startDomain(const std::string& name) {
    PDK_CALL(start_domain, name.c_str(), 0);
    return {};
}

Status BackendConnection::shutdownDomain(const std::string& name) {
    PDK_CALL(shutdown_domain, name.c_str(), 0);
    return {};
}

Status BackendConnection::destroyDomain(const std::string& name) {
    PDK_CALL(destroy_domain, name.c_str(), 0);
    return {};
}

Status BackendConnection::undefineDomain(const std::string& name, bool removeStorage) {
    std::string uuid;
    if (metadataStore_) {
        auto found = getDomain(name);
        if (!found) return std::move(found).error();
        uuid = found->uuid;
    }
    PDK_CALL(undefine_domain, name.c_str(), removeStorage ? PDK_UNDEFINE_REMOVE_STORAGE : 0u);
    // The domain is gone either way; a stale entry goes with the next full listing.
    if (metadataStore_) (void)metadataStore_->erase(uuid);
    return {};
}

Result<Metadata> BackendConnection::getMetadata(const std::string& name) {
    if (metadataStore_) {
        auto found = getDomain(name);
        if (!found) return std::move(found).error();
        return std::move(found->metadata);
    }
    Metadata out;
    PDK_CALL(get_metadata, name.c_str(), 0, &collectPair, &out);
    return out;
}

Status BackendConnection::setMetadata(const std::string& name, const Metadata& metadata, bool live) {
    if (metadataStore_) {
        auto found = getDomain(name);
        if (!found) return std::move(found).error();
        return metadataStore_->put(found->uuid, metadata);
    }
    std::vector<pdk_kv> pairs;
    for (const auto& [k, v] : metadata) pairs.push_back({k.c_str(), v.c_str()});
    PDK_CALL(set_metadata, name.c_str(), pairs.data(), pairs.size(), live ? PDK_METADATA_LIVE : 0u);
    return {};
}

Result<std::string> BackendConnection::createOverlay(const OverlaySpec& spec) {
    pdk_volume_spec c{};
    c.struct_size = sizeof c;
    c.pool = spec.pool.c_str();
    c.name = spec.name.c_str();
    c.backing_path = spec.backing_path.c_str();
    c.backing_format = spec.backing_format.c_str();
    c.capacity_bytes = spec.capacity_bytes;
    char path[4096] = {0};
    PDK_CALL(create_overlay, &c, 0, path, sizeof path);
    return std::string(path);
}

Result<std::string> BackendConnection::volumePath(const std::string& pool, const std::string& name) {
    char path[4096] = {0};
    PDK_CALL(volume_path, pool.c_str(), name.c_str(), 0, path, sizeof path);
    return std::string(path);
}

Status BackendConnection::deleteVolume(const std::string& path) {
    PDK_CALL(delete_volume, path.c_str(), 0);
    return {};
}

Status BackendConnection::snapshotCreate(const std::string& domain, const std::string& snapshot, uint32_t flags,
                                         const std::string& description) {
    if (description.empty() && plugin_->vtable().snapshot_create_spec == nullptr) {
        PDK_CALL(snapshot_create, domain.c_str(), snapshot.c_str(), flags);
        return {};
    }
    pdk_snapshot_spec spec{};
    spec.struct_size = sizeof spec;
    spec.name = snapshot.c_str();
    spec.description = description.c_str();
    PDK_CALL(snapshot_create_spec, domain.c_str(), &spec, flags);
    return {};
}

Result<std::vector<SnapshotInfo>> BackendConnection::snapshotInfos(const std::string& domain) {
    std::vector<SnapshotInfo> out;
    if (plugin_->vtable().snapshot_list_info != nullptr) {
        PDK_CALL(snapshot_list_info, domain.c_str(), 0, &collectSnapshot, &out);
        return out;
    }
    auto names = snapshotList(domain);
    if (!names) return std::move(names).error();
    for (auto& n : names.value()) {
        SnapshotInfo info;
        info.name = std::move(n);
        out.push_back(std::move(info));
    }
    return out;
}

Result<std::vector<std::string>> BackendConnection::snapshotList(const std::string& domain) {
    std::vector<std::string> out;
    PDK_CALL(snapshot_list, domain.c_str(), 0, &collectName, &out);
    return out;
}

Status BackendConnection::snapshotRevert(const std::string& domain, const std::string& snapshot,
                                         std::optional<bool> start) {
    const uint32_t flags = !start ? 0u : *start ? PDK_REVERT_START : PDK_REVERT_STOPPED;
    PDK_CALL(snapshot_revert, domain.c_str(), snapshot.c_str(), flags);
    return {};
}

Status BackendConnection::snapshotDelete(const std::string& domain, const std::string& snapshot) {
    PDK_CALL(snapshot_delete, domain.c_str(), snapshot.c_str(), 0);
    return {};
}

Result<BackupOutcome> BackendConnection::backupCreate(const std::string& domain, const BackupSpec& spec) {
    pdk_backup_spec c{};
    c.struct_size = sizeof c;
    c.target_path = spec.target_path.c_str();
    c.checkpoint = spec.checkpoint.c_str();
    c.incremental_from = spec.incremental_from.empty() ? nullptr : spec.incremental_from.c_str();
    c.backing_name = spec.backing_name.empty() ? nullptr : spec.backing_name.c_str();
    pdk_backup_result out{};
    out.struct_size = sizeof out;
    PDK_CALL(backup_create, domain.c_str(), &c, 0, &out);
    return BackupOutcome{out.bytes, out.offline != 0};
}

Status BackendConnection::checkpointDelete(const std::string& domain, const std::string& checkpoint) {
    PDK_CALL(checkpoint_delete, domain.c_str(), checkpoint.c_str(), 0);
    return {};
}

Result<std::string> BackendConnection::restoreVolume(const std::string& pool, const std::string& name,
                                                     const std::string& source) {
    pdk_restore_spec c{};
    c.struct_size = sizeof c;
    c.pool = pool.c_str();
    c.name = name.c_str();
    c.source_path = source.c_str();
    char path[4096] = {0};
    PDK_CALL(restore_volume, &c, 0, path, sizeof path);
    return std::string(path);
}

Status BackendConnection::saveDomain(const std::string& name) {
    PDK_CALL(save_domain, name.c_str(), 0);
    return {};
}

Status BackendConnection::suspendDomain(const std::string& name) {
    PDK_CALL(suspend_domain, name.c_str(), 0);
    return {};
}

Status BackendConnection::guestPing(const std::string& domain, std::chrono::milliseconds timeout) {
    const auto ms = std::clamp<std::chrono::milliseconds::rep>(timeout.count(), 0, UINT32_MAX);
    PDK_CALL(guest_ping, domain.c_str(), static_cast<uint32_t>(ms), 0);
    return {};
}

Result<std::pair<std::string, uint16_t>> BackendConnection::sshTarget(const std::string& name) {
    pdk_ssh_target out{};
    out.struct_size = sizeof out;
    PDK_CALL(ssh_target, name.c_str(), 0, &out);
    return std::make_pair(std::string(out.host), out.port);
}

Result<HostResources> BackendConnection::hostResources() {
    pdk_host_resources out{};
    out.struct_size = sizeof out;
    PDK_CALL(host_resources, 0, &out);
    return HostResources{out.cpus, out.memory_total_bytes, out.memory_free_bytes};
}

Result<VolumeInfo> BackendConnection::volumeInfo(const std::string& path) {
    pdk_volume_info out{};
    out.struct_size = sizeof out;
    PDK_CALL(volume_info, path.c_str(), 0, &out);
    // The plugin wrote fixed-size buffers: never read past them, terminated or not.
    const auto text = [](const char* s, size_t n) { return std::string(s, strnlen(s, n)); };
    VolumeInfo info;
    info.in_pool = out.in_pool != 0;
    info.pool = info.in_pool ? text(out.pool, sizeof out.pool) : std::string();
    info.capacity_bytes = out.capacity_bytes;
    info.format = text(out.format, sizeof out.format);
    return info;
}

Status BackendConnection::subscribeEvents(EventSink sink) {
    // The plugin keeps a raw pointer to the sink; replace it only after the plugin switched.
    auto next = sink ? std::make_unique<EventSink>(std::move(sink)) : nullptr;
    PDK_CALL(subscribe_events, next ? &forwardEvent : nullptr, next.get(), 0);
    eventSink_ = std::move(next);
    return {};
}

#undef PDK_CALL

}  // namespace paddock
