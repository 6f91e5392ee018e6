// The plugin's one exported symbol and its static descriptor.
#include "connection.hpp"

#include <paddock/cpp/backend.hpp>

namespace {

const pdk_backend_vtable kVtable = pdk::makeBackendVtable<paddock::virsh::Connection>();

// Exactly the families whose vtable entries Connection fills: no "events" (virsh has no event
// stream a plugin could keep; the host polls) and no "backup".
const char* const kCapabilities[] = {"domain.lifecycle", "domain.define", "volume.overlay", "snapshot",  "save",
                                     "ssh_target",       "metadata",      "guest_agent",    nullptr};

const pdk_plugin_descriptor kDescriptor = {
    .struct_size = sizeof(pdk_plugin_descriptor),
    .abi_major = PDK_ABI_VERSION_MAJOR,
    .abi_minor = PDK_ABI_VERSION_MINOR,
    .kind = PDK_PLUGIN_KIND_BACKEND,
    .id = "org.paddock.virsh",
    .name = "virsh (libvirt CLI)",
    .version = "1.0.0",
    .description = "Runs VMs through the virsh command line (locally or over qemu+ssh://), for hosts where "
                   "only virsh is available; links no libvirt.",
    .capabilities = kCapabilities,
    .vtable = &kVtable,
    // Nothing to start or stop: every call is its own virsh process.
    .init = nullptr,
    .deinit = nullptr,
    .next = nullptr,
};

}  // namespace

extern "C" PDK_EXPORT const pdk_plugin_descriptor* pdk_plugin_entry(void) { return &kDescriptor; }
