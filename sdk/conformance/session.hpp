// One run of the kit against one backend connection: the vtable, the connection, the probes,
// unique domain names and the janitor that removes everything the kit created, also when a
// check fails half-way.
#pragma once

#include "call_support.hpp"
#include "options.hpp"
#include "report.hpp"
#include "sink_probe.hpp"

#include <paddock/pdk_backend.h>

#include <optional>
#include <string>
#include <vector>

namespace paddock::conformance {

// Remembers domains and volumes the kit made, and removes them (destroy, undefine, delete).
class Janitor {
public:
    void trackDomain(const std::string& name);
    void trackVolume(const std::string& path);
    void forgetDomain(const std::string& name);
    // Best effort; errors ignored. Runs before the connection closes.
    void cleanUp(const pdk_backend_vtable& vt, pdk_backend_connection* conn);

private:
    std::vector<std::string> domains_;
    std::vector<std::string> volumes_;
};

struct Session {
    Session(const Options& o, Report& r) : options(o), report(r) {}

    const Options& options;
    Report& report;
    pdk_backend_vtable vt{};
    pdk_backend_connection* conn = nullptr;
    ProbeArena probes;
    Janitor janitor;

    // "pdk-conformance-<pid>-<tag>": unique per process and tag, a valid name on every backend.
    std::string domainName(const std::string& tag) const;
    bool hasOverlays() const { return !options.pool.empty() && vt.create_overlay != nullptr; }
};

// A diskless domain: 1 vCPU, 128 MiB, no network.
pdk_domain_spec minimalSpec(const char* name);

// Defines `spec` and tracks it for clean-up (also when the plugin answered an error, in case it
// defined it anyway).
pdk_status defineTracked(Session& s, const pdk_domain_spec& spec, ErrorRecord& err);

// get_domain through a probe; nullopt unless it returned PDK_OK with exactly one domain.
std::optional<SeenDomain> lookUp(Session& s, const std::string& name, pdk_status* status = nullptr);

// list_domains through a probe; nullopt unless PDK_OK.
std::optional<std::vector<SeenDomain>> listAll(Session& s, uint32_t flags = 0);

// Defines a minimal domain named for `tag` (with `metadata`); the name, or nullopt after a FAIL
// reported under `check`.
std::optional<std::string> defineFixture(Session& s, const std::string& tag, const std::string& check,
                                         const Metadata& metadata = {});

// Whether the state counts as running (active) for the contract's CONFLICT answers.
bool isActive(pdk_domain_state state);

}  // namespace paddock::conformance
