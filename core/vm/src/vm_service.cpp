#include "paddock/core/vm_service.hpp"

#include "paddock/core/crash_point.hpp"
#include "paddock/core/iso_time.hpp"
#include "paddock/core/names.hpp"
#include "paddock/core/vm_metadata.hpp"

#include <thread>

namespace paddock {

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr const char* kCreating = "creating";
constexpr const char* kDeleting = "deleting";

// The metadata without the intent record.
Metadata withoutIntent(Metadata metadata) {
    metadata.erase(meta::kIntent);
    metadata.erase(meta::kIntentBy);
    metadata.erase(meta::kIntentAt);
    return metadata;
}

Error overlayError(Error e, const std::string& vm, const std::string& backing) {
    e.message = "cannot create the overlay disk for '" + vm + "' on " + backing + ": " + e.message;
    return e;
}

}  // namespace

VmService::VmService(Site& site, AuditLog& audit, CoreMetrics& metrics, std::string instance)
    : site_(site),
      audit_(audit),
      metrics_(metrics),
      instance_(std::move(instance)),
      stopTimeout_(std::chrono::seconds(site.config().stop_timeout_s)) {}

void VmService::markIntent(Metadata& metadata, const char* intent) const {
    metadata[meta::kIntent] = intent;
    metadata[meta::kIntentBy] = instance_;
    metadata[meta::kIntentAt] = isoTime(std::chrono::system_clock::now());
}

VmView VmService::toView(DomainInfo info) {
    VmView v;
    v.site = site_.name();
    v.owner = metaValue(info.metadata, meta::kOwner);
    v.template_name = metaValue(info.metadata, meta::kTemplate);
    v.image = metaValue(info.metadata, meta::kImage);
    v.disk = metaValue(info.metadata, meta::kDisk);
    v.provisioning = metaValue(info.metadata, meta::kProvisioning);
    v.provisioning_error = metaValue(info.metadata, meta::kProvisioningError);
    v.provisioning_operation = metaValue(info.metadata, meta::kProvisioningOperation);
    v.managed = isManaged(info.metadata);
    v.readiness = site_.readiness().get(info.name);
    if (!domainIsActive(info.state)) v.readiness.state = startDeferred(info.name) ? Readiness::Booting : Readiness::Stopped;
    if (const std::string port = metaValue(info.metadata, meta::kSshPort); !port.empty()) {
        const std::string& remote = site_.config().guest_ssh_host;
        v.ssh_host = remote.empty() ? "127.0.0.1" : remote;
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
    if (auto valid = validateExistingName(name, "VM name"); !valid) return std::move(valid).error();
    auto conn = site_.connection();
    if (!conn) return std::move(conn).error();
    auto info = scope == Scope::All ? conn.value()->getDomain(name) : site_.managedDomain(*conn.value(), name);
    if (!info) return std::move(info).error();
    VmView view = toView(std::move(info.value()));
    // A libvirt network: the address comes from DHCP leases or the guest agent.
    if (view.ssh_host.empty() && site_.config().network_mode == NetworkMode::Network &&
        domainIsActive(view.domain.state)) {
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
    auto result = site_.withVm<Result<VmView>>(request.name, [&](BackendConnection& conn) -> Result<VmView> {
        auto draft = defineLocked(request, actor, conn);
        if (!draft) return std::move(draft).error();
        return completeLocked(draft.value(), actor, conn);
    });
    metrics_.observeOperation("create", secondsSince(started));
    if (result) metrics_.countCreated(site_.name(), result->owner);
    return audited(actor, request.name, "create", std::move(result));
}

Result<VmView> VmService::beginCreate(const CreateVmRequest& request, const std::string& actor) {
    if (!request.start)
        return makeError(ErrorCode::Internal, "beginCreate of '" + request.name + "' without a start to defer");
    const auto started = std::chrono::steady_clock::now();
    auto result = site_.withVm<Result<VmView>>(request.name, [&](BackendConnection& conn) -> Result<VmView> {
        auto draft = defineLocked(request, actor, conn);
        if (!draft) return std::move(draft).error();
        CreateDraft& made = draft.value();
        auto info = conn.getDomain(request.name);
        if (!info) return undoCreate(conn, made, std::move(info).error());
        made.uuid = info->uuid;
        // Deferred before it is listed, so that no listing shows it "stopped" meanwhile.
        {
            std::lock_guard lock(deferredMutex_);
            deferred_.erase(request.name);
            deferred_.emplace(request.name, std::move(made));
        }
        // Listed from now on, intent record and all (it is not made yet).
        site_.remember(info.value(), info->metadata);
        return toView(std::move(info.value()));
    });
    metrics_.observeOperation("create_begin", secondsSince(started));
    if (!result) return audited(actor, request.name, "create", std::move(result));
    return result;
}

Result<VmView> VmService::finishCreate(const std::string& name, const std::string& actor) {
    const auto started = std::chrono::steady_clock::now();
    // Left in deferred_ until done, so that listings meanwhile still say "booting"; only this
    // call and abandonCreate (for another create) erase entries, so the node stays put.
    CreateDraft* draft = nullptr;
    {
        std::lock_guard lock(deferredMutex_);
        if (auto it = deferred_.find(name); it != deferred_.end()) draft = &it->second;
    }
    if (draft == nullptr) return makeError(ErrorCode::NotFound, "no create of '" + name + "' is waiting for its start");
    auto result = site_.withVm<Result<VmView>>(name, [&](BackendConnection& conn) -> Result<VmView> {
        // Re-read under the lock: a delete may have removed it meanwhile, or a start started it.
        auto info = conn.getDomain(name);
        if (!info && info.error().code == ErrorCode::NotFound)
            return makeError(ErrorCode::Conflict, "VM '" + name + "' was deleted before it was started");
        if (!info) return undoCreate(conn, *draft, std::move(info).error());
        if (metaValue(info->metadata, meta::kIntent) != kCreating || info->uuid != draft->uuid)
            return makeError(ErrorCode::Conflict, "VM '" + name + "' was deleted (and its name reused) before it was started");
        draft->running = domainIsActive(info->state);
        return completeLocked(*draft, actor, conn);
    });
    {
        std::lock_guard lock(deferredMutex_);
        deferred_.erase(name);
    }
    metrics_.observeOperation("create_finish", secondsSince(started));
    if (result) metrics_.countCreated(site_.name(), result->owner);
    return audited(actor, name, "create", std::move(result));
}

Status VmService::abandonCreate(const std::string& name, const std::string& actor) {
    std::optional<CreateDraft> draft = takeDeferred(name);
    if (!draft) return makeError(ErrorCode::NotFound, "no create of '" + name + "' is waiting for its start");
    auto result = site_.withVm<Status>(name, [&](BackendConnection& conn) -> Status {
        auto info = conn.getDomain(name);
        if (!info) return info.error().code == ErrorCode::NotFound ? Status{} : Status(std::move(info).error());
        if (metaValue(info->metadata, meta::kIntent) != kCreating) return {};
        return removeLocked(conn, info.value());
    });
    return audited(actor, name, "create_abandon", std::move(result));
}

bool VmService::startDeferred(const std::string& name) const {
    std::lock_guard lock(deferredMutex_);
    return deferred_.count(name) != 0;
}

std::optional<VmService::CreateDraft> VmService::takeDeferred(const std::string& name) {
    std::lock_guard lock(deferredMutex_);
    auto it = deferred_.find(name);
    if (it == deferred_.end()) return std::nullopt;
    CreateDraft draft = std::move(it->second);
    deferred_.erase(it);
    return draft;
}

Result<VmService::CreateDraft> VmService::defineLocked(const CreateVmRequest& request, const std::string& actor,
                                                       BackendConnection& conn) {
    auto tmpl = site_.resolveTemplate(request.template_name.value_or(""));
    if (!tmpl) return std::move(tmpl).error();
    if (auto existing = conn.getDomain(request.name); existing) {
        return makeError(ErrorCode::AlreadyExists, "VM '" + request.name + "' already exists");
    } else if (existing.error().code != ErrorCode::NotFound) {
        return std::move(existing).error();
    }
    if (startDeferred(request.name))
        return makeError(ErrorCode::AlreadyExists, "VM '" + request.name + "' already exists");

    CreateDraft draft;
    draft.request = request;
    // The reservation only bridges the gap until the port is in the domain's metadata.
    if (site_.config().network_mode == NetworkMode::User) {
        auto reserved = site_.reserveSshPort();
        if (!reserved) return std::move(reserved).error();
        draft.port.emplace(std::move(reserved.value()));
    }
    SiteFacts facts = SiteFacts::of(site_.config(), site_.identity().public_key);
    facts.guest_url = guestUrl_;
    auto planned = planDomain(request, tmpl.value(), facts,
                              draft.port ? std::optional<uint16_t>(draft.port->port()) : std::nullopt, actor,
                              std::chrono::system_clock::now());
    if (!planned) return std::move(planned).error();
    draft.plan = std::move(planned.value());
    DomainPlan& plan = draft.plan;
    markIntent(plan.spec.metadata, kCreating);

    // The domain is defined first, naming its overlay before the overlay exists: a crash at any
    // later step leaves a record of everything made. A backend that cannot name the path in
    // advance gets the overlay first (a crash between the two then leaves it unreferenced).
    if (!request.restore_source.empty() && !plan.overlay)
        return makeError(ErrorCode::InvalidArgument, "a restore needs a template with a base image; template '" +
                                                         request.template_name.value_or(tmpl.value() ? tmpl.value()->name : "") +
                                                         "' has none");
    bool overlayFirst = false;
    if (plan.overlay) {
        auto path = conn.volumePath(plan.overlay->pool, plan.overlay->name);
        if (path) {
            plan.attachDisk(path.value());
        } else if (path.error().code == ErrorCode::Unsupported) {
            overlayFirst = true;
        } else {
            return overlayError(std::move(path).error(), request.name, plan.overlay->backing_path);
        }
    }
    if (overlayFirst) {
        if (auto made = makeOverlay(conn, draft, true); !made) return undoCreate(conn, draft, std::move(made).error());
    }
    if (auto done = conn.defineDomain(plan.spec); !done) return undoCreate(conn, draft, std::move(done).error());
    draft.defined = true;
    crashPoint("vm.create.after_define");
    return draft;
}

Status VmService::makeOverlay(BackendConnection& conn, CreateDraft& draft, bool attach) {
    const CreateVmRequest& request = draft.request;
    DomainPlan& plan = draft.plan;
    auto disk = request.restore_source.empty()
                    ? conn.createOverlay(*plan.overlay)
                    : conn.restoreVolume(plan.overlay->pool, plan.overlay->name, request.restore_source);
    if (!disk && !request.restore_source.empty()) {
        Error e = std::move(disk).error();
        e.message =
            "cannot restore the disk of '" + request.name + "' from " + request.restore_source + ": " + e.message;
        return e;
    }
    if (!disk) return overlayError(std::move(disk).error(), request.name, plan.overlay->backing_path);
    draft.overlay = disk.value();
    crashPoint("vm.create.after_overlay");
    if (attach) {
        plan.attachDisk(draft.overlay);
    } else if (draft.overlay != plan.spec.disk_path) {
        return makeError(ErrorCode::Internal, "backend " + conn.plugin().info().id + " promised the overlay of '" +
                                                  request.name + "' at " + plan.spec.disk_path + " but made it at " +
                                                  draft.overlay);
    }
    return {};
}

Error VmService::undoCreate(BackendConnection& conn, const CreateDraft& draft, Error e) {
    // The domain (holding the intent record) goes last: should a step of the undo fail, the
    // record stays and recoverInterrupted() finishes the job.
    const std::string& name = draft.plan.spec.name;
    if (draft.defined) {
        if (auto info = conn.getDomain(name); info && domainIsActive(info->state)) (void)conn.destroyDomain(name);
    }
    if (!draft.overlay.empty()) {
        if (auto del = conn.deleteVolume(draft.overlay); !del && del.error().code != ErrorCode::NotFound) return e;
    }
    if (draft.defined) {
        (void)conn.undefineDomain(name, false);
        if (!draft.uuid.empty()) site_.forget(name, draft.uuid);
    }
    return e;
}

Result<VmView> VmService::completeLocked(CreateDraft& draft, const std::string& actor, BackendConnection& conn) {
    const CreateVmRequest& request = draft.request;
    DomainSpec& spec = draft.plan.spec;
    if (draft.plan.overlay && draft.overlay.empty()) {
        if (auto made = makeOverlay(conn, draft, false); !made) return undoCreate(conn, draft, std::move(made).error());
    }
    if (request.start && !draft.running) {
        if (auto run = conn.startDomain(spec.name); !run) {
            Error e = std::move(run).error();
            e.message = "VM '" + spec.name + "' was defined but could not start, so it was removed again: " + e.message;
            return undoCreate(conn, draft, std::move(e));
        }
        crashPoint("vm.create.after_start");
        notifyPower(spec.name, PowerChange::Running, actor);
        if (site_.probesSsh()) site_.readiness().begin(spec.name);
    }
    auto info = conn.getDomain(spec.name);
    if (!info) return undoCreate(conn, draft, std::move(info).error());
    // Made: the intent record goes, as the last step.
    const Metadata finished = withoutIntent(spec.metadata);
    if (auto cleared = conn.setMetadata(spec.name, finished, domainIsActive(info->state)); !cleared)
        return undoCreate(conn, draft, std::move(cleared).error());
    crashPoint("vm.create.after_metadata");
    info->metadata = finished;
    site_.remember(info.value(), finished);
    return toView(std::move(info.value()));
}

Status VmService::start(const std::string& name, const std::string& actor) {
    auto result = site_.withVm<Status>(name, [&](BackendConnection& c) -> Status {
        if (auto managed = site_.managedDomain(c, name); !managed) return std::move(managed).error();
        if (auto started = c.startDomain(name); !started) return started;
        notifyPower(name, PowerChange::Running, actor);
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

Result<StopReport> VmService::stop(const std::string& name, const std::string& actor,
                                   std::optional<std::chrono::milliseconds> timeout) {
    const auto started = std::chrono::steady_clock::now();
    auto result = site_.withVm<Result<StopReport>>(name, [&](BackendConnection& c) -> Result<StopReport> {
        auto info = site_.managedDomain(c, name);
        if (!info) return std::move(info).error();
        if (!domainIsActive(info->state)) return StopReport{};
        StopReport report;
        notifyPower(name, PowerChange::Stopping, actor);
        report.snapshot = snapshotBeforeStop(c, info.value(), actor);
        site_.readiness().cancel(name, Readiness::Stopped);
        // A paused guest cannot react to ACPI; only a running one gets the graceful path.
        Result<StopOutcome> outcome = StopOutcome::Forced;
        if (info->state != DomainState::Paused && c.shutdownDomain(name).ok() &&
            waitForState(c, name, DomainState::Shutoff, timeout.value_or(stopTimeout_)).ok()) {
            outcome = StopOutcome::Graceful;
        } else if (auto forced = c.destroyDomain(name); !forced) {
            // It may have powered off between our last look and the destroy.
            auto now = c.getDomain(name);
            outcome = now && !domainIsActive(now->state) ? Result<StopOutcome>(StopOutcome::Graceful)
                                                         : Result<StopOutcome>(std::move(forced).error());
        }
        site_.refresh(c, name);
        if (!outcome) return std::move(outcome).error();
        report.outcome = outcome.value();
        return report;
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
        notifyPower(name, PowerChange::Stopping, actor);
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
    auto result = stop(name, actor).and_then([&](const StopReport&) { return start(name, actor); });
    return audited(actor, name, "restart", std::move(result));
}

Status VmService::remove(const std::string& name, const std::string& actor) {
    auto result = site_.withVm<Status>(name, [&](BackendConnection& c) -> Status {
        auto info = site_.managedDomain(c, name);
        if (!info) return std::move(info).error();
        Status removed = removeLocked(c, info.value());
        if (removed) notifyPower(name, PowerChange::Removed, actor);
        return removed;
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

Status VmService::removeLocked(BackendConnection& c, const DomainInfo& info) {
    const std::string& name = info.name;
    site_.readiness().cancel(name, Readiness::Unknown);
    // The record first: from here on a crash leaves a VM the recovery removes, never a
    // half-removed one that looks whole.
    if (metaValue(info.metadata, meta::kIntent) != kDeleting) {
        Metadata marked = info.metadata;
        markIntent(marked, kDeleting);
        if (auto set = c.setMetadata(name, marked, domainIsActive(info.state)); !set) return set;
        crashPoint("vm.delete.after_mark");
    }
    if (domainIsActive(info.state)) {
        if (auto off = c.destroyDomain(name); !off) {
            // It may have powered off between our look and the destroy.
            auto now = c.getDomain(name);
            if (!now || domainIsActive(now->state)) return off;
        }
        crashPoint("vm.delete.after_destroy");
    }
    // The overlay goes while the domain (and its record) still names it; then the domain.
    const std::string disk = metaValue(info.metadata, meta::kDisk);
    if (!disk.empty()) {
        if (auto del = c.deleteVolume(disk); !del && del.error().code != ErrorCode::NotFound) return del;
        crashPoint("vm.delete.after_volume_delete");
    }
    // Without an overlay of Paddock's, the backend removes the volumes it knows.
    if (auto gone = c.undefineDomain(name, disk.empty()); !gone) return gone;
    crashPoint("vm.delete.after_undefine");
    site_.forget(name, info.uuid);
    return {};
}

bool VmService::interrupted(const Metadata& metadata, std::chrono::seconds foreignGrace) const {
    const std::string intent = metaValue(metadata, meta::kIntent);
    if (intent.empty() || !metaValue(metadata, meta::kPool).empty()) return false;
    if (metaValue(metadata, meta::kIntentBy) == instance_) return true;
    // No readable time: as old as can be.
    const auto at = parseIsoTime(metaValue(metadata, meta::kIntentAt)).value_or(SystemTime{});
    return std::chrono::system_clock::now() - at >= foreignGrace;
}

Result<size_t> VmService::recoverInterrupted(std::chrono::seconds foreignGrace) {
    auto conn = site_.connection();
    if (!conn) return std::move(conn).error();
    auto domains = conn.value()->listDomains(true);
    if (!domains) return std::move(domains).error();
    size_t removed = 0;
    std::optional<Error> firstError;
    for (const auto& listed : domains.value()) {
        if (!interrupted(listed.metadata, foreignGrace) || startDeferred(listed.name)) continue;
        bool acted = false;
        Status done = site_.withVm<Status>(listed.name, [&](BackendConnection& c) -> Status {
            // Re-read under the lock: what was in progress when listed may have finished since.
            auto info = c.getDomain(listed.name);
            if (!info) return info.error().code == ErrorCode::NotFound ? Status{} : Status(std::move(info).error());
            if (!interrupted(info->metadata, foreignGrace) || startDeferred(listed.name)) return {};
            acted = true;
            return removeLocked(c, info.value());
        });
        if (!acted && done) continue;
        if (done) {
            ++removed;
        } else {
            Error e = done.error();
            e.message = "VM '" + listed.name + "' left unfinished (" + metaValue(listed.metadata, meta::kIntent) +
                        " by " + metaValue(listed.metadata, meta::kIntentBy) + "): " + e.message;
            done = e;
            if (!firstError) firstError = e;
        }
        (void)audited("system", listed.name, "recover", std::move(done));
    }
    if (firstError) return *firstError;
    return removed;
}

}  // namespace paddock
