// Provisioning: configuring a VM after it is made by running its template's recipe (`provision:`,
// config.hpp ProvisionPolicy) through the provisioner plugin (pdk_provisioner.h), as an
// operation ("provision", operations.hpp) that can be polled, listed, followed line by line and
// cancelled.
//
// A run: waits until the VM answers SSH (readiness), logs in once with Paddock's key to read its
// host key (refused when it differs from the pinned one; pinned when none was), hands the plugin
// that key as the only one to trust, Paddock's key, the recipe, the template's extra_vars and the
// become password from the SecretStore (a wiped copy for the run), and records the outcome:
//  - the operation: state, progress (the task being run), output (every line redacted of the
//    password, whatever the plugin did), result (the recipe's counts) or error;
//  - the VM's metadata: meta::kProvisioning (pending, running, succeeded, failed),
//    kProvisioningError, kProvisioningOperation, so listings show it and a restart keeps it
//    (a run a restart interrupted reads as failed: recoverInterrupted);
//  - the audit log (action "provision"), the operation metrics of CoreMetrics.
// The password appears in none of them.
//
// Threading: thread-safe. enqueue() returns at once; `max_parallel` worker threads run the
// queue. runNow() runs on the caller's thread (the compatibility create, a pool's fill), outside
// that limit. stop() (or the destructor) cancels what runs, fails what waits and joins; it must
// run before the sites, registry and audit log go.
#pragma once

#include "paddock/core/audit_log.hpp"
#include "paddock/core/config.hpp"
#include "paddock/core/metrics.hpp"
#include "paddock/core/operations.hpp"
#include "paddock/core/provisioner.hpp"
#include "paddock/core/result.hpp"
#include "paddock/core/secret_store.hpp"
#include "paddock/core/vm_service.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace paddock {

// What GET /api/v1/provisioner shows.
struct ProvisionerStatus {
    std::string plugin;  // configured id; empty: provisioning is off
    bool loaded = false;
    std::string version;  // the plugin's check(): the tool it found
    std::string problem;  // why runs cannot start (plugin missing, tool missing); empty when fine
    bool secret_set = false;
    std::optional<SystemTime> secret_set_at;
    size_t queued = 0;
    size_t running = 0;
    uint32_t max_parallel = 0;
};

class ProvisionService {
public:
    using VmServiceLookup = std::function<Result<VmService*>(const std::string& site)>;

    // `plugin` may be null (provisioning off, or its plugin failed to load: `pluginProblem` says
    // why, and every request answers Unavailable with it).
    ProvisionService(ProvisioningConfig config, std::shared_ptr<ProvisionerPlugin> plugin, std::string pluginProblem,
                     VmServiceLookup vms, OperationRegistry& operations, AuditLog& audit, CoreMetrics& metrics,
                     SecretStore& secret);
    ~ProvisionService();
    ProvisionService(const ProvisionService&) = delete;
    ProvisionService& operator=(const ProvisionService&) = delete;

    // Runs the plugin's check() against every template's playbook and starts the workers.
    // Problems are returned as warnings (for the log), not failures: a run reports them again.
    std::vector<std::string> start(const std::vector<SiteConfig>& sites);
    void stop();

    // The template's provisioning policy of a VM, or why it cannot be provisioned: NotFound
    // (no such VM), Conflict (its template has no `provision:`), Unavailable (provisioning off or
    // its plugin not loaded).
    Result<ProvisionPolicy> policyFor(const std::string& site, const std::string& vm);
    // Whether VMs of `tmpl` are provisioned on create.
    bool provisionsOnCreate(const TemplateConfig* tmpl) const;

    // Queues a run (operation "provision", queued; the VM's metadata says pending). Errors as
    // policyFor, and Unavailable when the operation cannot be recorded or the service stops.
    Result<Operation> enqueue(const std::string& site, const std::string& vm, const std::string& actor);
    // Runs now on this thread and returns the ended operation (succeeded, failed or
    // cancelled); errors as enqueue for a run that could not even be recorded.
    Result<Operation> runNow(const std::string& site, const std::string& vm, const std::string& actor);

    // VMs whose metadata says a run is pending or running while the registry knows no such
    // operation still going (a restart interrupted it): marked failed. Returns how many.
    size_t recoverInterrupted(const std::string& site);

    ProvisionerStatus status() const;

private:
    struct Job {
        std::string operation;
        std::string site;
        std::string vm;
        std::string actor;
    };

    Result<Job> prepare(const std::string& site, const std::string& vm, const std::string& actor);
    void execute(const Job& job);
    // policyFor's verdict for a VM already looked up.
    Result<ProvisionPolicy> policyOf(const VmService& service, const VmView& view) const;
    // The steps of a run after the operation started (`view`: the VM as read at its start); its
    // error, or the plugin's outcome.
    Result<ProvisionOutcome> runJob(const Job& job, const ProvisionPolicy& policy, VmService& vms,
                                    const VmView& view);
    bool cancelled(const std::string& operation) const;
    bool isStopping() const;
    void workerLoop();
    void markVm(const Job& job, const char* state, const std::string& error);

    ProvisioningConfig config_;
    std::shared_ptr<ProvisionerPlugin> plugin_;
    std::string pluginProblem_;
    VmServiceLookup vms_;
    OperationRegistry& operations_;
    AuditLog& audit_;
    CoreMetrics& metrics_;
    SecretStore& secret_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> queue_;
    size_t running_ = 0;
    bool stopping_ = false;
    std::string version_;
    std::vector<std::thread> workers_;
};

}  // namespace paddock
