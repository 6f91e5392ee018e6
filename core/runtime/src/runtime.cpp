#include "paddock/core/runtime.hpp"

#include <algorithm>

#include "paddock/core/atomic_file.hpp"
#include "paddock/core/backend.hpp"
#include "paddock/core/backend_requirements.hpp"
#include "paddock/core/ids.hpp"
#include "paddock/core/recorder.hpp"

#include <boost/filesystem.hpp>

#include <set>

namespace paddock {

namespace {

constexpr const char* kInstanceIdFile = "instance_id";
constexpr const char* kOperationsFile = "operations.json";

bool isInstanceId(const std::string& text) {
    if (text.size() != 28 || text.rfind("pdk-", 0) != 0) return false;
    return text.find_first_not_of("0123456789abcdef", 4) == std::string::npos;
}

// This paddockd's name in intent records: made once, then the same for every restart.
Result<std::string> ensureInstanceId(const std::string& stateDir) {
    const std::string path = (boost::filesystem::path(stateDir) / kInstanceIdFile).string();
    if (auto text = readWholeFile(path); text) {
        std::string id = text.value().substr(0, text.value().find_first_of(" \r\n"));
        if (isInstanceId(id)) return id;
        // Torn or edited: a new name only delays the recovery of this instance's old records.
    } else if (text.error().code != ErrorCode::NotFound) {
        return std::move(text).error();
    }
    const std::string id = randomId("pdk-", 24);
    if (Status written = writeFileAtomically(path, id + "\n", 0644); !written) return std::move(written).error();
    return id;
}

}  // namespace

Runtime::Runtime(Config config) : config_(std::move(config)) {}

Runtime::~Runtime() {
    // Pools stop before the sites they use; sites stop their threads before the audit log
    // and metrics they write to go away.
    watch_.reset();
    creates_.reset();
    backups_.reset();
    // A pool's fill may be inside a run: cancelled first, so the pool's stop does not wait it out.
    if (provisioning_) provisioning_->stop();
    pools_.clear();
    provisioning_.reset();
    sites_.clear();
}

Result<std::unique_ptr<Runtime>> Runtime::create(const Config& config) {
    std::unique_ptr<Runtime> rt(new Runtime(config));
    try {
        rt->audit_ = std::make_unique<AuditLog>((boost::filesystem::path(config.paths.log_dir) / "audit.log").string());
    } catch (const std::exception& e) {
        return makeError(ErrorCode::Unavailable, e.what());
    }
    auto identity = ensureSshIdentity(config.paths.state_dir);
    if (!identity) {
        Error e = std::move(identity).error();
        e.message = "paths.state_dir: " + e.message;
        return e;
    }
    rt->identity_ = identity.value();
    auto instance = ensureInstanceId(config.paths.state_dir);
    if (!instance) {
        Error e = std::move(instance).error();
        e.message = "paths.state_dir: " + e.message;
        return e;
    }
    rt->instance_ = instance.value();
    rt->operations_.setObserver([events = rt->events_](const Operation& op) {
        if (op.vm.empty()) return;
        VmEvent e;
        e.site = op.site;
        e.vm = op.vm;
        e.kind = "operation";
        e.event = std::string(operationStateName(op));
        e.detail = op.kind + (op.error ? ": " + op.error->message : std::string());
        e.operation = op.id;
        e.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
        events->publish(std::move(e));
    });
    if (auto loaded =
            rt->operations_.persistTo((boost::filesystem::path(config.paths.state_dir) / kOperationsFile).string());
        !loaded) {
        rt->warnings_.push_back("operations: " + loaded.error().message);
    }
    {
        std::vector<std::string> roots{(boost::filesystem::path(config.paths.state_dir) / "backups").string()};
        for (const auto& site : config.sites)
            for (const auto& t : site.templates)
                if (!t.backups.directory.empty() &&
                    std::find(roots.begin(), roots.end(), t.backups.directory) == roots.end())
                    roots.push_back(t.backups.directory);
        rt->backupStore_ = std::make_unique<BackupStore>(std::move(roots));
        rt->backups_ = std::make_unique<BackupService>(*rt->backupStore_, rt->operations_, *rt->audit_, rt->metrics_);
        rt->creates_ = std::make_unique<CreateQueue>(rt->operations_);
    }
    for (const auto& dir : config.paths.plugin_dirs) {
        if (auto loaded = rt->plugins_.loadDirectory(dir); !loaded) {
            Error e = std::move(loaded).error();
            e.message = "paths.plugin_dirs: " + e.message;
            return e;
        }
    }
    for (const auto& failure : rt->plugins_.failures()) rt->warnings_.push_back(failure.message);
    std::shared_ptr<RecorderPlugin> recorderPlugin;
    auto recorder = rt->plugins_.recorder(config.recording.plugin);
    if (recorder) {
        recorderPlugin = recorder.value();  // with recording off, still what lists and reads earlier ones
    } else if (config.recording.enabled) {
        Error e = std::move(recorder).error();
        e.message = "recording.plugin: " + e.message + " (or set recording.enabled: false)";
        return e;
    }
    const std::string castDir = config.recording.directory.empty()
                                    ? (boost::filesystem::path(config.paths.log_dir) / "ssh").string()
                                    : config.recording.directory;
    if (config.recording.enabled) {
        // Created now (0750, like the plugin would) so a directory that cannot exist stops the start.
        boost::system::error_code ec;
        if (boost::filesystem::create_directories(castDir, ec) && !ec)
            boost::filesystem::permissions(castDir, boost::filesystem::perms(0750), ec);
        if (ec)
            return makeError(ErrorCode::Unavailable,
                             "recording.directory: cannot create " + castDir + ": " + ec.message());
    }
    rt->recorder_ = std::make_unique<SessionRecorder>(
        std::move(recorderPlugin), castDir, config.recording.record_input, rt->metrics_.registry().get(),
        config.recording.enabled ? SessionRecorder::Mode::Record : SessionRecorder::Mode::ReadOnly);
    for (const auto& site : config.sites) {
        auto plugin = rt->plugins_.backend(site.backend);
        if (!plugin) {
            Error e = std::move(plugin).error();
            e.message = "site '" + site.name + "': " + e.message;
            return e;
        }
        if (auto covered = requireBackendCovers(site, static_cast<size_t>(&site - config.sites.data()), *plugin.value());
            !covered)
            return std::move(covered).error();
        SiteEntry entry;
        entry.site = std::make_unique<Site>(site, plugin.value(), rt->events_, rt->identity_, rt->metrics_);
        if (!plugin.value()->keepsMetadata()) {
            // The backend keeps no metadata (libvirt-hyperv): Paddock keeps it, per site.
            const std::string path =
                (boost::filesystem::path(config.paths.state_dir) / "metadata" / (site.name + ".json")).string();
            auto store = MetadataStore::open(path);
            if (!store) {
                Error e = std::move(store).error();
                e.message = "site '" + site.name + "': " + e.message;
                return e;
            }
            rt->warnings_.push_back("site '" + site.name + "': backend " + site.backend +
                                    " keeps no metadata; Paddock keeps it in " + path);
            entry.site->keepMetadataIn(std::move(store).value());
        }
        entry.site->beginConnect();
        entry.vms = std::make_unique<VmService>(*entry.site, *rt->audit_, rt->metrics_, rt->instance_);
        // QEMU's user-mode gateway 10.0.2.2 is the host's loopback, where paddockd listens.
        entry.vms->setGuestUrl(!config.watch.guest_url.empty() ? config.watch.guest_url
                               : site.network_mode == NetworkMode::User
                                   ? std::string(config.server.tls.enabled() ? "https" : "http") + "://10.0.2.2:" +
                                         std::to_string(config.server.port)
                                   : std::string());
        entry.recovery = std::make_unique<VmRecovery>(*entry.vms);
        entry.recovery->start();
        rt->sites_.push_back(std::move(entry));
    }
    {
        // Every site connects at once, and the wait for them is bounded: a hung host delays the
        // start by at most Site::kFirstConnectWait and then stays out of the way (503 for it).
        const auto deadline = std::chrono::steady_clock::now() + Site::kFirstConnectWait;
        for (const auto& e : rt->sites_) {
            if (auto connected = e.site->awaitConnect(deadline); !connected) {
                rt->warnings_.push_back("site '" + e.site->name() + "': " + connected.error().message +
                                        " (retrying in the background)");
            }
        }
    }
    rt->poolMetrics_ = std::make_unique<PoolMetrics>(*rt->metrics_.registry());
    std::set<std::string> poolNames;
    for (const auto& site : config.sites)
        for (const auto& pool : site.pools) poolNames.insert(pool.name);
    for (const auto& pool : config.pools) poolNames.insert(pool.name);
    rt->operations_.failInterruptedOutside(poolNames);
    {
        std::shared_ptr<ProvisionerPlugin> provisioner;
        std::string problem;
        if (!config.provisioning.plugin.empty()) {
            auto found = rt->plugins_.provisioner(config.provisioning.plugin);
            if (found)
                provisioner = found.value();
            else
                problem = "provisioning.plugin: " + found.error().message;
        }
        bool wanted = false;
        for (const auto& site : config.sites)
            for (const auto& t : site.templates) wanted = wanted || t.provision.has_value();
        if (!problem.empty() && wanted) rt->warnings_.push_back(problem);
        Runtime* self = rt.get();
        rt->provisioning_ = std::make_unique<ProvisionService>(
            config.provisioning, std::move(provisioner), problem,
            [self](const std::string& site) { return self->vms(site); }, rt->operations_, *rt->audit_, rt->metrics_,
            rt->secret_);
        for (auto& warning : rt->provisioning_->start(config.sites)) rt->warnings_.push_back(std::move(warning));
        for (const auto& site : config.sites) rt->provisioning_->recoverInterrupted(site.name);
    }
    // One site's pool of `pool`: provisioned before it turns idle when its template says so.
    const auto makeMember = [&rt](const PoolConfig& pool, size_t i) {
        const SiteConfig& siteConfig = rt->config_.sites[i];
        const SiteEntry& entry = rt->sites_[i];
        PoolManager::Options options;
        const TemplateConfig* tmpl = findTemplate(siteConfig, pool.template_name);
        if (rt->provisioning_->provisionsOnCreate(tmpl)) {
            ProvisionService* provisioning = rt->provisioning_.get();
            options.prepare = [provisioning, site = siteConfig.name](const std::string& vm) -> Status {
                auto ran = provisioning->runNow(site, vm, "system");
                if (!ran) return std::move(ran).error();
                if (ran->status != Operation::Status::Done)
                    return ran->error ? *ran->error : makeError(ErrorCode::Internal, "provisioning did not succeed");
                return {};
            };
        }
        return std::make_unique<PoolManager>(pool, *entry.site, *entry.vms, *rt->audit_, *rt->poolMetrics_,
                                             rt->operations_, options);
    };
    for (size_t i = 0; i < config.sites.size(); ++i) {
        for (const auto& pool : config.sites[i].pools) {
            rt->pools_.push_back(makeMember(pool, i));
            rt->pools_.back()->start();
        }
    }
    for (const auto& pool : config.pools) {
        std::vector<std::unique_ptr<PoolManager>> members;
        for (const SiteConfig* site : poolSites(config, pool)) {
            const auto i = static_cast<size_t>(site - config.sites.data());
            members.push_back(makeMember(pool, i));
        }
        rt->pools_.push_back(std::make_unique<PoolGroup>(pool, config.placement.policy, std::move(members)));
        rt->pools_.back()->start();
    }
    std::vector<WatchService::SiteServices> watched;
    for (auto& e : rt->sites_) watched.push_back({e.site.get(), e.vms.get()});
    rt->watch_ = std::make_unique<WatchService>(std::move(watched), config.watch, config.exhibit, *rt->audit_,
                                                rt->metrics_, rt->events_);
    rt->watch_->start();
    return rt;
}

Result<Site*> Runtime::site(const std::string& name) {
    return entry(name).map([](const SiteEntry* e) { return e->site.get(); });
}

Result<VmService*> Runtime::vms(const std::string& site) {
    return entry(site).map([](const SiteEntry* e) { return e->vms.get(); });
}

Result<const Runtime::SiteEntry*> Runtime::entry(const std::string& name) const {
    if (sites_.empty()) return makeError(ErrorCode::Unavailable, "no site is configured");
    if (name.empty()) return &sites_.front();
    std::string known;
    for (const auto& e : sites_) {
        if (e.site->name() == name) return &e;
        known += (known.empty() ? "" : ", ") + e.site->name();
    }
    return makeError(ErrorCode::NotFound, "unknown site '" + name + "' (known: " + known + ")");
}

std::vector<Site*> Runtime::sites() {
    std::vector<Site*> out;
    for (const auto& e : sites_) out.push_back(e.site.get());
    return out;
}

Result<HotPool*> Runtime::pool(const std::string& name) {
    std::string known;
    for (const auto& p : pools_) {
        if (p->config().name == name) return p.get();
        known += (known.empty() ? "" : ", ") + p->config().name;
    }
    return makeError(ErrorCode::NotFound,
                     "unknown pool '" + name + "' (known: " + (known.empty() ? "none" : known) + ")");
}

std::vector<HotPool*> Runtime::pools() {
    std::vector<HotPool*> out;
    for (const auto& p : pools_) out.push_back(p.get());
    return out;
}

Result<HotPool*> Runtime::poolOfLease(const std::string& leaseId) {
    for (const auto& p : pools_)
        if (p->lease(leaseId)) return p.get();
    return makeError(ErrorCode::NotFound, "unknown lease '" + leaseId + "'");
}

}  // namespace paddock
