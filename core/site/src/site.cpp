#include "paddock/core/site.hpp"

#include "paddock/core/names.hpp"
#include "paddock/core/polled_events.hpp"
#include "paddock/core/vm_metadata.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <set>
#include <unordered_set>

namespace paddock {

namespace {

// Counters (cpu_time, balloon) change by themselves; state changes arrive as events at once.
constexpr auto kCacheRefreshInterval = std::chrono::seconds(1);

struct LifecycleName {
    const char* event;
    int state_code;  // the domain state after the event, -1 when it says nothing about it
};

LifecycleName lifecycleName(pdk_lifecycle_event event) {
    static const std::map<pdk_lifecycle_event, LifecycleName> kNames = {
        {PDK_EVENT_DEFINED, {"defined", -1}},  {PDK_EVENT_UNDEFINED, {"undefined", -1}},
        {PDK_EVENT_STARTED, {"started", 1}},   {PDK_EVENT_SUSPENDED, {"suspended", 3}},
        {PDK_EVENT_RESUMED, {"resumed", 1}},   {PDK_EVENT_STOPPED, {"stopped", 5}},
        {PDK_EVENT_SHUTDOWN, {"shutdown", 4}}, {PDK_EVENT_PMSUSPENDED, {"pmsuspended", 7}},
        {PDK_EVENT_CRASHED, {"crashed", 6}},   {PDK_EVENT_CONNECTION_LOST, {"connection_lost", -1}}};
    const auto it = kNames.find(event);
    return it != kNames.end() ? it->second : LifecycleName{"unknown", -1};
}

}  // namespace

Site::Site(SiteConfig config, std::shared_ptr<BackendPlugin> backend, std::shared_ptr<EventHub> events,
           SshIdentity identity, CoreMetrics& metrics)
    : config_(std::move(config)),
      events_(std::move(events)),
      identity_(std::move(identity)),
      metrics_(metrics),
      ports_(config_.ssh_port_min, config_.ssh_port_max),
      link_(config_.name, std::move(backend), connectionUri(config_)),
      cache_(kCacheRefreshInterval),
      readiness_(
          config_.name, [this](const std::string& vm) { return sshEndpoint(vm); }, events_,
          std::chrono::seconds(config_.ready_timeout_s)) {}

Site::~Site() {
    link_.stop();
    cache_.stop();
}

Status Site::connect() {
    beginConnect();
    return awaitConnect(std::chrono::steady_clock::now() + kFirstConnectWait);
}

Status Site::awaitConnect(std::chrono::steady_clock::time_point deadline) {
    return link_.awaitFirstAttempt(deadline);
}

void Site::beginConnect() {
    cache_.start(
        [this]() {
            {
                std::lock_guard lock(metadataMutex_);
                listedFrom_ = metadataGeneration_;
            }
            return link_.connection().and_then([](auto conn) { return conn->listDomains(); });
        },
                 [this](const std::string& name) {
                     return link_.connection().and_then([&](auto conn) { return conn->getDomain(name); });
                 },
                 [this](const std::vector<DomainInfo>& domains) { onListed(domains); });
    link_.start([this](const std::string& vm, pdk_lifecycle_event e) { onLifecycle(vm, e); },
                [this] { onConnected(); });
}

bool Site::reachable() {
    auto conn = link_.connection();
    return conn && conn.value()->isAlive();
}

void Site::publishConnectionState() { metrics_.setSiteConnected(config_.name, reachable()); }

SiteStatus Site::status() {
    SiteStatus status{config_.name, config_.backend, config_.uri, false, {}, {}, false};
    auto conn = link_.connection();
    if (!conn) {
        status.error = conn.error().message;
        return status;
    }
    status.reachable = conn.value()->isAlive();
    if (!status.reachable) {
        status.error = "the connection to " + config_.uri + " is not alive; reconnecting";
        return status;
    }
    status.pushes_events = link_.pushesEvents();
    std::lock_guard lock(hostMutex_);
    status.host = host_;
    return status;
}

void Site::onConnected() {
    // A backend without events is polled: its listings become the events (onListed), at the
    // site's poll interval; evented backends are re-listed every second for the counters.
    const bool pushes = link_.pushesEvents();
    {
        std::lock_guard lock(pollMutex_);
        polledStates_.reset();
    }
    cache_.setInterval(pushes ? kCacheRefreshInterval
                              : std::chrono::milliseconds(config_.poll_interval_ms));
    cache_.invalidate();
    // After a (re)start of paddockd or libvirtd: whatever runs gets its readiness re-checked.
    auto conn = link_.connection();
    if (!conn) return;
    {
        // Read once per connection, here on the link's thread: status() must not wait on a host
        // that stopped answering (the sites listing shows every site). A backend without
        // host_info is still reachable; it just tells nothing about the host.
        auto host = conn.value()->hostInfo();
        std::lock_guard lock(hostMutex_);
        host_ = host ? std::move(host.value()) : HostInfo{};
    }
    refreshHostFacts(*conn.value(), true);
    auto domains = conn.value()->listDomains();
    if (!domains) return;
    for (const auto& d : domains.value()) {
        if (d.state == DomainState::Running && probesSsh() && readiness_.get(d.name).state != Readiness::Ready &&
            managedCached(*conn.value(), d))
            readiness_.begin(d.name);
    }
    VmEvent e;
    e.site = config_.name;
    e.kind = "connection";
    e.event = "connected";
    events_->publish(std::move(e));
}

void Site::onLifecycle(const std::string& vm, pdk_lifecycle_event event) {
    const LifecycleName name = lifecycleName(event);
    VmEvent e;
    e.site = config_.name;
    e.vm = vm;
    e.kind = event == PDK_EVENT_CONNECTION_LOST ? "connection" : "lifecycle";
    e.event = name.event;
    e.state_code = name.state_code;

    if (event == PDK_EVENT_CONNECTION_LOST) {
        cache_.invalidate();
    } else {
        cache_.touch(vm);
    }
    // Readiness follows the hypervisor even for changes made behind Paddock's back.
    switch (event) {
        case PDK_EVENT_STARTED:
        case PDK_EVENT_RESUMED: {
            // Foreign domains are never probed: Paddock's key is not theirs to see. A domain
            // unknown to the metadata cache is probed; the probe itself refuses foreign ones.
            const Readiness r = readiness_.get(vm).state;
            if (probesSsh() && r != Readiness::Booting && r != Readiness::Ready && !knownForeign(vm))
                readiness_.begin(vm);
            break;
        }
        case PDK_EVENT_STOPPED:
        case PDK_EVENT_CRASHED:
        case PDK_EVENT_SUSPENDED:
        case PDK_EVENT_PMSUSPENDED: readiness_.cancel(vm, Readiness::Stopped); break;
        case PDK_EVENT_UNDEFINED: readiness_.cancel(vm, Readiness::Unknown); break;
        default: break;
    }
    e.readiness = std::string(readinessName(readiness_.get(vm).state));
    events_->publish(std::move(e));
}

Result<std::vector<DomainInfo>> Site::domains() {
    auto conn = link_.connection();
    if (!conn) return std::move(conn).error();
    // From the view when it is valid; otherwise (just connected) one live bulk call.
    std::optional<std::vector<DomainInfo>> cached = cache_.snapshot();
    Result<std::vector<DomainInfo>> listed =
        cached ? Result<std::vector<DomainInfo>>(std::move(*cached)) : conn.value()->listDomains();
    if (!listed) return listed;
    for (auto& d : listed.value()) d.metadata = cachedMetadata(*conn.value(), d);
    return listed;
}

std::optional<uint64_t> Site::viewGeneration() const {
    const auto view = cache_.version();
    if (!view) return std::nullopt;
    uint64_t metadata = 0;
    {
        std::lock_guard lock(metadataMutex_);
        metadata = metadataGeneration_;
    }
    // Each part only grows, so the sum changes whenever one of them does.
    return *view + metadata + readiness_.generation();
}

void Site::refresh(BackendConnection& conn, const std::string& name) {
    auto info = conn.getDomain(name);
    if (info) {
        cache_.put(std::move(info.value()));
    } else if (info.error().code == ErrorCode::NotFound) {
        cache_.erase(name);
    } else {
        cache_.touch(name);
    }
}

void Site::remember(const DomainInfo& info, const Metadata& metadata) {
    {
        std::lock_guard lock(metadataMutex_);
        storeMetadataLocked(info.uuid, metadata);
        setLoadLocked(info, metadata);
    }
    cache_.put(info);
}

void Site::forget(const std::string& name, const std::string& uuid) {
    {
        std::lock_guard lock(metadataMutex_);
        eraseMetadataLocked(uuid);
        dropLoadLocked(name);
    }
    cache_.erase(name);
}

void Site::dropLoadLocked(const std::string& name) {
    const auto it = loadByName_.find(name);
    if (it == loadByName_.end()) return;
    --load_.vm_count;
    load_.committed_memory_mb -= it->second.memory_mb;
    loadByName_.erase(it);
}

void Site::setLoadLocked(const DomainInfo& info, const Metadata& metadata) {
    dropLoadLocked(info.name);
    if (!isManaged(metadata)) return;
    const uint64_t memory = committedMemoryMb(info);
    loadByName_[info.name] = LoadShare{memory, metadataGeneration_};
    ++load_.vm_count;
    load_.committed_memory_mb += memory;
}

void Site::rebuildLoadLocked(const std::vector<DomainInfo>& domains, uint64_t listedFrom) {
    std::unordered_map<std::string, LoadShare> fresh;
    fresh.reserve(domains.size());
    for (const auto& d : domains) {
        const auto it = metadataByUuid_.find(d.uuid);
        if (it == metadataByUuid_.end() || !isManaged(it->second.values)) continue;
        fresh[d.name] = LoadShare{committedMemoryMb(d), 0};
    }
    // Changed by Paddock after the listing began: newer than what the listing saw.
    for (const auto& [name, share] : loadByName_)
        if (share.stored_at > listedFrom) fresh[name] = share;
    loadByName_.swap(fresh);
    load_ = {};
    for (const auto& [name, share] : loadByName_) {
        ++load_.vm_count;
        load_.committed_memory_mb += share.memory_mb;
    }
}

Result<SiteLoad> Site::load() {
    {
        std::lock_guard lock(metadataMutex_);
        if (portsIndexed_) return load_;
    }
    auto listed = domains();
    if (!listed) return std::move(listed).error();
    return siteLoad(listed.value());
}

Result<bool> Site::hasDomain(const std::string& name) {
    auto conn = link_.connection();
    if (!conn) return std::move(conn).error();
    if (cache_.version()) return cache_.find(name).has_value();
    auto info = conn.value()->getDomain(name);
    if (info) return true;
    if (info.error().code == ErrorCode::NotFound) return false;
    return std::move(info).error();
}

namespace {

// Parsed without throwing: this runs on the refresher thread for any domain's metadata.
std::optional<uint16_t> recordedPort(const Metadata& metadata) {
    const std::string port = metaValue(metadata, meta::kSshPort);
    uint16_t value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size()) return std::nullopt;
    return value;
}

}  // namespace

void Site::storeMetadataLocked(const std::string& uuid, Metadata values) {
    eraseMetadataLocked(uuid);
    if (const auto port = recordedPort(values)) ++portsRecorded_[*port];
    metadataByUuid_[uuid] = CachedMetadata{std::move(values), metadataGeneration_};
}

void Site::eraseMetadataLocked(const std::string& uuid) {
    ++metadataGeneration_;
    const auto it = metadataByUuid_.find(uuid);
    if (it == metadataByUuid_.end()) return;
    if (const auto port = recordedPort(it->second.values)) {
        const auto used = portsRecorded_.find(*port);
        if (used != portsRecorded_.end() && --used->second == 0) portsRecorded_.erase(used);
    }
    metadataByUuid_.erase(it);
}

void Site::indexMetadata(BackendConnection& conn, const std::vector<DomainInfo>& domains, uint64_t listedFrom) {
    std::vector<const DomainInfo*> missing;
    std::unordered_set<std::string> listed;
    listed.reserve(domains.size());
    {
        std::lock_guard lock(metadataMutex_);
        for (const auto& d : domains) {
            listed.insert(d.uuid);
            if (!metadataByUuid_.count(d.uuid)) missing.push_back(&d);
        }
    }
    // Outside the lock, one backend call each: only domains new to the cache, normally none.
    for (const DomainInfo* d : missing) (void)cachedMetadata(conn, *d);
    std::lock_guard lock(metadataMutex_);
    // An entry stored after the listing began may be a domain the listing could not see yet.
    std::vector<std::string> gone;
    for (const auto& [uuid, cached] : metadataByUuid_)
        if (cached.stored_at <= listedFrom && !listed.count(uuid)) gone.push_back(uuid);
    for (const auto& uuid : gone) eraseMetadataLocked(uuid);
    rebuildLoadLocked(domains, listedFrom);
    portsIndexed_ = true;
}

Metadata Site::cachedMetadata(BackendConnection& conn, const DomainInfo& info) {
    {
        std::lock_guard lock(metadataMutex_);
        const auto it = metadataByUuid_.find(info.uuid);
        if (it != metadataByUuid_.end()) return it->second.values;
    }
    auto fetched = conn.getMetadata(info.name);
    if (!fetched) return {};  // unreadable now; tried again on the next listing
    std::lock_guard lock(metadataMutex_);
    storeMetadataLocked(info.uuid, fetched.value());
    return std::move(fetched.value());
}

Result<DomainInfo> Site::managedDomain(BackendConnection& conn, const std::string& vm) {
    auto info = conn.getDomain(vm);
    // One wording for "no such VM" and "not one of Paddock's": the same to every client (and the
    // earlier VM manager's, whose clients show it).
    const bool missing = !info && info.error().code == ErrorCode::NotFound;
    if (missing || (info && !isManaged(info->metadata)))
        return makeError(ErrorCode::NotFound, "VM '" + vm + "' not found");
    return info;
}

Result<Metadata> Site::metadata(const std::string& vm) {
    if (auto valid = checkVmName(vm); !valid) return std::move(valid).error();
    auto conn = link_.connection();
    if (!conn) return std::move(conn).error();
    return managedDomain(*conn.value(), vm).map([](DomainInfo info) { return std::move(info.metadata); });
}

Status Site::updateMetadata(const std::string& vm, const Metadata& changes) {
    return withVm<Status>(vm, [&](BackendConnection& c) -> Status {
        return managedDomain(c, vm).and_then([&](DomainInfo info) { return writeMetadata(c, info, changes); });
    });
}

Status Site::writeMetadata(BackendConnection& conn, const DomainInfo& domain, const Metadata& changes) {
    // set_metadata replaces every pair, so read-modify-write under the VM's lock.
    Metadata merged = domain.metadata;
    mergeMetadata(merged, changes);
    if (auto set = conn.setMetadata(domain.name, merged, true); !set) return set;
    std::lock_guard lock(metadataMutex_);
    storeMetadataLocked(domain.uuid, merged);
    setLoadLocked(domain, merged);  // after the store: stamped with the generation it made
    return {};
}

bool Site::knownForeign(const std::string& vm) {
    const auto info = cache_.find(vm);
    if (!info) return false;
    std::lock_guard lock(metadataMutex_);
    const auto it = metadataByUuid_.find(info->uuid);
    return it != metadataByUuid_.end() && !isManaged(it->second.values);
}

bool Site::managedCached(BackendConnection& conn, const DomainInfo& info) {
    return isManaged(cachedMetadata(conn, info));
}

Result<SshEndpoint> Site::sshEndpoint(const std::string& vm) {
    if (identity_.private_key_path.empty()) return makeError(ErrorCode::Unavailable, "Paddock has no SSH key");
    auto conn = link_.connection();
    if (!conn) return std::move(conn).error();
    // Paddock's key goes only to VMs Paddock manages; every connection carrying it checks the
    // host key pinned at the first login, so a VM answering on another VM's address cannot
    // pass for it.
    auto metadata = managedDomain(*conn.value(), vm).map([](DomainInfo info) { return std::move(info.metadata); });
    if (!metadata) return std::move(metadata).error();
    auto target = conn.value()->sshTarget(vm);
    if (!target) return std::move(target).error();
    // A user-mode forward listens on the hypervisor's host, which the backend calls 127.0.0.1;
    // a remote host's forwards are reached at the name the site gives for it. (A guest on a
    // libvirt network has an address of its own.)
    const bool forwarded = config_.network_mode == NetworkMode::User && !config_.guest_ssh_host.empty();
    return SshEndpoint{forwarded ? config_.guest_ssh_host : target->first,
                       target->second,
                       config_.ssh_user,
                       identity_.private_key_path,
                       identity_.public_key_path,
                       metaValue(metadata.value(), meta::kHostKey)};
}

Result<PortReservation> Site::reserveSshPort() {
    bool indexed = false;
    {
        std::lock_guard lock(metadataMutex_);
        indexed = portsIndexed_;
    }
    // Until the refresher has indexed a full listing, one listing caches every domain's metadata
    // (and so its port). After that the index follows every change: no listing per create.
    if (!indexed) {
        if (auto listed = domains(); !listed) return std::move(listed).error();
    }
    auto port = ports_.reserveUnless([this](uint16_t candidate) {
        std::lock_guard lock(metadataMutex_);
        return portsRecorded_.count(candidate) != 0;
    });
    if (!port) return std::move(port).error();
    return PortReservation(ports_, port.value());
}

Result<const TemplateConfig*> Site::resolveTemplate(const std::string& name) const {
    if (const TemplateConfig* found = findTemplate(config_, name)) return found;
    const std::string wanted = name.empty() ? config_.default_template : name;
    if (wanted.empty()) return static_cast<const TemplateConfig*>(nullptr);  // diskless, no template
    std::string known;
    for (const auto& t : config_.templates) known += (known.empty() ? "" : ", ") + t.name;
    return makeError(ErrorCode::InvalidArgument, "unknown template '" + wanted + "' on site " + config_.name +
                                                     " (known: " + (known.empty() ? "none" : known) + ")");
}

Status Site::checkVmName(const std::string& name) const { return validateExistingName(name, "VM name"); }

void Site::onListed(const std::vector<DomainInfo>& domains) {
    publishStateGauge(domains);
    if (auto conn = link_.connection()) {
        indexMetadata(*conn.value(), domains, listedFrom_);
        refreshHostFacts(*conn.value(), false);
    }
    if (!link_.pushesEvents()) publishPolledChanges(domains);
}

void Site::publishPolledChanges(const std::vector<DomainInfo>& domains) {
    std::map<std::string, DomainState> now;
    for (const auto& d : domains) now.emplace(d.name, d.state);
    std::vector<std::pair<std::string, pdk_lifecycle_event>> changes;
    {
        std::lock_guard lock(pollMutex_);
        // The first listing after a (re)connect is the baseline: onConnected has already
        // re-checked what runs, and what changed while disconnected has no reliable order.
        if (polledStates_) changes = eventsBetweenListings(*polledStates_, now);
        polledStates_ = std::move(now);
    }
    for (const auto& [name, event] : changes) onLifecycle(name, event);
}

void Site::publishStateGauge(const std::vector<DomainInfo>& domains) {
    std::array<int, 8> counts{};
    for (const auto& d : domains) {
        const int s = static_cast<int>(d.state);
        if (s >= 0 && s < static_cast<int>(counts.size())) ++counts[s];
    }
    for (int s = 0; s < static_cast<int>(counts.size()); ++s) {
        metrics_.vmsByState()
            .Add({{"site", config_.name}, {"state", std::string(domainStateName(static_cast<DomainState>(s)))}})
            .Set(counts[s]);
    }
}

}  // namespace paddock
