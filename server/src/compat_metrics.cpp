#include "paddock/server/compat_metrics.hpp"

#include <sys/statvfs.h>

#include <chrono>
#include <fstream>
#include <sstream>

namespace paddock::server {

namespace {

constexpr const char* kAnonymous = "anonymous";
// The types the old tool's hypervisor gauge listed.
constexpr const char* kHypervisorTypes[] = {"qemu", "kvm", "hyperv", "vmware", "xen", "proxmox"};

std::string ownerLabel(const std::string& owner) { return owner.empty() ? kAnonymous : owner; }

std::string labelOf(const prometheus::ClientMetric& metric, const std::string& name) {
    for (const auto& label : metric.label)
        if (label.name == name) return label.value;
    return {};
}

double memoryPercent() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    uint64_t value = 0, total = 0, available = 0;
    std::string unit;
    while (in >> key >> value) {
        std::getline(in, unit);
        if (key == "MemTotal:") total = value;
        if (key == "MemAvailable:") available = value;
    }
    return total == 0 || available > total ? 0.0 : 100.0 * static_cast<double>(total - available) / total;
}

// As psutil (and df) count it: used / (used + available to unprivileged users).
double diskPercent() {
    struct statvfs fs {};
    if (::statvfs("/", &fs) != 0) return 0.0;
    const double used = static_cast<double>(fs.f_blocks - fs.f_bfree) * fs.f_frsize;
    const double available = static_cast<double>(fs.f_bavail) * fs.f_frsize;
    return used + available > 0 ? 100.0 * used / (used + available) : 0.0;
}

// Busy and total jiffies of all CPUs (the first line of /proc/stat).
std::pair<uint64_t, uint64_t> cpuJiffies() {
    std::ifstream in("/proc/stat");
    std::string line;
    if (!std::getline(in, line) || line.rfind("cpu ", 0) != 0) return {0, 0};
    std::istringstream fields(line.substr(4));
    uint64_t value = 0, total = 0, idle = 0;
    for (int i = 0; fields >> value; ++i) {
        if (i >= 8) break;  // guest time is already in user and nice
        total += value;
        if (i == 3 || i == 4) idle += value;  // idle, iowait
    }
    return {total - idle, total};
}

}  // namespace

CompatMetrics::CompatMetrics(Runtime& runtime, prometheus::Registry& registry, const std::string& hypervisorType)
    : runtime_(runtime),
      registry_(registry),
      created_(prometheus::BuildCounter()
                   .Name("vm_created_total")
                   .Help("Total number of VMs created (compatibility name; see paddock_vms_created_total)")
                   .Register(registry)),
      perUser_(prometheus::BuildGauge()
                   .Name("vm_per_user")
                   .Help("Number of VMs currently existing per user (compatibility name)")
                   .Register(registry)),
      lastActivity_(
          prometheus::BuildGauge()
              .Name("vm_last_activity_timestamp")
              .Help("UNIX timestamp of the last successful VM operation, by owner and VM (compatibility name)")
              .Register(registry)),
      sshSessions_(prometheus::BuildGauge()
                       .Name("vm_ssh_sessions_active")
                       .Help("Number of active SSH WebSocket sessions (compatibility name)")
                       .Register(registry)),
      cpu_(prometheus::BuildGauge()
               .Name("vm_manager_host_cpu_usage_percent")
               .Help("Host CPU usage in percent, since the previous scrape")
               .Register(registry)
               .Add({})),
      memory_(prometheus::BuildGauge()
                  .Name("vm_manager_host_memory_usage_percent")
                  .Help("Host memory usage in percent")
                  .Register(registry)
                  .Add({})),
      disk_(prometheus::BuildGauge()
                .Name("vm_manager_host_disk_usage_percent")
                .Help("Host disk usage (root filesystem) in percent")
                .Register(registry)
                .Add({})) {
    auto& hypervisor = prometheus::BuildGauge()
                           .Name("vm_manager_hypervisor_type")
                           .Help("Label gauge exposing configured hypervisor type (for Grafana filters)")
                           .Register(registry);
    bool listed = false;
    for (const char* type : kHypervisorTypes) {
        hypervisor.Add({{"type", type}}).Set(hypervisorType == type ? 1.0 : 0.0);
        listed = listed || hypervisorType == type;
    }
    if (!listed && !hypervisorType.empty()) hypervisor.Add({{"type", hypervisorType}}).Set(1.0);
    lastCpu_ = cpuJiffies();
}

double CompatMetrics::cpuPercent() {
    const auto now = cpuJiffies();
    const auto [busy, total] = now;
    const uint64_t busyDelta = busy >= lastCpu_.first ? busy - lastCpu_.first : 0;
    const uint64_t totalDelta = total >= lastCpu_.second ? total - lastCpu_.second : 0;
    if (totalDelta == 0) return cpu_.Value();  // scraped twice within one tick: keep the last figure
    lastCpu_ = now;
    return 100.0 * static_cast<double>(busyDelta) / static_cast<double>(totalDelta);
}

void CompatMetrics::publish(prometheus::Family<prometheus::Gauge>& family, std::map<Labels, prometheus::Gauge*>& shown,
                            const std::map<Labels, double>& values) {
    for (auto it = shown.begin(); it != shown.end();) {
        if (values.count(it->first) != 0) {
            ++it;
            continue;
        }
        family.Remove(it->second);
        it = shown.erase(it);
    }
    for (const auto& [labels, value] : values) {
        auto& gauge = shown[labels];
        if (gauge == nullptr) gauge = &family.Add(labels);
        gauge->Set(value);
    }
}

void CompatMetrics::refresh() {
    std::lock_guard lock(mutex_);
    std::map<Labels, double> perUser, lastActivity, ssh;
    const auto activity = runtime_.metrics().lastActivity();
    for (Site* site : runtime_.sites()) {
        auto vms = runtime_.vms(site->name()).and_then([](VmService* service) { return service->list(); });
        if (!vms) continue;  // an unreachable site keeps nothing: its VMs are not known now
        for (const auto& vm : vms.value()) {
            const std::string owner = ownerLabel(vm.owner);
            perUser[{{"owner", owner}}] += 1;
            if (const auto at = activity.find({site->name(), vm.domain.name}); at != activity.end())
                lastActivity[{{"owner", owner}, {"vm_name", vm.domain.name}}] =
                    std::chrono::duration<double>(at->second.time_since_epoch()).count();
        }
    }
    publish(perUser_, perUserShown_, perUser);
    publish(lastActivity_, lastActivityShown_, lastActivity);

    // Counted by core and the terminal mux under Paddock's names; mirrored here.
    std::map<std::string, double> created;
    for (const auto& family : registry_.Collect()) {
        if (family.name == "paddock_vms_created_total") {
            for (const auto& m : family.metric) created[ownerLabel(labelOf(m, "owner"))] += m.counter.value;
        } else if (family.name == "paddock_terminal_sessions_active") {
            for (const auto& m : family.metric)
                ssh[{{"owner", ownerLabel(labelOf(m, "owner"))}, {"vm_name", labelOf(m, "vm")}}] += m.gauge.value;
        }
    }
    for (const auto& [owner, total] : created) {
        auto& counter = created_.Add({{"owner", owner}});
        if (total > counter.Value()) counter.Increment(total - counter.Value());
    }
    publish(sshSessions_, sshShown_, ssh);

    cpu_.Set(cpuPercent());
    memory_.Set(memoryPercent());
    disk_.Set(diskPercent());
}

}  // namespace paddock::server
