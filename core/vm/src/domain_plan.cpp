#include "paddock/core/domain_plan.hpp"

#include "paddock/core/limits.hpp"
#include "paddock/core/names.hpp"
#include "paddock/core/ssh_identity.hpp"
#include "paddock/core/vm_metadata.hpp"

namespace paddock {

namespace {

pdk_network_mode pdkNetworkMode(NetworkMode mode) {
    switch (mode) {
        case NetworkMode::User: return PDK_NETWORK_USER;
        case NetworkMode::Network: return PDK_NETWORK_LIBVIRT;
        case NetworkMode::None: break;
    }
    return PDK_NETWORK_NONE;
}

}  // namespace

SiteFacts SiteFacts::of(const SiteConfig& site, std::string publicKey) {
    return SiteFacts{site.name,         site.domain_type,   site.network_mode,      site.network_name,
                     site.storage_pool, site.default_vcpus, site.default_memory_mb, std::move(publicKey), {},
                     site.ssh_forward_address};
}

void DomainPlan::attachDisk(const std::string& path) {
    spec.disk_path = path;
    spec.disk_format = "qcow2";
    spec.metadata[meta::kDisk] = path;
}

Result<DomainPlan> planDomain(const CreateVmRequest& request, const TemplateConfig* tmpl, const SiteFacts& site,
                              std::optional<uint16_t> sshForwardPort, const std::string& actor, SystemTime now) {
    if (auto valid = request.legacy_name ? validateLegacyName(request.name) : validateName(request.name, "VM name");
        !valid)
        return std::move(valid).error();
    if (auto valid = validateOwner(request.owner.value_or(""), false); !valid) return std::move(valid).error();
    const uint32_t vcpus =
        request.vcpus.value_or(tmpl != nullptr && tmpl->vcpus != 0 ? tmpl->vcpus : site.default_vcpus);
    const uint64_t memoryMb =
        request.memory_mb.value_or(tmpl != nullptr && tmpl->memory_mb != 0 ? tmpl->memory_mb : site.default_memory_mb);
    if (auto sized = limits::checkVmSize(vcpus, memoryMb); !sized) return std::move(sized).error();

    DomainPlan plan;
    DomainSpec& spec = plan.spec;
    spec.name = request.name;
    spec.vcpus = vcpus;
    spec.memory_mib = memoryMb;
    spec.domain_type = std::string(enumName(site.domain_type));
    spec.network_mode = pdkNetworkMode(site.network_mode);
    spec.network_name = site.network_name;
    spec.metadata[meta::kCreatedAt] = isoTime(now);
    spec.metadata[meta::kCreatedBy] = actor;
    if (request.owner && !request.owner->empty()) spec.metadata[meta::kOwner] = *request.owner;

    if (spec.network_mode == PDK_NETWORK_USER) {
        if (!sshForwardPort || *sshForwardPort == 0)
            return makeError(ErrorCode::Internal,
                             "site " + site.site + " forwards SSH but no port was reserved for '" + request.name + "'");
        spec.ssh_forward_port = *sshForwardPort;
        spec.ssh_forward_address = site.ssh_forward_address;
        spec.metadata[meta::kSshPort] = std::to_string(*sshForwardPort);
    }

    if (tmpl != nullptr) {
        spec.metadata[meta::kTemplate] = tmpl->name;
        spec.kernel_path = tmpl->kernel;
        spec.initrd_path = tmpl->initrd;
        spec.kernel_cmdline = tmpl->cmdline;
        // A Paddock guest image installs this key for the SSH user at boot, so one image
        // serves every Paddock installation. It is a public key: nothing secret is exposed.
        if (!spec.kernel_path.empty() && !site.public_key.empty()) {
            spec.kernel_cmdline += (spec.kernel_cmdline.empty() ? "" : " ");
            spec.kernel_cmdline += "paddock.authorized_key=" + base64Encode(site.public_key);
        }
        // Paddock's guest image runs its heartbeat loop against this URL (guest-scripts/).
        if (!spec.kernel_path.empty() && tmpl->watch && !site.guest_url.empty()) {
            spec.kernel_cmdline += (spec.kernel_cmdline.empty() ? "" : " ");
            spec.kernel_cmdline += "paddock.heartbeat=" + site.guest_url + "/api/v1/vms/" + request.name + "/heartbeat";
        }
        if (!tmpl->base_image.empty()) {
            plan.overlay =
                OverlaySpec{site.storage_pool, request.name + ".qcow2", tmpl->base_image, tmpl->base_format, 0};
            spec.metadata[meta::kImage] = tmpl->base_image;
        }
    }
    // Extra entries come last and never replace Paddock's own.
    for (const auto& [key, value] : request.metadata) spec.metadata.emplace(key, value);
    return plan;
}

}  // namespace paddock
