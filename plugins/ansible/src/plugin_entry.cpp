// The plugin's one exported symbol and its static descriptor.
#include "ansible_provisioner.hpp"

#include <paddock/cpp/provisioner.hpp>

namespace {

const pdk_provisioner_vtable kVtable = pdk::makeProvisionerVtable<paddock::ansible::AnsibleProvisioner>();

const char* const kCapabilities[] = {"ansible-playbook", "become-password", "cancel", "timeout", nullptr};

const pdk_plugin_descriptor kDescriptor = {
    .struct_size = sizeof(pdk_plugin_descriptor),
    .abi_major = PDK_ABI_VERSION_MAJOR,
    .abi_minor = PDK_ABI_VERSION_MINOR,
    .kind = PDK_PLUGIN_KIND_PROVISIONER,
    .id = "org.paddock.ansible",
    .name = "Ansible provisioner",
    .version = "1.0.0",
    .description = "Configures a running VM over SSH by running an Ansible playbook against it (ansible-playbook).",
    .capabilities = kCapabilities,
    .vtable = &kVtable,
    .init = nullptr,  // nothing process-wide: every run is self-contained
    .deinit = nullptr,
    .next = nullptr,
};

}  // namespace

extern "C" PDK_EXPORT const pdk_plugin_descriptor* pdk_plugin_entry(void) { return &kDescriptor; }
