// Host-side C++ view of a provisioner plugin (pdk_provisioner.h). Only the bytes of the plugin's
// vtable covered by its struct_size are read; a NULL check answers Unsupported.
//
// Ownership: everything in a ProvisionRun is borrowed for the call of run(); the become secret
// too (the caller owns and wipes it). Threading: run() and check() may be called from any
// thread, concurrently; the output sink and the cancel check run on the calling thread, during
// run() only.
#pragma once

#include "paddock/core/plugin_host.hpp"
#include "paddock/core/result.hpp"

#include <paddock/pdk_provisioner.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace paddock {

// Where and how the provisioner logs into the VM.
struct ProvisionTarget {
    std::string site;
    std::string vm;
    std::string host;
    uint16_t port = 22;
    std::string user;
    std::string private_key_path;
    std::string known_hosts_line;  // the pinned host key, "[host]:port type base64"
};

struct ProvisionRun {
    ProvisionTarget target;
    std::string recipe;          // ansible: a playbook path
    std::string variables_json;  // one JSON object, or empty
    std::vector<std::pair<std::string, std::string>> settings;
    std::span<const unsigned char> become_secret;  // empty: none
    std::chrono::milliseconds timeout{0};
};

// The recipe's own account of the run (pdk_provision_result); -1: not reported.
struct ProvisionSummary {
    int exit_code = -1;
    int ok = -1;
    int changed = -1;
    int failed = -1;
    int unreachable = -1;
    int skipped = -1;
    double duration_s = 0;
};

// How a run ended: `status` is the plugin's verdict (its message in plain words), `summary`
// what it reported either way.
struct ProvisionOutcome {
    Status status;
    ProvisionSummary summary;
};

// One output line (without its line break) and the stream it came on (PDK_PROVISION_STDOUT/ERR).
using ProvisionOutputSink = std::function<void(int stream, std::string_view line)>;
// Polled during a run; true stops it (the run then ends cancelled).
using CancelCheck = std::function<bool()>;

class ProvisionerPlugin {
public:
    explicit ProvisionerPlugin(std::shared_ptr<LoadedPlugin> plugin);

    const PluginInfo& info() const noexcept { return plugin_->info(); }

    // Runs the recipe against the target and returns when it ended (the plugin enforces
    // run.timeout). Exceptions thrown by `output` or `cancelled` are contained: they stop
    // nothing and are lost (a sink must not throw).
    ProvisionOutcome run(const ProvisionRun& run, const ProvisionOutputSink& output, const CancelCheck& cancelled) const;

    // Whether a run could start (the tool is installed, settings are known, the recipe parses):
    // the tool's version line, or why not. Unsupported when the plugin offers no check.
    Result<std::string> check(const std::vector<std::pair<std::string, std::string>>& settings,
                              const std::string& recipe) const;

private:
    std::shared_ptr<LoadedPlugin> plugin_;
    pdk_provisioner_vtable vtable_{};
};

// The names of the non-NULL entries of a provisioner vtable: "run", "check".
std::vector<std::string> provisionerOperations(const pdk_provisioner_vtable& vtable);

}  // namespace paddock
