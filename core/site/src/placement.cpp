#include "paddock/core/placement.hpp"

#include "paddock/core/site.hpp"
#include "paddock/core/vm_metadata.hpp"

#include <algorithm>
#include <limits>

namespace paddock {

namespace {

constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

// Memory left for VMs after this one: the tighter of the configured cap and what the host
// reports free. kUnlimited when neither bounds it.
uint64_t memoryLeftMb(const PlacementCandidate& c) {
    uint64_t left = kUnlimited;
    if (c.max_memory_mb != 0) left = c.max_memory_mb - std::min(c.max_memory_mb, c.committed_memory_mb);
    if (c.free_memory_mb) left = std::min(left, *c.free_memory_mb);
    return left == kUnlimited ? left : left - std::min(left, c.new_vm_memory_mb);
}

std::string vmsText(const PlacementCandidate& c) {
    return std::to_string(c.vm_count) + (c.max_vms != 0 ? " of " + std::to_string(c.max_vms) : "") + " VMs";
}

std::string memoryText(const PlacementCandidate& c) {
    const uint64_t left = memoryLeftMb(c);
    return left == kUnlimited ? "memory unlimited" : std::to_string(left) + " MB memory left after it";
}

}  // namespace

std::optional<std::string> placementRefusal(const PlacementCandidate& c, const PlacementRequest& request) {
    if (!c.up) return c.down_reason.empty() ? std::string("down") : "down (" + c.down_reason + ")";
    if (!c.has_template)
        return request.template_name.empty() ? std::string("no template") : "no template '" + request.template_name + "'";
    if (!c.template_unusable.empty())
        return "template" + (request.template_name.empty() ? std::string() : " '" + request.template_name + "'") +
               " unusable here (" + c.template_unusable + ")";
    if (!c.selector_matches) return std::string("labels do not match the template's site_selector");
    if (c.max_vms != 0 && c.vm_count >= c.max_vms) return "max_vms " + std::to_string(c.max_vms) + " reached";
    if (c.max_memory_mb != 0 && (c.committed_memory_mb > c.max_memory_mb ||
                                 c.new_vm_memory_mb > c.max_memory_mb - c.committed_memory_mb))
        return "max_memory_mb " + std::to_string(c.max_memory_mb) + " exceeded (" +
               std::to_string(c.committed_memory_mb) + " committed + " + std::to_string(c.new_vm_memory_mb) +
               " requested)";
    if (c.free_memory_mb && *c.free_memory_mb < c.new_vm_memory_mb)
        return "free memory " + std::to_string(*c.free_memory_mb) + " MiB < " + std::to_string(c.new_vm_memory_mb) +
               " MiB requested";
    return std::nullopt;
}

Result<PlacementDecision> choosePlacement(const std::vector<PlacementCandidate>& candidates,
                                          const PlacementRequest& request) {
    if (candidates.empty()) return makeError(ErrorCode::Conflict, "no site can take the VM: no sites");
    std::vector<const PlacementCandidate*> fitting;
    std::string refusals;
    for (const auto& c : candidates) {
        if (auto why = placementRefusal(c, request)) {
            refusals += (refusals.empty() ? "" : "; ") + c.site + ": " + *why;
        } else {
            fitting.push_back(&c);
        }
    }
    if (fitting.empty()) {
        const bool anyTemplate = std::any_of(candidates.begin(), candidates.end(), [](const auto& c) { return c.has_template; });
        const bool upWithTemplate =
            std::any_of(candidates.begin(), candidates.end(), [](const auto& c) { return c.up && c.has_template; });
        const ErrorCode code = !anyTemplate      ? ErrorCode::InvalidArgument
                               : !upWithTemplate ? ErrorCode::Unavailable
                                                 : ErrorCode::Conflict;
        return makeError(code, "no site can take the VM: " + refusals);
    }
    const std::string skipped = refusals.empty() ? "" : "; skipped " + refusals;

    if (request.policy == PlacementPolicy::Pack) {
        const auto& c = *fitting.front();
        return PlacementDecision{c.site, "pack", "first site in config order with room (" + vmsText(c) + ")" + skipped};
    }

    // A site without max_vms counts as large as the largest configured one, so loads compare as
    // fractions of one scale; with none configured the load is the plain VM count.
    uint64_t largest = 0;
    for (const auto* c : fitting) largest = std::max<uint64_t>(largest, c->max_vms);
    const auto capacity = [&](const PlacementCandidate& c) -> uint64_t {
        return c.max_vms != 0 ? c.max_vms : std::max<uint64_t>(largest, 1);
    };
    // Stable: of equals the earlier in config order stays first.
    const auto better = [&](const PlacementCandidate& a, const PlacementCandidate& b) {
        const uint64_t loadA = uint64_t{a.vm_count} * capacity(b);
        const uint64_t loadB = uint64_t{b.vm_count} * capacity(a);
        if (loadA != loadB) return loadA < loadB;
        return memoryLeftMb(a) > memoryLeftMb(b);
    };
    const PlacementCandidate* best = fitting.front();
    for (const auto* c : fitting)
        if (better(*c, *best)) best = c;
    std::string others;
    for (const auto* c : fitting)
        if (c != best) others += (others.empty() ? "" : ", ") + c->site + " " + vmsText(*c);
    return PlacementDecision{best->site, "spread",
                             "most headroom (" + vmsText(*best) + ", " + memoryText(*best) + ")" +
                                 (others.empty() ? "" : "; also fit: " + others) + skipped};
}

uint64_t committedMemoryMb(const DomainInfo& domain) {
    return std::max(domain.max_memory_kib, domain.memory_kib) / 1024;
}

SiteLoad siteLoad(const std::vector<DomainInfo>& domains) {
    SiteLoad load;
    for (const auto& d : domains) {
        if (!isManaged(d.metadata)) continue;
        ++load.vm_count;
        load.committed_memory_mb += committedMemoryMb(d);
    }
    return load;
}

PlacementCandidate placementCandidate(const SiteConfig& config, const Result<SiteLoad>& load,
                                      const std::string& templateName, uint64_t memoryMb,
                                      const PlacementHostFacts& facts) {
    PlacementCandidate c;
    c.free_memory_mb = facts.free_memory_mb;
    c.template_unusable = facts.template_unusable;
    c.site = config.name;
    c.max_vms = config.max_vms;
    c.max_memory_mb = config.max_memory_mb;
    const TemplateConfig* tmpl = findTemplate(config, templateName);
    // A site without templates still makes diskless VMs when none is named (Site::resolveTemplate).
    c.has_template = tmpl != nullptr || (templateName.empty() && config.templates.empty());
    if (tmpl != nullptr) c.selector_matches = labelsMatch(tmpl->site_selector, config.labels);
    c.new_vm_memory_mb = memoryMb != 0 ? memoryMb : templateMemoryMb(config, tmpl);
    if (!load) {
        c.down_reason = load.error().message;
        return c;
    }
    c.up = true;
    c.vm_count = load->vm_count;
    c.committed_memory_mb = load->committed_memory_mb;
    return c;
}

}  // namespace paddock
