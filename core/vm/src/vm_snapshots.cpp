// VmService's snapshot operations, and the snapshot a template takes before every stop.
#include "paddock/core/iso_time.hpp"
#include "paddock/core/names.hpp"
#include "paddock/core/vm_metadata.hpp"
#include "paddock/core/vm_service.hpp"

#include <algorithm>

namespace paddock {

namespace {

constexpr size_t kMaxDescriptionBytes = 1024;

bool isAutomatic(const SnapshotInfo& s) { return s.name.rfind(kStopSnapshotPrefix, 0) == 0; }

void oldestFirst(std::vector<SnapshotInfo>& snapshots) {
    std::sort(snapshots.begin(), snapshots.end(), [](const SnapshotInfo& a, const SnapshotInfo& b) {
        return a.created_at != b.created_at ? a.created_at < b.created_at : a.name < b.name;
    });
}

const SnapshotInfo* findSnapshot(const std::vector<SnapshotInfo>& snapshots, const std::string& name) {
    for (const auto& s : snapshots)
        if (s.name == name) return &s;
    return nullptr;
}

// "stop-20261202-075501" (UTC), with "-2", "-3", ... when a stop in the same second took one.
std::string stopSnapshotName(const std::vector<SnapshotInfo>& existing) {
    const std::string base = kStopSnapshotPrefix + compactUtcStamp(std::chrono::system_clock::now());
    std::string name = base;
    for (int n = 2; findSnapshot(existing, name) != nullptr; ++n) name = base + "-" + std::to_string(n);
    return name;
}

uint32_t snapshotLimit(const TemplateConfig* tmpl) {
    return tmpl != nullptr ? tmpl->snapshot_limit : TemplateConfig{}.snapshot_limit;
}

// Conflict when taking `name` would break the rules: a same-named one without `replace`, or
// one more than the template allows.
Status checkRoom(const std::vector<SnapshotInfo>& existing, const std::string& vm, const std::string& name,
                 bool replace, const TemplateConfig* tmpl) {
    if (findSnapshot(existing, name) != nullptr) {
        if (replace) return {};
        return makeError(ErrorCode::Conflict, "VM '" + vm + "' has a snapshot '" + name +
                                                  "' already; send \"replace\": true to replace it");
    }
    const uint32_t limit = snapshotLimit(tmpl);
    if (existing.size() >= limit) {
        return makeError(ErrorCode::Conflict,
                         "VM '" + vm + "' holds " + std::to_string(existing.size()) + " snapshots, the limit (" +
                             (tmpl != nullptr ? "snapshot_limit of template '" + tmpl->name + "'" : "the default") +
                             "); delete one first");
    }
    return {};
}

}  // namespace

const TemplateConfig* VmService::templateOf(const DomainInfo& info) const {
    const std::string name = metaValue(info.metadata, meta::kTemplate);
    if (name.empty()) return nullptr;
    for (const auto& t : site_.config().templates)
        if (t.name == name) return &t;
    return nullptr;
}

Result<std::vector<SnapshotInfo>> VmService::snapshots(const std::string& vm) {
    if (auto valid = validateExistingName(vm, "VM name"); !valid) return std::move(valid).error();
    // No VM lock: a listing need not wait for a snapshot or backup in progress.
    auto conn = site_.connection();
    if (!conn) return std::move(conn).error();
    if (auto managed = site_.managedDomain(*conn.value(), vm); !managed) return std::move(managed).error();
    auto list = conn.value()->snapshotInfos(vm);
    if (list) oldestFirst(list.value());
    return list;
}

Result<SnapshotInfo> VmService::createSnapshot(const std::string& vm, const SnapshotRequest& request,
                                               const std::string& actor) {
    if (auto valid = validateName(request.name, "snapshot name"); !valid) return std::move(valid).error();
    if (auto valid = validateLabel(request.description, "description", kMaxDescriptionBytes, false); !valid)
        return std::move(valid).error();
    const auto started = std::chrono::steady_clock::now();
    auto result = site_.withVm<Result<SnapshotInfo>>(vm, [&](BackendConnection& c) -> Result<SnapshotInfo> {
        auto info = site_.managedDomain(c, vm);
        if (!info) return std::move(info).error();
        auto existing = c.snapshotInfos(vm);
        if (!existing) return std::move(existing).error();
        const bool replacing = findSnapshot(existing.value(), request.name) != nullptr;
        if (auto room = checkRoom(existing.value(), vm, request.name, request.replace, templateOf(info.value())); !room)
            return std::move(room).error();
        if (auto made = c.snapshotCreate(vm, request.name, replacing ? PDK_SNAPSHOT_REPLACE : 0u, request.description);
            !made)
            return std::move(made).error();
        auto after = c.snapshotInfos(vm);
        if (!after) return std::move(after).error();
        const SnapshotInfo* made = findSnapshot(after.value(), request.name);
        if (made == nullptr)
            return makeError(ErrorCode::Internal, "backend " + c.plugin().info().id + " took snapshot '" +
                                                      request.name + "' of VM '" + vm + "' but does not list it");
        return *made;
    });
    metrics_.countSnapshot(result.ok());
    if (result) metrics_.observeSnapshot(secondsSince(started));
    return audited(actor, vm, "snapshot_create", std::move(result), request.name);
}

Result<VmView> VmService::revertSnapshot(const std::string& vm, const std::string& snapshot,
                                         std::optional<bool> start, const std::string& actor) {
    if (auto valid = validateExistingName(snapshot, "snapshot name"); !valid) return std::move(valid).error();
    const auto started = std::chrono::steady_clock::now();
    auto result = site_.withVm<Result<VmView>>(vm, [&](BackendConnection& c) -> Result<VmView> {
        if (auto info = site_.managedDomain(c, vm); !info) return std::move(info).error();
        auto existing = c.snapshotInfos(vm);
        if (!existing) return std::move(existing).error();
        if (findSnapshot(existing.value(), snapshot) == nullptr)
            return makeError(ErrorCode::NotFound, "VM '" + vm + "' has no snapshot '" + snapshot + "'");
        notifyPower(vm, PowerChange::Stopping, actor);
        site_.readiness().cancel(vm, Readiness::Stopped);
        Status reverted = c.snapshotRevert(vm, snapshot, start);
        site_.refresh(c, vm);
        if (!reverted) return std::move(reverted).error();
        auto now = c.getDomain(vm);
        if (!now) return std::move(now).error();
        if (domainIsActive(now->state)) {
            notifyPower(vm, PowerChange::Running, actor);
            if (site_.probesSsh()) site_.readiness().begin(vm);
        }
        return toView(std::move(now.value()));
    });
    if (result) metrics_.observeRevert(secondsSince(started));
    return audited(actor, vm, "snapshot_revert", std::move(result), snapshot);
}

Status VmService::deleteSnapshot(const std::string& vm, const std::string& snapshot, const std::string& actor) {
    if (auto valid = validateExistingName(snapshot, "snapshot name"); !valid) return std::move(valid).error();
    auto result = site_.withVm<Status>(vm, [&](BackendConnection& c) -> Status {
        if (auto info = site_.managedDomain(c, vm); !info) return std::move(info).error();
        auto existing = c.snapshotInfos(vm);
        if (!existing) return std::move(existing).error();
        if (findSnapshot(existing.value(), snapshot) == nullptr)
            return makeError(ErrorCode::NotFound, "VM '" + vm + "' has no snapshot '" + snapshot + "'");
        return c.snapshotDelete(vm, snapshot);
    });
    return audited(actor, vm, "snapshot_delete", std::move(result), snapshot);
}

std::optional<StopSnapshot> VmService::snapshotBeforeStop(BackendConnection& c, const DomainInfo& info,
                                                          const std::string& actor) {
    // A pool's VMs are thrown away after use: nothing to keep.
    if (!metaValue(info.metadata, meta::kPool).empty()) return std::nullopt;
    const TemplateConfig* tmpl = templateOf(info);
    if (tmpl == nullptr || !tmpl->snapshot_on_stop) return std::nullopt;
    const std::string& vm = info.name;
    const auto started = std::chrono::steady_clock::now();
    StopSnapshot out;
    auto existing = c.snapshotInfos(vm);
    Status made = existing ? Status{} : Status(std::move(existing).error());
    if (made) {
        out.name = stopSnapshotName(existing.value());
        made = checkRoom(existing.value(), vm, out.name, false, tmpl);
    }
    if (made) made = c.snapshotCreate(vm, out.name, 0, "taken before a stop by " + actor);
    metrics_.countSnapshot(made.ok());
    if (!made) {
        // The earlier teaching tool ignored this silently; the stop goes on, the failure is told.
        Error e = std::move(made).error();
        e.message = "no snapshot was taken before the stop: " + e.message;
        out.error = e;
        (void)audited(actor, vm, "snapshot_on_stop", Status(e), out.name);
        return out;
    }
    metrics_.observeSnapshot(secondsSince(started));
    (void)audited(actor, vm, "snapshot_on_stop", Status{}, out.name);

    // The newest `keep` automatic snapshots stay; a failure to prune is audited, not fatal.
    auto after = c.snapshotInfos(vm);
    if (!after) return out;
    std::vector<SnapshotInfo> automatic;
    for (auto& s : after.value())
        if (isAutomatic(s)) automatic.push_back(std::move(s));
    oldestFirst(automatic);
    for (size_t i = 0; i + tmpl->snapshot_on_stop_keep < automatic.size(); ++i) {
        if (automatic[i].name == out.name) continue;
        Status removed = c.snapshotDelete(vm, automatic[i].name);
        if (removed) out.pruned.push_back(automatic[i].name);
        (void)audited(actor, vm, "snapshot_prune", std::move(removed), automatic[i].name);
    }
    return out;
}

}  // namespace paddock
