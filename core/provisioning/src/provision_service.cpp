#include "paddock/core/provision_service.hpp"

#include "paddock/core/json_writer.hpp"
#include "paddock/core/ssh_client.hpp"
#include "paddock/core/vm_metadata.hpp"

#include <algorithm>

namespace paddock {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kPending = "pending";
constexpr const char* kRunning = "running";
constexpr const char* kSucceeded = "succeeded";
constexpr const char* kFailed = "failed";
// How long a waiting run sleeps between looks at its cancel flag.
constexpr std::chrono::milliseconds kCancelPoll{250};
// Host-key login before a run.
constexpr std::chrono::seconds kProbeTimeout{30};

std::string summaryJson(const ProvisionSummary& s, const std::string& playbook) {
    JsonWriter json;
    json.beginObject()
        .field("playbook", playbook)
        .field("exit_code", s.exit_code)
        .field("ok", s.ok)
        .field("changed", s.changed)
        .field("failed", s.failed)
        .field("unreachable", s.unreachable)
        .field("skipped", s.skipped)
        .field("duration_s", s.duration_s)
        .endObject();
    return json.str();
}

// "TASK [Install packages] ****" -> "Install packages"; "" for other lines.
std::string taskOf(std::string_view line) {
    constexpr std::string_view kTask = "TASK [";
    if (line.substr(0, kTask.size()) != kTask) return {};
    const size_t end = line.rfind(']');
    if (end == std::string_view::npos || end < kTask.size()) return {};
    return std::string(line.substr(kTask.size(), end - kTask.size()));
}

}  // namespace

ProvisionService::ProvisionService(ProvisioningConfig config, std::shared_ptr<ProvisionerPlugin> plugin,
                                   std::string pluginProblem, VmServiceLookup vms, OperationRegistry& operations,
                                   AuditLog& audit, CoreMetrics& metrics, SecretStore& secret)
    : config_(std::move(config)),
      plugin_(std::move(plugin)),
      pluginProblem_(std::move(pluginProblem)),
      vms_(std::move(vms)),
      operations_(operations),
      audit_(audit),
      metrics_(metrics),
      secret_(secret) {
    if (!plugin_ && pluginProblem_.empty())
        pluginProblem_ = config_.plugin.empty() ? "provisioning is off (provisioning.plugin is empty)"
                                                : "no provisioner plugin '" + config_.plugin + "' is loaded";
}

ProvisionService::~ProvisionService() { stop(); }

std::vector<std::string> ProvisionService::start(const std::vector<SiteConfig>& sites) {
    std::vector<std::string> warnings;
    if (plugin_) {
        std::vector<std::string> checked;
        for (const auto& site : sites) {
            for (const auto& tmpl : site.templates) {
                if (!tmpl.provision) continue;
                const std::string& playbook = tmpl.provision->playbook;
                if (std::find(checked.begin(), checked.end(), playbook) != checked.end()) continue;
                checked.push_back(playbook);
                auto version = plugin_->check(config_.settings, playbook);
                if (version) {
                    std::lock_guard lock(mutex_);
                    version_ = version.value();
                } else if (version.error().code != ErrorCode::Unsupported) {
                    warnings.push_back("provisioning for template " + tmpl.name + " (site " + site.name +
                                       ") will fail: " + version.error().message);
                }
            }
        }
    }
    std::lock_guard lock(mutex_);
    if (workers_.empty() && !stopping_) {
        for (uint32_t i = 0; i < std::max<uint32_t>(1, config_.max_parallel); ++i)
            workers_.emplace_back([this] { workerLoop(); });
    }
    return warnings;
}

void ProvisionService::stop() {
    std::deque<Job> abandoned;
    std::vector<std::thread> workers;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        abandoned.swap(queue_);
        workers.swap(workers_);
    }
    wake_.notify_all();
    for (const Job& job : abandoned) {
        operations_.fail(job.operation, makeError(ErrorCode::Unavailable, "paddockd stopped before the run started"));
        markVm(job, kFailed, "paddockd stopped before the run started");
    }
    for (auto& t : workers) t.join();
}

bool ProvisionService::provisionsOnCreate(const TemplateConfig* tmpl) const {
    return tmpl != nullptr && tmpl->provision && tmpl->provision->on_create;
}

Result<ProvisionPolicy> ProvisionService::policyFor(const std::string& site, const std::string& vm) {
    auto service = vms_(site);
    if (!service) return std::move(service).error();
    auto view = service.value()->get(vm);
    if (!view) return std::move(view).error();
    return policyOf(*service.value(), view.value());
}

Result<ProvisionPolicy> ProvisionService::policyOf(const VmService& service, const VmView& view) const {
    const std::string& vm = view.domain.name;
    const TemplateConfig* tmpl = service.templateOf(view.domain);
    if (tmpl == nullptr || !tmpl->provision)
        return makeError(ErrorCode::Conflict, "VM '" + vm + "' has no provisioning: its template " +
                                                  (view.template_name.empty() ? std::string("(none)")
                                                                              : "'" + view.template_name + "'") +
                                                  " has no provision: section");
    if (!plugin_) return makeError(ErrorCode::Unavailable, "cannot provision VM '" + vm + "': " + pluginProblem_);
    return *tmpl->provision;
}

Result<ProvisionService::Job> ProvisionService::prepare(const std::string& site, const std::string& vm,
                                                        const std::string& actor) {
    auto service = vms_(site);
    if (!service) return std::move(service).error();
    auto view = service.value()->get(vm);
    if (!view) return std::move(view).error();
    if (auto policy = policyOf(*service.value(), view.value()); !policy) return std::move(policy).error();
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return makeError(ErrorCode::Unavailable, "paddockd is stopping");
    }
    // One run per VM at a time: a second would race the first over the same machine.
    OperationFilter mine;
    mine.vm = vm;
    mine.kind = kOperationProvision;
    for (const Operation& op : operations_.list(mine)) {
        if (op.status == Operation::Status::Pending && op.site == service.value()->site().name())
            return makeError(ErrorCode::Conflict,
                             "VM '" + vm + "' is being provisioned already (operation " + op.id + ")");
    }
    // No pool on the record even for a pool's fill: a pool's recovery would settle it as one of
    // its own allocations.
    OperationSpec spec{kOperationProvision, service.value()->site().name(), {}, view->owner, vm, true};
    auto op = operations_.begin(spec);
    if (!op) return std::move(op).error();
    Job job{op->id, spec.site, vm, actor};
    markVm(job, kPending, "");
    return job;
}

Result<Operation> ProvisionService::enqueue(const std::string& site, const std::string& vm, const std::string& actor) {
    auto job = prepare(site, vm, actor);
    if (!job) return std::move(job).error();
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(job.value());
    }
    wake_.notify_one();
    return operations_.get(job->operation);
}

Result<Operation> ProvisionService::runNow(const std::string& site, const std::string& vm, const std::string& actor) {
    auto job = prepare(site, vm, actor);
    if (!job) return std::move(job).error();
    execute(job.value());
    return operations_.get(job->operation);
}

void ProvisionService::workerLoop() {
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        execute(job);
    }
}

bool ProvisionService::cancelled(const std::string& operation) const {
    return isStopping() || operations_.cancelRequested(operation);
}

void ProvisionService::markVm(const Job& job, const char* state, const std::string& error) {
    auto service = vms_(job.site);
    if (!service) return;
    // Best effort: a VM deleted meanwhile has no metadata left to carry it.
    (void)service.value()->site().updateMetadata(
        job.vm, {{meta::kProvisioning, state}, {meta::kProvisioningError, error},
                 {meta::kProvisioningOperation, job.operation}});
}

void ProvisionService::execute(const Job& job) {
    // Cancelled while queued: the registry ended it already.
    if (const auto op = operations_.get(job.operation); !op || op->status != Operation::Status::Pending) {
        markVm(job, kFailed, op && op->error ? op->error->message : "cancelled");
        return;
    }
    const auto started = Clock::now();
    {
        std::lock_guard lock(mutex_);
        ++running_;
    }
    operations_.start(job.operation);
    markVm(job, kRunning, "");

    std::string playbook;
    Result<ProvisionOutcome> outcome = [&]() -> Result<ProvisionOutcome> {
        auto service = vms_(job.site);
        if (!service) return std::move(service).error();
        // Read now, not when queued: the VM may have stopped or gone meanwhile.
        auto view = service.value()->get(job.vm);
        if (!view) return std::move(view).error();
        auto policy = policyOf(*service.value(), view.value());
        if (!policy) return std::move(policy).error();
        playbook = policy->playbook;
        return runJob(job, policy.value(), *service.value(), view.value());
    }();
    Status status = outcome ? outcome->status : Status(outcome.error());
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();

    if (status) {
        operations_.finish(job.operation, "result", summaryJson(outcome->summary, playbook));
        markVm(job, kSucceeded, "");
    } else if (const bool stopping = isStopping(); stopping || operations_.cancelRequested(job.operation)) {
        Error e = status.error();
        e.message = (stopping ? "paddockd stopped during the run: " : "cancelled: ") + e.message;
        operations_.cancelled(job.operation, e);
        markVm(job, kFailed, e.message);
        status = e;
    } else {
        if (outcome) {
            // The recipe's counts are worth keeping next to the error.
            operations_.appendOutput(job.operation,
                                     "paddock: " + status.error().message + " (" +
                                         summaryJson(outcome->summary, std::string()) + ")");
        }
        operations_.fail(job.operation, status.error());
        markVm(job, kFailed, status.error().message);
    }
    metrics_.countOperation(job.site, "provision", status.ok());
    metrics_.observeOperation("provision", seconds);
    (void)audit_.record(job.actor, job.site, job.vm, "provision", status, job.operation);
    std::lock_guard lock(mutex_);
    --running_;
}

bool ProvisionService::isStopping() const {
    std::lock_guard lock(mutex_);
    return stopping_;
}

Result<ProvisionOutcome> ProvisionService::runJob(const Job& job, const ProvisionPolicy& policy, VmService& vms,
                                                  const VmView& view) {
    Site& site = vms.site();
    const std::string& id = job.operation;
    if (!domainIsActive(view.domain.state))
        return makeError(ErrorCode::Conflict, "VM '" + job.vm + "' is not running (start it first)");

    if (!site.probesSsh())
        return makeError(ErrorCode::Unavailable, "site '" + job.site +
                                                     "' gives its VMs no network (network_mode: none): nothing to log into");
    // The guest must answer SSH first; a fresh VM takes its boot time.
    operations_.setProgress(id, "waiting for SSH");
    const auto deadline = Clock::now() + std::chrono::seconds(site.config().ready_timeout_s);
    for (;;) {
        if (cancelled(id)) return makeError(ErrorCode::Conflict, "cancelled while waiting for the VM to answer SSH");
        const ReadinessInfo info = site.readiness().waitSettled(job.vm, kCancelPoll);
        if (info.state == Readiness::Ready) break;
        if (info.state == Readiness::Unreachable)
            return makeError(ErrorCode::Unavailable, "VM '" + job.vm + "' does not answer SSH: " + info.error);
        if (info.state == Readiness::Stopped)
            return makeError(ErrorCode::Conflict, "VM '" + job.vm + "' stopped before it could be provisioned");
        if (Clock::now() >= deadline)
            return makeError(ErrorCode::Timeout, "VM '" + job.vm + "' did not answer SSH within " +
                                                     std::to_string(site.config().ready_timeout_s) + " s");
    }

    // Paddock's own login reads the host key; the pinned one (if any) must match, and the
    // provisioner then trusts that key and no other.
    operations_.setProgress(id, "reading the host key");
    auto endpoint = site.sshEndpoint(job.vm);
    if (!endpoint) return std::move(endpoint).error();
    auto hostKey = probeSsh(endpoint.value(), kProbeTimeout);
    if (!hostKey) return std::move(hostKey).error();
    if (endpoint->pinned_host_key.empty()) {
        if (Status pinned = site.updateMetadata(job.vm, {{meta::kHostKey, hostKey->fingerprint}}); !pinned)
            return pinned.error();
    }
    ProvisionRun run;
    run.target = {job.site,
                  job.vm,
                  endpoint->host,
                  endpoint->port,
                  endpoint->user,
                  endpoint->private_key_path,
                  knownHostsLine(endpoint->host, endpoint->port, hostKey.value())};
    if (run.target.known_hosts_line.empty())
        return makeError(ErrorCode::Unavailable, "VM '" + job.vm + "' presented a host key of an unknown type");
    run.recipe = policy.playbook;
    run.variables_json = policy.extra_vars_json;
    run.settings = config_.settings;
    run.timeout = std::chrono::seconds(policy.timeout_s);
    const SecretBytes secret = secret_.copy();
    run.become_secret = secret.bytes();

    operations_.setProgress(id, "running " + policy.playbook);
    const std::string_view secretText = secret.view();
    return plugin_->run(
        run,
        [&](int, std::string_view line) {
            // Whatever the plugin did, no line of ours carries the password.
            std::string clean = redactSecret(line, secretText);
            if (std::string task = taskOf(clean); !task.empty()) operations_.setProgress(id, std::move(task));
            operations_.appendOutput(id, clean);
        },
        [&] { return cancelled(id); });
}

size_t ProvisionService::recoverInterrupted(const std::string& site) {
    auto service = vms_(site);
    if (!service) return 0;
    auto listed = service.value()->list();
    if (!listed) return 0;
    size_t marked = 0;
    for (const VmView& vm : listed.value()) {
        if (vm.provisioning != kPending && vm.provisioning != kRunning) continue;
        auto op = operations_.get(vm.provisioning_operation);
        if (op && op->status == Operation::Status::Pending) continue;
        const std::string error = op && op->error ? op->error->message : std::string(kInterruptedByRestart);
        markVm(Job{vm.provisioning_operation, site, vm.domain.name, {}}, kFailed, error);
        ++marked;
    }
    return marked;
}

ProvisionerStatus ProvisionService::status() const {
    ProvisionerStatus s;
    s.plugin = config_.plugin;
    s.loaded = plugin_ != nullptr;
    s.problem = plugin_ ? std::string() : pluginProblem_;
    s.secret_set = secret_.isSet();
    s.secret_set_at = secret_.setAt();
    s.max_parallel = config_.max_parallel;
    std::lock_guard lock(mutex_);
    s.version = version_;
    s.queued = queue_.size();
    s.running = running_;
    return s;
}

}  // namespace paddock
