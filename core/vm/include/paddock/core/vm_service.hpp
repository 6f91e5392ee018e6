// VM lifecycle on one site: create (a plan from domain_plan.hpp, executed with rollback:
// overlay disk, SSH port, define, start), start, graceful stop with forced fallback, restart,
// managed save, delete with storage; listings and single VMs as VmView. Only Paddock's VMs
// (made or adopted, vm_metadata.hpp isManaged) are acted on: a foreign domain is NotFound to
// every operation but adopt(). Every operation is audited and counted. Thread-safe: operations on one VM are serialised by the site's VM
// locks, different VMs proceed in parallel. The Site, AuditLog and CoreMetrics must outlive it.
//
// Crash consistency: create and delete keep an intent record in the VM's metadata
// (meta::kIntent "creating"/"deleting", with this instance's name and the time) from their
// first durable step to their last, and the domain is defined before its overlay exists and
// undefined after the overlay is gone (when the backend can name the overlay's path in
// advance, ABI 1.2 volume_path). So whatever step paddockd dies after, libvirt holds a domain
// that names everything left behind, marked unfinished; recoverInterrupted() removes it.
#pragma once

#include "paddock/core/audit_log.hpp"
#include "paddock/core/backend.hpp"
#include "paddock/core/domain_plan.hpp"
#include "paddock/core/metrics.hpp"
#include "paddock/core/readiness.hpp"
#include "paddock/core/result.hpp"
#include "paddock/core/site.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace paddock {

struct VmView {
    DomainInfo domain;
    std::string site;
    std::string owner;  // from metadata; empty when none
    std::string template_name;
    std::string image;  // base image; empty for diskless
    std::string disk;   // the overlay; empty for diskless
    ReadinessInfo readiness;
    std::string ssh_host;  // empty when unknown
    uint16_t ssh_port = 0;
    std::string ssh_user;
    // Provisioning's last run (meta::kProvisioning...): "" (never), pending, running, succeeded,
    // failed; its error; the operation.
    std::string provisioning;
    std::string provisioning_error;
    std::string provisioning_operation;
    bool managed = true;  // false: a foreign domain (only ever shown to admins who ask)
    uint64_t memory_mb() const noexcept { return domain.max_memory_kib / 1024; }
};

// Which domains a listing or lookup covers.
enum class Scope { Managed, All };

enum class StopOutcome { Graceful, Forced, AlreadyStopped };

// The snapshot a template's snapshot_on_stop took before a stop, or why it could not.
struct StopSnapshot {
    std::string name;
    std::optional<Error> error;  // set: no snapshot was taken (the VM was stopped all the same)
    std::vector<std::string> pruned;  // older automatic snapshots removed to keep the newest N
};

struct StopReport {
    StopOutcome outcome = StopOutcome::AlreadyStopped;
    std::optional<StopSnapshot> snapshot;  // only when the template asks for one and the VM ran
};

struct SnapshotRequest {
    std::string name;
    std::string description;
    bool replace = false;  // a same-named snapshot is replaced; else Conflict
};

// What the API did to a VM's power, for a watcher (watch_service.hpp) that must tell an
// operator's stop from a crash: Stopping before the VM goes down through stop, force stop, save,
// restart or a snapshot revert; Running after a start, or a revert that left it running;
// Removed after a delete.
enum class PowerChange { Stopping, Running, Removed };
using PowerObserver = std::function<void(const std::string& vm, PowerChange change, const std::string& actor)>;

// Automatic snapshots (snapshot_on_stop) are named kStopSnapshotPrefix + UTC time.
inline constexpr const char* kStopSnapshotPrefix = "stop-";

class VmService {
public:
    // `instance` names this paddockd in intent records (Runtime: the state directory's
    // instance id), so that a restart tells its own interrupted work from another's.
    VmService(Site& site, AuditLog& audit, CoreMetrics& metrics, std::string instance = {});

    Site& site() noexcept { return site_; }
    const Site& site() const noexcept { return site_; }

    // Paddock's VMs (made or adopted); Scope::All adds the foreign domains of the host.
    Result<std::vector<VmView>> list(Scope scope = Scope::Managed);
    // One VM; a foreign domain is NotFound unless Scope::All.
    Result<VmView> get(const std::string& name, Scope scope = Scope::Managed);

    // AlreadyExists when the name is taken; InvalidArgument for a bad name, unknown template
    // or out-of-range sizes. On any failure nothing is left behind (no domain, no overlay).
    Result<VmView> create(const CreateVmRequest& request, const std::string& actor);

    // A create whose start is issued, not awaited (POST /api/v1/vms with Prefer: respond-async,
    // answered before QEMU is up). beginCreate() does what create() does up to the definition
    // (the intent record "creating" included; the overlay too when the backend cannot name its
    // path in advance) and returns the defined VM, readiness "booting". finishCreate(), later and
    // on any thread, makes the overlay, starts the VM and clears the record, or, when a step
    // fails, undoes all of it as create() does (audited as "create" either way). Meanwhile the
    // VM is listed with readiness "booting", recoverInterrupted() leaves it alone (a crash leaves
    // the record for the next process to roll back), a delete may remove it (finishCreate then
    // answers Conflict and leaves nothing) and a start may start it (finishCreate then only
    // clears the record). `request.start` must be true. Every successful beginCreate() needs one
    // finishCreate() or abandonCreate() (removes the VM); NotFound for a name with none pending.
    Result<VmView> beginCreate(const CreateVmRequest& request, const std::string& actor);
    Result<VmView> finishCreate(const std::string& name, const std::string& actor);
    Status abandonCreate(const std::string& name, const std::string& actor);
    // Whether `name` was begun by beginCreate() and is waiting for its finishCreate().
    bool startDeferred(const std::string& name) const;

    // Conflict when already running; resumes a paused VM.
    Status start(const std::string& name, const std::string& actor);
    // ACPI shutdown, forced after `timeout` (default: the site's stop_timeout_s). A stopped VM
    // is a no-op. When the VM's template has snapshot_on_stop (and the VM is no pool's), a
    // snapshot is taken first; its failure is reported (and audited) but the VM still stops.
    Result<StopReport> stop(const std::string& name, const std::string& actor,
                            std::optional<std::chrono::milliseconds> timeout = std::nullopt);
    // Force off (no state saved). A stopped VM is a no-op.
    Status forceStop(const std::string& name, const std::string& actor);
    Status restart(const std::string& name, const std::string& actor);
    // Managed save (memory state to disk, domain off); a later start() restores it.
    Status save(const std::string& name, const std::string& actor);
    // Stops (forced) when running, then removes the domain and its overlay.
    Status remove(const std::string& name, const std::string& actor);
    // Snapshots (vm_snapshots.cpp). Names of new snapshots follow validateName; existing ones
    // are looked up by validateExistingName. Newest last.
    Result<std::vector<SnapshotInfo>> snapshots(const std::string& vm);
    // Memory + disk while the VM runs, disk only while it is off. Conflict when the name is taken
    // and !replace, or when the template's snapshot_limit is reached.
    Result<SnapshotInfo> createSnapshot(const std::string& vm, const SnapshotRequest& request, const std::string& actor);
    // Restores the snapshot and the power state it recorded, unless `start` overrides it.
    // Returns the VM afterwards.
    Result<VmView> revertSnapshot(const std::string& vm, const std::string& snapshot, std::optional<bool> start,
                                  const std::string& actor);
    Status deleteSnapshot(const std::string& vm, const std::string& snapshot, const std::string& actor);

    // The template of a managed VM, or null (no template recorded, or no longer configured).
    const TemplateConfig* templateOf(const DomainInfo& info) const;

    // Makes a foreign domain Paddock's (created_at, created_by, adopted_at, and `owner` when
    // not empty in its metadata): from then on it is listed and acted on like any other.
    // Conflict when Paddock manages it already; NotFound when there is no such domain.
    Result<VmView> adopt(const std::string& name, const std::string& owner, const std::string& actor);

    // Finishes what a crash interrupted: every VM outside a pool (a PoolManager recovers its
    // own) whose intent record survived is removed with its overlay, so an unanswered create is
    // rolled back and a delete completed. Records of this instance are acted on at once (work in
    // progress holds the VM's lock, and the record is re-read under it); another instance's
    // only once older than `foreignGrace`, as that paddockd may still be at work. Returns how
    // many VMs were removed; the first error when one could not be (the rest are still tried).
    Result<size_t> recoverInterrupted(std::chrono::seconds foreignGrace);
    // Whether `metadata` carries an intent record that recoverInterrupted would act on now.
    bool interrupted(const Metadata& metadata, std::chrono::seconds foreignGrace) const;
    const std::string& instance() const noexcept { return instance_; }

    // Set once, before the service is used. Called on the operation's thread with the VM's lock
    // held: it must only record and return (never call back into this service or the Site).
    void setPowerObserver(PowerObserver observer) { powerObserver_ = std::move(observer); }
    // How guests reach paddockd (SiteFacts::guest_url); set once before the service is used.
    void setGuestUrl(std::string url) { guestUrl_ = std::move(url); }
    // Overrides the graceful-stop timeout (tests).
    void setStopTimeout(std::chrono::milliseconds timeout) { stopTimeout_ = timeout; }

private:
    // What a create has made so far, between its steps.
    struct CreateDraft {
        CreateVmRequest request;
        DomainPlan plan;
        std::optional<PortReservation> port;  // held until the draft goes (by then the port is in indexed metadata)
        std::string overlay;                  // the volume made, once it exists
        std::string uuid;                     // once the site remembers the domain
        bool defined = false;
        bool running = false;  // started behind the create's back (a start while deferred)
    };
    // The steps of create() under the VM's lock: checks, plan, port, definition (and the overlay
    // when it must come first), then the overlay, the start, clearing the record. A failing
    // step undoes what was made (undoCreate) and returns its error.
    Result<CreateDraft> defineLocked(const CreateVmRequest& request, const std::string& actor, BackendConnection& conn);
    Result<VmView> completeLocked(CreateDraft& draft, const std::string& actor, BackendConnection& conn);
    // Makes the draft's overlay (or restores its disk); `attach`: the definition does not name
    // it yet (backends without volume_path).
    Status makeOverlay(BackendConnection& conn, CreateDraft& draft, bool attach);
    Error undoCreate(BackendConnection& conn, const CreateDraft& draft, Error e);
    std::optional<CreateDraft> takeDeferred(const std::string& name);
    // The steps of remove() after the lock is taken, recovery's too.
    Status removeLocked(BackendConnection& conn, const DomainInfo& info);
    void markIntent(Metadata& metadata, const char* intent) const;
    VmView toView(DomainInfo info);
    // Ends readiness, runs `op` (destroy or managed save) on a running VM, re-reads it: the
    // shared body of forceStop and save. `skipWhenOff`: a VM that is off already is a no-op.
    template <class Op>
    Status powerOff(const std::string& name, const std::string& action, const std::string& actor, bool skipWhenOff,
                    Op op);
    // Every operation's one exit: counted, activity touched, audited.
    template <class R>
    R audited(const std::string& actor, const std::string& vm, const std::string& action, R result,
              std::string target = {}) {
        metrics_.countOperation(site_.name(), action, result.ok());
        // Successes only: a failed operation may name a VM that does not exist (the map would
        // grow with every name a client tries). A delete, and a recovery (audited only when it
        // removed the VM), leave no VM to have had activity.
        if (result.ok()) {
            if (action == "delete" || action == "recover")
                metrics_.forget(site_.name(), vm);
            else
                metrics_.touch(site_.name(), vm);
        }
        return audit_.record(actor, site_.name(), vm, action, std::move(result), std::move(target));
    }
    // snapshot_on_stop, under the VM's lock while it still runs (vm_snapshots.cpp).
    std::optional<StopSnapshot> snapshotBeforeStop(BackendConnection& conn, const DomainInfo& info,
                                                   const std::string& actor);

    void notifyPower(const std::string& vm, PowerChange change, const std::string& actor) const {
        if (powerObserver_) powerObserver_(vm, change, actor);
    }
    Status waitForState(BackendConnection& conn, const std::string& name, DomainState wanted,
                        std::chrono::milliseconds timeout);

    Site& site_;
    AuditLog& audit_;
    CoreMetrics& metrics_;
    std::string instance_;
    std::chrono::milliseconds stopTimeout_;
    PowerObserver powerObserver_;
    std::string guestUrl_;
    mutable std::mutex deferredMutex_;
    std::map<std::string, CreateDraft> deferred_;  // begun, waiting for finishCreate()
};

}  // namespace paddock
