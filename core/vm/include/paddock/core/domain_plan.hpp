// Planning a new VM, without touching anything: one pure function turns a create request, the
// template it names and the site's facts into everything VmService then executes (the overlay
// to make, the domain to define with its sizes, SSH forward, kernel command line and metadata).
// Deterministic for equal inputs; safe from any thread.
#pragma once

#include "paddock/core/backend.hpp"
#include "paddock/core/config.hpp"
#include "paddock/core/iso_time.hpp"
#include "paddock/core/result.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace paddock {

struct CreateVmRequest {
    std::string name;
    std::optional<std::string> template_name;  // absent: the site's default template
    std::optional<uint32_t> vcpus;             // absent: the template's, else the site's default
    std::optional<uint64_t> memory_mb;
    std::optional<std::string> owner;
    bool start = true;
    bool legacy_name = false;  // the name follows validateLegacyName (the compat create), not validateName
    Metadata metadata;         // extra metadata entries (e.g. a pool's); Paddock's own keys win
    // Non-empty: the disk is restored from this backup file (and the chain its header names)
    // into a self-contained volume, instead of an overlay on the template's base image.
    std::string restore_source;
};

// What planning needs to know about the site.
struct SiteFacts {
    std::string site;
    DomainType domain_type = DomainType::Auto;
    NetworkMode network_mode = NetworkMode::None;
    std::string network_name;
    std::string storage_pool;
    uint32_t default_vcpus = 1;
    uint64_t default_memory_mb = 512;
    std::string public_key;  // Paddock's SSH public key line; empty when there is none
    // How guests reach paddockd (WatchConfig::guest_url, resolved): VMs of a watched template
    // booted directly get paddock.heartbeat=<guest_url>/api/v1/vms/<name>/heartbeat. Empty: none.
    std::string guest_url;
    // Where user-mode SSH forwards listen on the hypervisor host (SiteConfig::ssh_forward_address).
    std::string ssh_forward_address = "127.0.0.1";

    static SiteFacts of(const SiteConfig& site, std::string publicKey);
};

struct DomainPlan {
    DomainSpec spec;                     // the domain to define; disk fields set by attachDisk()
    std::optional<OverlaySpec> overlay;  // the disk to make first (templates with a base image)

    // Records the overlay made for this plan as the domain's disk.
    void attachDisk(const std::string& path);
};

// InvalidArgument for a bad name or out-of-range sizes (limits.hpp); Internal when the site
// forwards SSH (user-mode networking) and no `sshForwardPort` was reserved. `tmpl` may be null
// (no template: a diskless VM). `now` and `actor` become created_at / created_by.
Result<DomainPlan> planDomain(const CreateVmRequest& request, const TemplateConfig* tmpl, const SiteFacts& site,
                              std::optional<uint16_t> sshForwardPort, const std::string& actor, SystemTime now);

}  // namespace paddock
