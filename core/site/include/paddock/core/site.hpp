// One hypervisor host as Paddock sees it: the per-site infrastructure every VM feature shares.
// A Site owns
//  - the link to the backend (SiteLink: reconnects by itself, 503 meanwhile),
//  - the domain view (DomainCache: listings cost no hypervisor round trip) and the cache of
//    Paddock's metadata by domain UUID,
//  - readiness tracking (ReadinessTracker: SSH with Paddock's key), fed by lifecycle events,
//  - the SSH forward port allocator, the per-VM locks, and template resolution,
// and publishes lifecycle, readiness and connection events on the EventHub.
// VmService, PoolManager, the terminal and the watchdog take a Site&; nothing else reaches
// into the link, the cache or the tracker.
//
// Thread-safe. The EventHub and CoreMetrics must outlive the Site; the destructor stops the
// link's monitor and events and the cache's refresher before anything else goes.
#pragma once

#include "paddock/core/backend.hpp"
#include "paddock/core/config.hpp"
#include "paddock/core/domain_cache.hpp"
#include "paddock/core/events.hpp"
#include "paddock/core/iso_time.hpp"
#include "paddock/core/metrics.hpp"
#include "paddock/core/placement.hpp"
#include "paddock/core/port_allocator.hpp"
#include "paddock/core/readiness.hpp"
#include "paddock/core/result.hpp"
#include "paddock/core/site_link.hpp"
#include "paddock/core/ssh_identity.hpp"
#include "paddock/core/vm_locks.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace paddock {

struct SiteStatus {
    std::string name;
    std::string backend;
    std::string uri;
    bool reachable = false;
    std::string error;  // why not, when not reachable
    HostInfo host;
    // Reachable and its backend pushes lifecycle events; false: the site polls (see
    // SiteConfig::poll_interval_ms).
    bool pushes_events = false;
};

// The host's capacity as last read (Site::resources()). Read off the request path: at connect
// and then at most every Site::kResourcesInterval by the domain view's refresher thread.
struct SiteResources {
    std::optional<HostResources> host;  // nullopt: never read on this connection (or unsupported)
    SystemTime checked_at{};            // when `host` was read
    std::string error;                  // why the last read failed ("" when it worked)
};

// Whether a template's files (base image, kernel, initrd) are on the site's host
// (BackendConnection::volumeInfo), as last checked (Site::templateChecks()).
struct TemplateCheck {
    std::string name;
    bool usable = true;     // false only when the backend said a file is not there
    std::string reason;     // why not usable; for a usable one what was not checked, else ""
    bool checked = false;   // false: not checked yet on this connection (then usable)
    SystemTime checked_at{};
};

// A host port reserved for one VM's SSH forward until the VM's metadata records it (then the
// port counts as in use through the metadata). Releases the reservation on destruction.
class PortReservation {
public:
    PortReservation(PortAllocator& ports, uint16_t port) : ports_(&ports), port_(port) {}
    PortReservation(PortReservation&& other) noexcept : ports_(other.ports_), port_(std::exchange(other.port_, 0)) {}
    PortReservation& operator=(PortReservation&&) = delete;
    ~PortReservation() {
        if (port_ != 0) ports_->release(port_);
    }
    uint16_t port() const noexcept { return port_; }

private:
    PortAllocator* ports_;
    uint16_t port_;
};

class Site {
public:
    Site(SiteConfig config, std::shared_ptr<BackendPlugin> backend, std::shared_ptr<EventHub> events,
         SshIdentity identity, CoreMetrics& metrics);
    ~Site();
    Site(const Site&) = delete;
    Site& operator=(const Site&) = delete;

    // Starts the domain view and connects (a failure is returned but not fatal: the link keeps
    // retrying); running VMs found there get their readiness probed. Waits for the first attempt
    // at most kFirstConnectWait: a hypervisor that does not answer is Unavailable, not a hang.
    Status connect();
    static constexpr std::chrono::seconds kFirstConnectWait{5};
    // connect() in two halves, so that many sites connect at once: beginConnect() starts the
    // view and the link's first attempt and returns; awaitConnect() waits for that attempt until
    // `deadline` (SiteLink::awaitFirstAttempt).
    void beginConnect();
    Status awaitConnect(std::chrono::steady_clock::time_point deadline);

    const SiteConfig& config() const noexcept { return config_; }
    const std::string& name() const noexcept { return config_.name; }
    const std::shared_ptr<EventHub>& events() const noexcept { return events_; }
    const SshIdentity& identity() const noexcept { return identity_; }

    // ---- the link -------------------------------------------------------------------------
    // The site's backend plugin (what it supports is known without a connection).
    const BackendPlugin& backend() const noexcept { return link_.plugin(); }
    // For a backend without metadata entries: where Paddock keeps its metadata instead
    // (SiteLink::keepMetadataIn). Call before connect().
    void keepMetadataIn(std::shared_ptr<MetadataStore> store) { link_.keepMetadataIn(std::move(store)); }
    // The live connection, or Unavailable while the hypervisor is unreachable.
    Result<std::shared_ptr<BackendConnection>> connection() { return link_.connection(); }
    // Connected and the backend says the connection is alive: the one meaning of "reachable".
    bool reachable();
    // Name, backend, URI, reachability (with the reason when not) and host facts (read once per
    // connection). Never waits on the hypervisor: isAlive() is local.
    SiteStatus status();
    // Sets paddock_site_connected{site} from reachable() (called when /metrics is read).
    void publishConnectionState();
    // Test hook: drop the connection as if the hypervisor went away.
    void dropConnectionForTest() { link_.dropForTest(); }

    // ---- host capacity and template files -------------------------------------------------
    // The last-known CPUs and memory of the host; never calls the hypervisor (a hung host must
    // not stall a request): read at connect and at most every kResourcesInterval after.
    SiteResources resources() const;
    static constexpr std::chrono::seconds kResourcesInterval{5};
    // Each template's files as last checked, in config order; never calls the hypervisor.
    // Checked at connect and every kTemplateCheckInterval after, each distinct path once.
    std::vector<TemplateCheck> templateChecks() const;
    // The check of one template (empty name: the site's default); nullopt for no such template.
    std::optional<TemplateCheck> templateCheck(const std::string& name) const;
    static constexpr std::chrono::seconds kTemplateCheckInterval{60};
    // The last-known free memory and whether template `templateName` (empty: the default) is
    // usable, for placementCandidate(). Never calls the hypervisor.
    PlacementHostFacts placementFacts(const std::string& templateName) const;
    // Reads resources and checks the templates now, on the calling thread (tests; never from a
    // request handler).
    void refreshHostFactsNow();

    // ---- the domain view ------------------------------------------------------------------
    // Every domain with Paddock's metadata, from the view when it is valid (else one live bulk
    // listing), sorted by name.
    Result<std::vector<DomainInfo>> domains();
    // After Paddock changed a domain: re-read it into the view (gone: removed from it).
    void refresh(BackendConnection& conn, const std::string& name);
    // After Paddock made a domain: the view and the metadata cache know it at once.
    void remember(const DomainInfo& info, const Metadata& metadata);
    // After Paddock removed a domain.
    void forget(const std::string& name, const std::string& uuid);
    // A number that changes whenever what domains() answers, or the readiness of any of them,
    // may have changed (the view, the metadata cache, the readiness tracker), so that a listing
    // built from them can be kept until it does. nullopt while the view is not valid (domains()
    // then lists live and nothing derived from it may be kept). Read it before domains().
    std::optional<uint64_t> viewGeneration() const;

    // ---- metadata -------------------------------------------------------------------------
    // The domain as the backend has it now, if Paddock manages it (isManaged); NotFound for a
    // foreign domain as for a missing one.
    Result<DomainInfo> managedDomain(BackendConnection& conn, const std::string& vm);
    // The VM's metadata as the backend has it now (uncached); NotFound for foreign domains.
    Result<Metadata> metadata(const std::string& vm);
    // Merges `changes` (an empty value erases the key) into the persistent definition and,
    // when running, the live one, under the VM's lock. Not audited: the caller audits.
    // NotFound for foreign domains.
    Status updateMetadata(const std::string& vm, const Metadata& changes);
    // Writes `metadata` (merged as above) into a domain whatever its state, under the VM's lock
    // held by the caller (withVm): the one way a foreign domain becomes managed (adoption).
    Status writeMetadata(BackendConnection& conn, const DomainInfo& domain, const Metadata& changes);

    // ---- readiness and SSH ----------------------------------------------------------------
    ReadinessTracker& readiness() noexcept { return readiness_; }
    // Whether started VMs get an SSH readiness probe (the site gives guests a network).
    bool probesSsh() const noexcept { return config_.network_mode != NetworkMode::None; }
    // Where and as whom Paddock logs into `vm` (Paddock's key, the site's ssh_user).
    // Unavailable without a key or hypervisor; the backend's error when there is no target.
    Result<SshEndpoint> sshEndpoint(const std::string& vm);
    // The managed VMs and their memory as placement counts them (siteLoad of domains()), and
    // whether a domain of that name exists here: what every create asks of every site, answered
    // from indexes the view's listings and Paddock's own changes keep, not by listing all domains
    // (only before the first full listing is indexed: from one domains() / a live lookup).
    Result<SiteLoad> load();
    Result<bool> hasDomain(const std::string& name);

    // A host port for a new VM's SSH forward (user-mode networking), not used by any VM. Costs no
    // listing once the view's first full listing is indexed (before that: one domains()), so a
    // create stays as cheap on a site of 10,000 domains as on an empty one.
    Result<PortReservation> reserveSshPort();

    // ---- templates and locks --------------------------------------------------------------
    // The named template (empty: the site's default, see findTemplate); nullptr when the site
    // has no templates and none was named. InvalidArgument naming the known ones otherwise.
    Result<const TemplateConfig*> resolveTemplate(const std::string& name) const;
    // What every single-VM operation starts with: a valid name, the live connection, the VM's
    // lock held for the duration of `body(connection)`. Returns the first failure as an R.
    template <class R, class Body>
    R withVm(const std::string& name, Body&& body);
    const VmLocks& locks() const noexcept { return locks_; }

private:
    void onLifecycle(const std::string& vm, pdk_lifecycle_event event);
    void onConnected();
    // After each full listing of the view (refresher thread).
    void onListed(const std::vector<DomainInfo>& domains);
    // Backends without events: what changed since the previous listing, published as the
    // lifecycle events the backend would have sent.
    void publishPolledChanges(const std::vector<DomainInfo>& domains);
    // Whether `vm` is managed, from the metadata cache (one backend call when not cached).
    bool managedCached(BackendConnection& conn, const DomainInfo& info);
    // True when the caches know `vm` to be foreign; never calls the backend (event thread).
    bool knownForeign(const std::string& vm);
    Status checkVmName(const std::string& name) const;
    // Paddock's metadata changes only through Paddock, so it is cached by UUID: a listing then
    // stays one bulk backend call instead of one call per domain.
    Metadata cachedMetadata(BackendConnection& conn, const DomainInfo& info);
    void publishStateGauge(const std::vector<DomainInfo>& domains);
    // Refreshes what is due (resources, template checks) over `conn`; `force`: everything.
    void refreshHostFacts(BackendConnection& conn, bool force);

    SiteConfig config_;
    std::shared_ptr<EventHub> events_;
    SshIdentity identity_;
    CoreMetrics& metrics_;
    PortAllocator ports_;
    VmLocks locks_;
    // A domain's cached metadata and the metadataGeneration_ it was stored at (pruneMetadata).
    struct CachedMetadata {
        Metadata values;
        uint64_t stored_at = 0;
    };
    // The one way metadataByUuid_ changes (under metadataMutex_): keeps portsRecorded_ and
    // metadataGeneration_ in step with it.
    void storeMetadataLocked(const std::string& uuid, Metadata values);
    void eraseMetadataLocked(const std::string& uuid);
    // After a full listing (refresher thread): fetches the metadata of listed domains not cached
    // yet and drops the entries of domains gone since (stored at or before `listedFrom`, the
    // generation when the listing began), so that portsRecorded_ covers exactly the site's
    // domains; from then on reserveSshPort() needs no listing.
    void indexMetadata(BackendConnection& conn, const std::vector<DomainInfo>& domains, uint64_t listedFrom);

    mutable std::mutex metadataMutex_;
    std::unordered_map<std::string, CachedMetadata> metadataByUuid_;
    uint64_t metadataGeneration_ = 0;  // under metadataMutex_; bumped by each change of metadataByUuid_
    // The SSH forward ports recorded in cached metadata, with how many domains record each: what
    // a create must not take, found without listing every domain. Under metadataMutex_.
    std::unordered_map<uint16_t, uint32_t> portsRecorded_;
    bool portsIndexed_ = false;   // under metadataMutex_; a full listing has been indexed
    // Each managed domain's share of load() by name, and when it was stored (as stored_at), so
    // that a listing begun before a create does not drop it. Under metadataMutex_.
    struct LoadShare {
        uint64_t memory_mb = 0;
        uint64_t stored_at = 0;
    };
    void setLoadLocked(const DomainInfo& info, const Metadata& metadata);
    void dropLoadLocked(const std::string& name);
    void rebuildLoadLocked(const std::vector<DomainInfo>& domains, uint64_t listedFrom);
    std::unordered_map<std::string, LoadShare> loadByName_;
    SiteLoad load_;
    uint64_t listedFrom_ = 0;     // refresher thread only: metadataGeneration_ when its listing began
    std::mutex hostMutex_;
    HostInfo host_;  // of the current connection (onConnected)
    mutable std::mutex factsMutex_;  // guards resources_, templateChecks_ and their due times
    SiteResources resources_;
    std::chrono::steady_clock::time_point resourcesDue_{};
    std::vector<TemplateCheck> templateChecks_;
    std::chrono::steady_clock::time_point templatesDue_{};
    std::mutex pollMutex_;
    std::optional<std::map<std::string, DomainState>> polledStates_;  // nullopt: no baseline yet
    // Destroyed in reverse: the tracker (whose probes use the link) goes before the link;
    // ~Site stops the link's monitor and the cache's refresher first.
    SiteLink link_;
    DomainCache cache_;
    ReadinessTracker readiness_;
};

template <class R, class Body>
R Site::withVm(const std::string& name, Body&& body) {
    if (auto valid = checkVmName(name); !valid) return std::move(valid).error();
    auto conn = link_.connection();
    if (!conn) return std::move(conn).error();
    const auto guard = locks_.lock(name);
    return body(*conn.value());
}

}  // namespace paddock
