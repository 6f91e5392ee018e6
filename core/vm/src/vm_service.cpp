#include "paddock/core/vm_service.hpp"

#include "paddock/core/iso_time.hpp"
#include "paddock/core/names.hpp"
#include "paddock/core/vm_metadata.hpp"

#include <thread>

namespace paddock {

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(100);

double secondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

VmService::VmService(Site& site, AuditLog& audit, CoreMetrics& metrics)
    : site_(site), audit_(audit), metrics_(metrics), stopTimeout_(std::chrono::seconds(site.config().stop_timeout_s)) {}

template <class R>
R VmService::audited(const std::string& actor, const std::string& vm, const std::string& action, R result) {
    metrics_.countOperation(site_.name(), action, result.ok());
    return audit_.record(actor, site_.name(), vm, action, std::move(result));
}

VmView VmService::toView(DomainInfo info) {
    VmView v;
    v.site = site_.name();
    v.owner = metaValue(info.metadata, meta::kOwner);
    v.template_name = metaValue(info.metadata, meta::kTemplate);
    v.image = metaValue(info.metadata, meta::kImage);
    v.disk = metaValue(info.metadata, meta::kDisk);
    v.managed = isManaged(info.metadata);
    v.readiness = site_.readiness().get(info.name);
    if (!domainIsActive(info.state)) v.readiness.state = Readiness::Stopped;
    if (const std::string port = metaValue(info.metadata, meta::kSshPort); !port.empty()) {
        v.ssh_host = "127.0.0.1";
        v.ssh_port = static_cast<uint16_t>(std::stoul(port));
        v.ssh_user = site_.config().ssh_user;
    }
    v.domain = std::move(info);
    return v;
}

Result<std::vector<VmView>> VmService::list(Scope scope) {
    return site_.domains().map([&](std::vector<DomainInfo> domains) {
        std::vector<VmView> out;
        out.reserve(domains.size());
        for (auto& d : domains) {
            if (scope == Scope::Managed && !isManaged(d.metadata)) continue;
            out.push_back(toView(std::move(d)));
        }
        return out;
    });
}

Result<VmView> VmService::get(const std::string& name, Scope scope) {
    if (auto valid = validateName(name, "VM name"); !valid) return std::move(valid).error();
    auto conn = site_.connection();
    if (!conn) return std::move(conn).error();
    auto info = scope == Scope::All ? conn.value()->getDomain(name) : site_.managedDomain(*conn.value(), name);
    if (!info) return std::move(info).error();
    VmView view = toView(std::move(info.value()));
    // A libvirt network: the address comes from DHCP leases or the guest agent.
    if (view.ssh_host.empty() && site_.config().network_mode == NetworkMode::Network && domainIsActive(view.domain.state)) {
        if (auto target = conn.value()->sshTarget(name); target) {
            view.ssh_host = target->first;
            view.ssh_port = target->second;
            view.ssh_user = site_.config().ssh_user;
        }
    }
    return view;
}

Result<VmView> VmService::create(const CreateVmRequest& request, const std::string& actor) {
    const auto started = std::chrono::steady_clock::now();
    auto result = site_.withVm<Result<VmView>>(
        request.name, [&](BackendConnection& conn) { return createLocked(request, actor, conn); });
    metrics_.observeOperation("create", secondsSince(started));
    return audited(actor, request.name, "create", std::move(result));
}

Result<VmView> VmService::createLocked(const CreateVmRequest& request, const std::string& actor, BackendConnection& conn) {
    auto tmpl = site_.resolveTemplate(request.template_name.value_or(""));
    if (!tmpl) return std::move(tmpl).error();
    if (auto existing = conn.getDomain(request.name); existing) {
        return makeError(ErrorCode::AlreadyExists, "VM '" + request.name + "' already exists");
    } else if (existing.error().code != ErrorCode::NotFound) {
        return std::move(existing).error();
    }

    // The reservation only bridges the gap until the port is in the domain's metadata.
    std::optional<PortReservation> port;
    if (site_.config().network_mode == NetworkMode::User) {
        auto reserved = site_.reserveSshPort();
        if (!reserved) return std::move(reserved).error();
        port.emplace(std::move(reserved.value()));
    }
    auto planned = planDomain(request, tmpl.value(), SiteFacts::of(site_.config(), site_.identity().public_key),
                              port ? std::optional<uint16_t>(port->port()) : std::nullopt, actor,
                              std::chrono::system_clock::now());
    if (!planned) return std::move(planned).error();
    DomainPlan& plan = planned.value();

    if (plan.overlay) {
        auto disk = conn.createOverlay(*plan.overlay);
        if (!disk) {
            Error e = std::move(disk).error();
            e.message = "cannot create the overlay disk for '" + request.name + "' on " + plan.overlay->backing_path +
                        ": " + e.message;
            return e;
        }
        plan.attachDisk(disk.value());
    }
    // From here on, a failure undoes what was made: no orphan domain, no orphan overlay.
    const DomainSpec& spec = plan.spec;
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
        if (site_.probesSsh()) site_.readiness().begin(spec.name);
    }
    auto info = conn.getDomain(spec.name);
    if (!info) return std::move(info).error();
    site_.remember(info.value(), spec.metadata);
    return toView(std::move(info.value()));
}

Status VmService::start(const std::string& name, const std::string& actor) {
    auto result = site_.withVm<Status>(name, [&](BackendConnection& c) -> Status {
        if (auto managed = site_.managedDomain(c, name); !managed) return std::move(managed).error();
        if (auto started = c.startDomain(name); !started) return started;
        if (site_.probesSsh()) site_.readiness().begin(name);
        site_.refresh(c, name);
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
    auto result = site_.withVm<Result<StopOutcome>>(name, [&](BackendConnection& c) -> Result<StopOutcome> {
        auto info = site_.managedDomain(c, name);
        if (!info) return std::move(info).error();
        if (!domainIsActive(info->state)) return StopOutcome::AlreadyStopped;
        site_.readiness().cancel(name, Readiness::Stopped);
        // A paused guest cannot react to ACPI; only a running one gets the graceful path.
        Result<StopOutcome> outcome = StopOutcome::Forced;
        if (info->state != DomainState::Paused && c.shutdownDomain(name).ok() &&
            waitForState(c, name, DomainState::Shutoff, stopTimeout_).ok()) {
            outcome = StopOutcome::Graceful;
        } else if (auto forced = c.destroyDomain(name); !forced) {
            // It may have powered off between our last look and the destroy.
            auto now = c.getDomain(name);
            outcome = now && !domainIsActive(now->state) ? Result<StopOutcome>(StopOutcome::Graceful)
                                                         : Result<StopOutcome>(std::move(forced).error());
        }
        site_.refresh(c, name);
        return outcome;
    });
    metrics_.observeOperation("stop", secondsSince(started));
    return audited(actor, name, "stop", std::move(result));
}

template <class Op>
Status VmService::powerOff(const std::string& name, const std::string& action, const std::string& actor,
                           bool skipWhenOff, Op op) {
    auto result = site_.withVm<Status>(name, [&](BackendConnection& c) -> Status {
        auto info = site_.managedDomain(c, name);
        if (!info) return std::move(info).error();
        if (skipWhenOff && !domainIsActive(info->state)) return {};
        site_.readiness().cancel(name, Readiness::Stopped);
        Status done = op(c);
        site_.refresh(c, name);
        return done;
    });
    return audited(actor, name, action, std::move(result));
}

Status VmService::forceStop(const std::string& name, const std::string& actor) {
    return powerOff(name, "force_stop", actor, true, [&](BackendConnection& c) { return c.destroyDomain(name); });
}

Status VmService::save(const std::string& name, const std::string& actor) {
    return powerOff(name, "save", actor, false, [&](BackendConnection& c) { return c.saveDomain(name); });
}

Status VmService::restart(const std::string& name, const std::string& actor) {
    auto result = stop(name, actor).and_then([&](StopOutcome) { return start(name, actor); });
    return audited(actor, name, "restart", std::move(result));
}

Status VmService::remove(const std::string& name, const std::string& actor) {
    auto result = site_.withVm<Status>(name, [&](BackendConnection& c) -> Status {
        auto info = site_.managedDomain(c, name);
        if (!info) return std::move(info).error();
        site_.readiness().cancel(name, Readiness::Unknown);
        if (domainIsActive(info->state)) {
            if (auto off = c.destroyDomain(name); !off) return off;
        }
        if (auto gone = c.undefineDomain(name, true); !gone) return gone;
        // The backend removes the volumes it knows; an overlay it could not match is removed
        // by path so that nothing of the VM stays behind.
        const std::string disk = metaValue(info->metadata, meta::kDisk);
        if (!disk.empty()) {
            if (auto del = c.deleteVolume(disk); !del && del.error().code != ErrorCode::NotFound) return del;
        }
        site_.forget(name, info->uuid);
        return {};
    });
    return audited(actor, name, "delete", std::move(result));
}

Result<VmView> VmService::adopt(const std::string& name, const std::string& owner, const std::string& actor) {
    auto result = site_.withVm<Result<VmView>>(name, [&](BackendConnection& c) -> Result<VmView> {
        if (auto valid = validateOwner(owner, false); !valid) return std::move(valid).error();
        auto info = c.getDomain(name);
        if (!info) return std::move(info).error();
        if (isManaged(info->metadata))
            return makeError(ErrorCode::Conflict, "VM '" + name + "' is managed by Paddock already");
        const std::string now = isoTime(std::chrono::system_clock::now());
        Metadata changes = {{meta::kCreatedAt, now}, {meta::kCreatedBy, actor}, {meta::kAdoptedAt, now}};
        if (!owner.empty()) changes[meta::kOwner] = owner;
        if (auto written = site_.writeMetadata(c, info.value(), changes); !written) return std::move(written).error();
        site_.refresh(c, name);
        auto adopted = site_.managedDomain(c, name);
        if (!adopted) return std::move(adopted).error();
        if (domainIsActive(adopted->state) && site_.probesSsh()) site_.readiness().begin(name);
        return toView(std::move(adopted.value()));
    });
    return audited(actor, name, "adopt", std::move(result));
}

}  // namespace paddock
