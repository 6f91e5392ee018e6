// Placement: which site a new VM goes to when the request names none (POST /api/v1/vms without
// `site`, POST /vms/create). The decision is a pure function of the candidates' facts, so that it
// is deterministic and testable without a hypervisor; placementCandidate() gathers the facts of
// a live Site from its in-memory domain view (no hypervisor round trip).
//
// The policy, in order:
//  1. a site is a candidate only if it is up (reachable), has the template, the template's files
//     (base image, kernel, initrd) are on its host as last checked (Site::templateCheck), and
//     its labels hold every pair of the template's site_selector;
//  2. it must have room: fewer VMs than max_vms, and committed memory plus the new VM's memory
//     within max_memory_mb (0: unlimited), and the new VM's memory within the host's last-known
//     free memory (ABI 1.7 host_resources, read every few seconds; less the memory of creates
//     still in flight) when the backend reports it;
//  3. among those, `spread` takes the one with the most headroom: the lowest VM load vm_count /
//     max_vms (a site without max_vms counts as large as the largest max_vms among the candidates,
//     so with none set it is the fewest VMs), then the most memory left (the tighter of
//     max_memory_mb minus committed and the host's free memory; unlimited is most), then config
//     order; `pack` takes the first site
//     in config order that fits.
// Nothing fits: Conflict (409) naming every site's reason, e.g. "lab-b: down; lab-c: max_vms 10
// reached"; when no site has the template, InvalidArgument (400); when every site that has it
// is down, Unavailable (503); both with the same message.
#pragma once

#include "paddock/core/backend.hpp"
#include "paddock/core/config.hpp"
#include "paddock/core/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace paddock {

// What placement knows about one site. `has_template` and `selector_matches` are answered for
// the request's template.
struct PlacementCandidate {
    std::string site;
    bool up = false;
    std::string down_reason;  // when not up, e.g. the connection error; may be empty
    bool has_template = false;
    bool selector_matches = true;
    std::string template_unusable;            // non-empty: why the template's files are not on the host
    uint32_t vm_count = 0;                    // VMs Paddock manages there, any state
    uint64_t committed_memory_mb = 0;         // their memory
    uint32_t max_vms = 0;                     // 0: unlimited
    uint64_t max_memory_mb = 0;               // 0: unlimited
    std::optional<uint64_t> free_memory_mb;   // what the host reports free, when it does
    uint64_t new_vm_memory_mb = 0;            // the new VM's memory if made here (template/site default)
};

struct PlacementRequest {
    std::string template_name;  // as asked (empty: each site's default), for messages only
    PlacementPolicy policy = PlacementPolicy::Spread;
};

struct PlacementDecision {
    std::string site;
    std::string policy;  // "spread", "pack", or "requested" (the client named the site)
    std::string reason;  // why this site, for the API's `placement.reason`
};

// Why `c` cannot take the request, or nullopt when it can: "down (<reason>)", "no template 'x'",
// "labels do not match the template's site_selector", "max_vms 10 reached",
// "max_memory_mb 4096 exceeded (3840 committed + 512 requested)", "template 'x' unusable here (base
// image /a.qcow2: ...)", "free memory 256 MiB < 512 MiB requested".
std::optional<std::string> placementRefusal(const PlacementCandidate& c, const PlacementRequest& request);

// The chosen site among `candidates` (config order) by request.policy, with the reason.
// Conflict when none fits ("no site can take the VM: a: down; b: max_vms 2 reached"), or when
// there are no candidates at all. Same message, other codes: InvalidArgument when no candidate
// has the template; Unavailable when every candidate that has it is down.
Result<PlacementDecision> choosePlacement(const std::vector<PlacementCandidate>& candidates,
                                          const PlacementRequest& request);

// What a site's host adds to its config and listing (Site::placementFacts); default: nothing known.
struct PlacementHostFacts {
    std::optional<uint64_t> free_memory_mb;  // last-known free memory of the host
    std::string template_unusable;           // non-empty: why the template's files are not there
};

// What placement counts of a site's domains: its managed VMs and the memory they may take.
struct SiteLoad {
    uint32_t vm_count = 0;
    uint64_t committed_memory_mb = 0;
};
// What one domain counts for in committed_memory_mb: the larger of its maximum and current memory.
uint64_t committedMemoryMb(const DomainInfo& domain);
// The load of a listing (each managed domain, with committedMemoryMb).
SiteLoad siteLoad(const std::vector<DomainInfo>& domains);
// The facts of a site for a VM from `templateName` (empty: the site's default) with `memoryMb`
// (0: the template's, else the site's default): from its config, `load` (Site::load(), kept
// without a listing per create) and `facts`. A site whose load could not be had is down.
PlacementCandidate placementCandidate(const SiteConfig& site, const Result<SiteLoad>& load,
                                      const std::string& templateName, uint64_t memoryMb,
                                      const PlacementHostFacts& facts = {});

}  // namespace paddock
