#include "paddock/core/vm_service.hpp"

#include "paddock/core/iso_time.hpp"
#include "paddock/core/names.hpp"

#include <array>
#include <map>
#include <thread>

namespace paddock {

namespace {

constexpr uint32_t kMaxVcpus = 64;
constexpr uint64_t kMinMemoryMb = 64;
constexpr uint64_t kMaxMemoryMb = 262144;
constexpr auto kPollInterval = std::chrono::milliseconds(100);
// Counters (cpu_time, balloon) change by themselves; state changes arrive as events at once.
constexpr auto kCacheRefreshInterval = std::chrono::seconds(1);

std::string valueOr(const Metadata& m, const char* key) {
    const auto it = m.find(key);
    return it == m.end() ? std::string() : it->second;
}

bool isActive(DomainState s) {
    return s == DomainState::Running || s == DomainState::Blocked || s == DomainState::Paused ||
           s == DomainState::Shutdown || s == DomainState::PmSuspended;
}

pdk_network_mode networkMode(const std::string& mode) {
    if (mode == "user") return PDK_NETWORK_USER;
    if (mode == "network") return PDK_NETWORK_LIBVIRT;
    return PDK_NETWORK_NONE;
}

template <class T>
bool isOk(const Result<T>& r) { return r.ok(); }

template <class T>
std::string errorText(const Result<T>& r) { return r.ok() ? std::string() : r.error().message; }

}  // namespace

VmService::VmService(SiteConfig site, std::shared_ptr<BackendPlugin> backend, AuditLog& audit, CoreMetrics& metrics,
                     std::shared_ptr<EventHub> events, SshIdentity identity)
    : site_(std::move(site)),
      audit_(audit),
      metrics_(metrics),
      events_(std::move(events)),
      identity_(std::move(identity)),
      ports_(site_.ssh_port_min, site_.ssh_port_max),
      stopTimeout_(std::chrono::seconds(site_.stop_timeout_s)),
      link_(site_.name, std::move(backend), site_.uri),
      cache_(kCacheRefreshInterval),
      readiness_(site_.name, [this](const std::string& vm) { return sshEndpoint(vm); }, events_,
                 std::chrono::seconds(site_.ready_timeout_s)) {}

VmService::~VmService() {
    link_.stop();
    cache_.stop();
}

Status VmService::connect() {
    cache_.start(
        [this]() -> Result<std::vector<DomainInfo>> {
            auto conn = link_.connection();
            if (!conn) return std::move(conn).error();
            return conn.value()->listDomains();
        },
        [this](const std::string& name) -> Result<DomainInfo> {
            auto conn = link_.connection();
            if (!conn) return std::move(conn).error();
            return conn.value()->getDomain(name);
        },
        [this](const std::vector<DomainInfo>& domains) { publishStateGauge(domains); });
    return link_.start([this](const std::string& vm, pdk_lifecycle_event e) { onLifecycle(vm, e); },
                       [this] { onConnected(); });
}

void VmService::onConnected() {
    cache_.invalidate();
    // After a (re)start of paddockd or libvirtd: whatever runs gets its readiness re-checked.
    auto conn = link_.connection();
    if (!conn) return;
    auto domains = conn.value()->listDomains();
    if (!domains) return;
    for (const auto& d : domains.value()) {
        if (d.state == DomainState::Running && probesSsh() && readiness_.get(d.name).state != Readiness::Ready)
            readiness_.begin(d.name);
    }
    VmEvent e;
    e.site = site_.name;
    e.kind = "connection";
    e.event = "connected";
    events_->publish(std::move(e));
}

void VmService::onLifecycle(const std::string& vm, pdk_lifecycle_event event) {
    static const std::map<pdk_lifecycle_event, std::pair<const char*, int>> kNames = {
        {PDK_EVENT_DEFINED, {"defined", -1}},         {PDK_EVENT_UNDEFINED, {"undefined", -1}},
        {PDK_EVENT_STARTED, {"started", 1}},          {PDK_EVENT_SUSPENDED, {"suspended", 3}},
        {PDK_EVENT_RESUMED, {"resumed", 1}},          {PDK_EVENT_STOPPED, {"stopped", 5}},
        {PDK_EVENT_SHUTDOWN, {"shutdown", 4}},        {PDK_EVENT_PMSUSPENDED, {"pmsuspended", 7}},
        {PDK_EVENT_CRASHED, {"crashed", 6}},          {PDK_EVENT_CONNECTION_LOST, {"connection_lost", -1}}};
    const auto it = kNames.find(event);
    VmEvent e;
    e.site = site_.name;
    e.vm = vm;
    e.kind = event == PDK_EVENT_CONNECTION_LOST ? "connection" : "lifecycle";
    e.event = it != kNames.end() ? it->second.first : "unknown";
    e.state_code = it != kNames.end() ? it->second.second : -1;

    if (event == PDK_EVENT_CONNECTION_LOST) {
        cache_.invalidate();
    } else {
        cache_.touch(vm);
    }
    // Readiness follows the hypervisor even for changes made behind Paddock's back.
    switch (event) {
        case PDK_EVENT_STARTED:
        case PDK_EVENT_RESUMED: {
            const Readiness r = readiness_.get(vm).state;
            if (probesSsh() && r != Readiness::Booting && r != Readiness::Ready) readiness_.begin(vm);
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

Result<SshEndpoint> VmService::sshEndpoint(const std::string& vm) {
    if (identity_.private_key_path.empty()) return makeError(ErrorCode::Unavailable, "Paddock has no SSH key");
    auto conn = link_.connection();
    if (!conn) return std::move(conn).error();
    auto target = conn.value()->sshTarget(vm);
    if (!target) return std::move(target).error();
    return SshEndpoint{target->first, target->second, site_.ssh_user, identity_.private_key_path,
                       identity_.public_key_path};
}

void VmService::refreshCached(BackendConnection& conn, const std::string& name) {
    auto info = conn.getDomain(name);
    if (info) {
        cache_.put(std::move(info.value()));
    } else if (info.error().code == ErrorCode::NotFound) {
        cache_.erase(name);
    } else {
        cache_.touch(name);
    }
}

std::set<uint16_t> VmService::portsInUse(BackendConnection& conn) {
    std::set<uint16_t> used;
    auto domains = conn.listDomains();
    if (!domains) return used;
    for (const auto& d : domains.value()) {
        const std::string port = valueOr(cachedMetadata(conn, d), meta::kSshPort);
        if (!port.empty()) used.insert(static_cast<uint16_t>(std::stoul(port)));
    }
    return used;
}

template <class T>
T VmService::audited(const std::string& actor, const std::string& vm, const std::string& action, T result) {
    audit_.write({actor, site_.name, vm, action, isOk(result) ? "ok" : "error", errorText(result)});
    metrics_.countOperation(site_.name, action, isOk(result));
    return result;
}

std::shared_ptr<std::mutex> VmService::vmLock(const std::string& name) {
    std::lock_guard lock(locksMutex_);
    auto& slot = locks_[name];
    if (!slot) slot = std::make_shared<std::mutex>();
    return slot;
}

Metadata VmService::cachedMetadata(BackendConnection& conn, const DomainInfo& info) {
    {
        std::lock_guard lock(metadataMutex_);
        const auto it = metadataByUuid_.find(info.uuid);
        if (it != metadataByUuid_.end()) return it->second;
    }
    auto fetched = conn.getMetadata(info.name);
    if (!fetched) return {};  // unreadable now; try again on the next listing
    std::lock_guard lock(metadataMutex_);
    return metadataByUuid_[info.uuid] = std::move(fetched.value());
}

void VmService::forgetMetadata(const std::string& uuid) {
    std::lock_guard lock(metadataMutex_);
    metadataByUuid_.erase(uuid);
}

void VmService::publishStateGauge(const std::vector<DomainInfo>& domains) {
    std::array<int, 8> counts{};
    for (const auto& d : domains) {
        const int s = static_cast<int>(d.state);
        if (s >= 0 && s < static_cast<int>(counts.size())) ++counts[s];
    }
    for (int s = 0; s < static_cast<int>(counts.size()); ++s) {
        metrics_.vmsByState()
            .Add({{"site", site_.name}, {"state", std::string(domainStateName(static_cast<DomainState>(s)))}})
            .Set(counts[s]);
    }
}

VmView VmService::toView(DomainInfo info) const {
    VmView v;
    v.site = site_.name;
    v.owner = valueOr(info.metadata, meta::kOwner);
    v.template_name = valueOr(info.metadata, meta::kTemplate);
    v.image = valueOr(info.metadata, meta::kImage);
    v.disk = valueOr(info.metadata, meta::kDisk);
    v.readiness = readiness_.get(info.name);
    if (!isActive(info.state)) v.readiness.state = Readiness::Stopped;
    if (const std::string port = valueOr(info.metadata, meta::kSshPort); !port.empty()) {
        v.ssh_host = "127.0.0.1";
        v.ssh_port = static_cast<uint16_t>(std::stoul(port));
        v.ssh_user = site_.ssh_user;
    }
    v.domain = std::move(info);
    return v;
}

Result<std::vector<VmView>> VmService::list() {
    auto conn = link_.connection();
    if (!conn) return std::move(conn).error();
    // Served from the cache when it is valid; otherwise (just connected) one live bulk call.
    std::optional<std::vector<DomainInfo>> cached = cache_.snapshot();
    Result<std::vector<DomainInfo>> domains = cached ? Result<std::vector<DomainInfo>>(std::move(*cached))
                                                     : conn.value()->listDomains();
    if (!domains) return std::move(domains).error();
    std::vector<VmView> out;
    out.reserve(domains->size());
    for (auto& d : domains.value()) {
        d.metadata = cachedMetadata(*conn.value(), d);
        out.push_back(toView(std::move(d)));
    }
    return out;
}

Result<VmView> VmService::get(const std::string& name) {
    if (auto valid = validateName(name, "VM name"); !valid) return std::move(valid).error();
    auto conn = link_.connection();
    if (!conn) return std::move(conn).error();
    auto info = conn.value()->getDomain(name);
    if (!info) return std::move(info).error();
    VmView view = toView(std::move(info.value()));
    // A libvirt network: the address comes from DHCP leases or the guest agent.
    if (view.ssh_host.empty() && site_.network_mode == "network" && isActive(view.domain.state)) {
        if (auto target = conn.value()->sshTarget(name); target) {
            view.ssh_host = target->first;
            view.ssh_port = target->second;
            view.ssh_user = site_.ssh_user;
        }
    }
    return view;
}

Result<const TemplateConfig*> VmService::resolveTemplate(const std::optional<std::string>& name) const {
    const std::string wanted = name.value_or(site_.default_template);
    if (wanted.empty()) {
        if (site_.templates.empty()) return static_cast<const TemplateConfig*>(nullptr);
        return &site_.templates.front();
    }
    std::string known;
    for (const auto& t : site_.templates) {
        if (t.name == wanted) return &t;
        known += (known.empty() ? "" : ", ") + t.name;
    }
    return makeError(ErrorCode::InvalidArgument, "unknown template '" + wanted + "' on site " + site_.name +
                                                     " (known: " + (known.empty() ? "none" : known) + ")");
}

Result<VmView> VmService::create(const CreateVmRequest& request, const std::string& actor) {
    const auto started = std::chrono::steady_clock::now();
    auto result = [&]() -> Result<VmView> {
        if (auto valid = validateName(request.name, "VM name"); !valid) return std::move(valid).error();
        auto conn = link_.connection();
        if (!conn) return std::move(conn).error();
        const auto lock = vmLock(request.name);
        std::lock_guard guard(*lock);
        return createLocked(request, actor, *conn.value());
    }();
    metrics_.observeOperation("create", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return audited(actor, request.name, "create", std::move(result));
}

Result<VmView> VmService::createLocked(const CreateVmRequest& request, const std::string& actor, BackendConnection& conn) {
    auto tmpl = resolveTemplate(request.template_name);
    if (!tmpl) return std::move(tmpl).error();
    const TemplateConfig* t = tmpl.value();

    const uint32_t vcpus = request.vcpus.value_or(t != nullptr && t->vcpus != 0 ? t->vcpus : site_.default_vcpus);
    const uint64_t memoryMb =
        request.memory_mb.value_or(t != nullptr && t->memory_mb != 0 ? t->memory_mb : site_.default_memory_mb);
    if (vcpus < 1 || vcpus > kMaxVcpus)
        return makeError(ErrorCode::InvalidArgument, "vcpus must be between 1 and " + std::to_string(kMaxVcpus));
    if (memoryMb < kMinMemoryMb || memoryMb > kMaxMemoryMb)
        return makeError(ErrorCode::InvalidArgument, "memory_mb must be between " + std::to_string(kMinMemoryMb) +
                                                         " and " + std::to_string(kMaxMemoryMb));

    if (auto existing = conn.getDomain(request.name); existing) {
        return makeError(ErrorCode::AlreadyExists, "VM '" + request.name + "' already exists");
    } else if (existing.error().code != ErrorCode::NotFound) {
        return std::move(existing).error();
    }

    DomainSpec spec;
    spec.name = request.name;
    spec.vcpus = vcpus;
    spec.memory_mib = memoryMb;
    spec.domain_type = site_.domain_type;
    spec.network_mode = networkMode(site_.network_mode);
    spec.network_name = site_.network_name;
    spec.metadata[meta::kCreatedAt] = isoTime(std::chrono::system_clock::now());
    spec.metadata[meta::kCreatedBy] = actor;
    if (request.owner && !request.owner->empty()) spec.metadata[meta::kOwner] = *request.owner;
    for (const auto& [key, value] : request.metadata) spec.metadata.emplace(key, value);

    // The reservation only bridges the gap until the port is in the domain's metadata.
    struct PortReservation {
        PortAllocator& ports;
        uint16_t port = 0;
        ~PortReservation() { if (port != 0) ports.release(port); }
    } reservation{ports_};
    if (spec.network_mode == PDK_NETWORK_USER) {
        auto port = ports_.reserve(portsInUse(conn));
        if (!port) return std::move(port).error();
        reservation.port = port.value();
        spec.ssh_forward_port = port.value();
        spec.metadata[meta::kSshPort] = std::to_string(port.value());
    }

    if (t != nullptr) {
        spec.metadata[meta::kTemplate] = t->name;
        spec.kernel_path = t->kernel;
        spec.initrd_path = t->initrd;
        spec.kernel_cmdline = t->cmdline;
        // A Paddock guest image installs this key for the SSH user at boot, so one image
        // serves every Paddock installation. It is a public key: nothing secret is exposed.
        if (!spec.kernel_path.empty() && !identity_.public_key.empty()) {
            spec.kernel_cmdline += (spec.kernel_cmdline.empty() ? "" : " ");
            spec.kernel_cmdline += "paddock.authorized_key=" + base64Encode(identity_.public_key);
        }
        if (!t->base_image.empty()) {
            auto disk = conn.createOverlay({site_.storage_pool, request.name + ".qcow2", t->base_image, t->base_format, 0});
            if (!disk) {
                Error e = std::move(disk).error();
                e.message = "cannot create the overlay disk for '" + request.name + "' on " + t->base_image + ": " + e.message;
                return e;
            }
            spec.disk_path = disk.value();
            spec.disk_format = "qcow2";
            spec.metadata[meta::kImage] = t->base_image;
            spec.metadata[meta::kDisk] = spec.disk_path;
        }
    }

    // From here on, a failure undoes what was made: no orphan domain, no orphan overlay.
    const auto rollback = [&](bool defined) {
        if (defined) (void)conn.undefineDomain(spec.name, false);
        if (!spec.disk_path.empty()) (void)conn.deleteVolume(spec.disk_path);
    };
    if (auto defined = conn.defineDomain(spec); !defined) {
        rollback(false);
        return std::move(defined).error();
    }
    if (request.start) {
        if (auto run = conn.startDomain(spec.name); !run) {
            rollback(true);
            Error e = std::move(run).error();
            e.message = "VM '" + spec.name + "' was defined but could not start, so it was removed again: " + e.message;
            return e;
        }
        if (probesSsh()) readiness_.begin(spec.name);
    }
    auto info = conn.getDomain(spec.name);
    if (!info) return std::move(info).error();
    {
        std::lock_guard metaLock(metadataMutex_);
        metadataByUuid_[info->uuid] = spec.metadata;
    }
    cache_.put(info.value());
    return toView(std::move(info.value()));
}

template <class R, class Body>
R VmService::locked(const std::string& name, Body&& body) {
    if (auto valid = validateName(name, "VM name"); !valid) return std::move(valid).error();
    auto conn = link_.connection();
    if (!conn) return std::move(conn).error();
    const auto lock = vmLock(name);
    std::lock_guard guard(*lock);
    return body(*conn.value());
}

Status VmService::start(const std::string& name, const std::string& actor) {
    auto result = locked<Status>(name, [&](BackendConnection& c) -> Status {
        if (auto started = c.startDomain(name); !started) return started;
        if (probesSsh()) readiness_.begin(name);
        refreshCached(c, name);
        return {};
    });
    return audited(actor, name, "start", std::move(result));
}

Status VmService::waitForState(BackendConnection& conn, const std::string& name, DomainState wanted,
                               std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto info = conn.getDomain(name);
        if (!info) return std::move(info).error();
        if (info->state == wanted) return {};
        if (std::chrono::steady_clock::now() >= deadline)
            return makeError(ErrorCode::Timeout, "VM '" + name + "' did not reach state " +
                                                     std::string(domainStateName(wanted)) + " in time");
        std::this_thread::sleep_for(kPollInterval);
    }
}

Result<StopOutcome> VmService::stop(const std::string& name, const std::string& actor) {
    const auto started = std::chrono::steady_clock::now();
    auto result = locked<Result<StopOutcome>>(name, [&](BackendConnection& c) -> Result<StopOutcome> {
        auto info = c.getDomain(name);
        if (!info) return std::move(info).error();
        if (!isActive(info->state)) return StopOutcome::AlreadyStopped;
        readiness_.cancel(name, Readiness::Stopped);
        // A paused guest cannot react to ACPI; only a running one gets the graceful path.
        if (info->state != DomainState::Paused && c.shutdownDomain(name).ok() &&
            waitForState(c, name, DomainState::Shutoff, stopTimeout_).ok()) {
            return StopOutcome::Graceful;
        }
        if (auto forced = c.destroyDomain(name); !forced) {
            // It may have powered off between our last look and the destroy.
            auto now = c.getDomain(name);
            if (now && !isActive(now->state)) return StopOutcome::Graceful;
            return std::move(forced).error();
        }
        return StopOutcome::Forced;
    });
    if (result.ok()) {
        if (auto conn = link_.connection(); conn) refreshCached(*conn.value(), name);
    }
    metrics_.observeOperation("stop", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return audited(actor, name, "stop", std::move(result));
}

Status VmService::forceStop(const std::string& name, const std::string& actor) {
    auto result = locked<Status>(name, [&](BackendConnection& c) -> Status {
        auto info = c.getDomain(name);
        if (!info) return std::move(info).error();
        if (!isActive(info->state)) return {};
        readiness_.cancel(name, Readiness::Stopped);
        Status off = c.destroyDomain(name);
        refreshCached(c, name);
        return off;
    });
    return audited(actor, name, "force_stop", std::move(result));
}

Status VmService::restart(const std::string& name, const std::string& actor) {
    auto result = [&]() -> Status {
        auto stopped = stop(name, actor);
        if (!stopped) return std::move(stopped).error();
        return start(name, actor);
    }();
    return audited(actor, name, "restart", std::move(result));
}

Status VmService::updateMetadata(const std::string& name, const Metadata& changes) {
    return locked<Status>(name, [&](BackendConnection& c) -> Status {
        // set_metadata replaces every pair, so read-modify-write under the VM's lock.
        auto info = c.getDomain(name);
        if (!info) return std::move(info).error();
        Metadata merged = info->metadata;
        for (const auto& [key, value] : changes) {
            if (value.empty()) merged.erase(key);
            else merged[key] = value;
        }
        if (auto set = c.setMetadata(name, merged, true); !set) return set;
        std::lock_guard metaLock(metadataMutex_);
        metadataByUuid_[info->uuid] = std::move(merged);
        return {};
    });
}

Result<Metadata> VmService::metadata(const std::string& name) {
    if (auto valid = validateName(name, "VM name"); !valid) return std::move(valid).error();
    auto conn = link_.connection();
    if (!conn) return std::move(conn).error();
    return conn.value()->getMetadata(name);
}

Status VmService::save(const std::string& name, const std::string& actor) {
    auto result = locked<Status>(name, [&](BackendConnection& c) -> Status {
        readiness_.cancel(name, Readiness::Stopped);
        Status saved = c.saveDomain(name);
        refreshCached(c, name);
        return saved;
    });
    return audited(actor, name, "save", std::move(result));
}

Status VmService::remove(const std::string& name, const std::string& actor) {
    auto result = locked<Status>(name, [&](BackendConnection& c) -> Status {
        auto info = c.getDomain(name);
        if (!info) return std::move(info).error();
        readiness_.cancel(name, Readiness::Unknown);
        if (isActive(info->state)) {
            if (auto off = c.destroyDomain(name); !off) return off;
        }
        if (auto gone = c.undefineDomain(name, true); !gone) return gone;
        // The backend removes the volumes it knows; an overlay it could not match is removed
        // by path so that nothing of the VM stays behind.
        const std::string disk = valueOr(info->metadata, meta::kDisk);
        if (!disk.empty()) {
            if (auto del = c.deleteVolume(disk); !del && del.error().code != ErrorCode::NotFound) return del;
        }
        forgetMetadata(info->uuid);
        cache_.erase(name);
        return {};
    });
    return audited(actor, name, "delete", std::move(result));
}

}  // namespace paddock
