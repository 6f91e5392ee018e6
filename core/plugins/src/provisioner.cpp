#include "paddock/core/provisioner.hpp"

namespace paddock {

namespace {

struct RunCallbacks {
    const ProvisionOutputSink* output;
    const CancelCheck* cancelled;

    static void onOutput(void* user, int stream, const char* line, size_t len) noexcept {
        auto* self = static_cast<RunCallbacks*>(user);
        if (self == nullptr || (line == nullptr && len != 0) || !*self->output) return;
        try {
            (*self->output)(stream, std::string_view(line == nullptr ? "" : line, len));
        } catch (...) {
        }
    }
    static int isCancelled(void* user) noexcept {
        auto* self = static_cast<RunCallbacks*>(user);
        if (self == nullptr || !*self->cancelled) return 0;
        try {
            return (*self->cancelled)() ? 1 : 0;
        } catch (...) {
            return 0;
        }
    }
};

std::vector<pdk_kv> kvArray(const std::vector<std::pair<std::string, std::string>>& settings) {
    std::vector<pdk_kv> kv;
    kv.reserve(settings.size());
    for (const auto& [key, value] : settings) kv.push_back({key.c_str(), value.c_str()});
    return kv;
}

}  // namespace

ProvisionerPlugin::ProvisionerPlugin(std::shared_ptr<LoadedPlugin> plugin)
    : plugin_(std::move(plugin)),
      vtable_(copyPluginStruct<pdk_provisioner_vtable>(plugin_->descriptor().vtable)) {}

ProvisionOutcome ProvisionerPlugin::run(const ProvisionRun& run, const ProvisionOutputSink& output,
                                        const CancelCheck& cancelled) const {
    RunCallbacks callbacks{&output, &cancelled};
    const std::vector<pdk_kv> settings = kvArray(run.settings);
    const auto timeoutMs = std::max<int64_t>(1, std::min<int64_t>(run.timeout.count(), UINT32_MAX));

    pdk_provision_request request{};
    request.struct_size = sizeof request;
    request.site = run.target.site.c_str();
    request.vm = run.target.vm.c_str();
    request.host = run.target.host.c_str();
    request.port = run.target.port;
    request.user = run.target.user.c_str();
    request.private_key_path = run.target.private_key_path.c_str();
    request.known_hosts_line = run.target.known_hosts_line.c_str();
    request.recipe = run.recipe.c_str();
    request.variables_json = run.variables_json.empty() ? nullptr : run.variables_json.c_str();
    request.settings = settings.empty() ? nullptr : settings.data();
    request.setting_count = settings.size();
    request.become_secret = run.become_secret.empty() ? nullptr : run.become_secret.data();
    request.become_secret_len = run.become_secret.size();
    request.timeout_ms = static_cast<uint32_t>(timeoutMs);
    request.output = &RunCallbacks::onOutput;
    request.output_user = &callbacks;
    request.is_cancelled = &RunCallbacks::isCancelled;
    request.cancel_user = &callbacks;

    pdk_provision_result result{};
    result.struct_size = sizeof result;
    result.exit_code = result.ok = result.changed = result.failed = result.unreachable = result.skipped = -1;
    ProvisionOutcome outcome;
    outcome.status = callPlugin(vtable_.run, "run", "provisioner", info().id, &request, 0u, &result);
    outcome.summary = {result.exit_code, result.ok,      result.changed,         result.failed,
                       result.unreachable, result.skipped, result.duration_seconds};
    return outcome;
}

Result<std::string> ProvisionerPlugin::check(const std::vector<std::pair<std::string, std::string>>& settings,
                                             const std::string& recipe) const {
    const std::vector<pdk_kv> kv = kvArray(settings);
    char version[256] = {};
    Status checked = callPlugin(vtable_.check, "check", "provisioner", info().id, kv.empty() ? nullptr : kv.data(),
                                kv.size(), recipe.empty() ? nullptr : recipe.c_str(), 0u, version, sizeof version);
    if (!checked) return std::move(checked).error();
    version[sizeof version - 1] = '\0';
    return std::string(version);
}

std::vector<std::string> provisionerOperations(const pdk_provisioner_vtable& vtable) {
    std::vector<std::string> ops;
    if (vtable.run != nullptr) ops.emplace_back("run");
    if (vtable.check != nullptr) ops.emplace_back("check");
    return ops;
}

}  // namespace paddock
