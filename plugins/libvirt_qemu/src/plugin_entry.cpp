// The plugin's one exported symbol and its static descriptor.
#include "connection.hpp"

#include <paddock/cpp/backend.hpp>

namespace {

const pdk_backend_vtable kVtable = pdk::makeBackendVtable<paddock::lvq::Connection>();

const char* const kCapabilities[] = {
    "domain.lifecycle", "domain.define", "volume.overlay", "snapshot", "save", "events", "ssh_target", "metadata",
    nullptr};

const pdk_plugin_descriptor kDescriptor = {
    sizeof(pdk_plugin_descriptor),
    PDK_ABI_VERSION_MAJOR,
    PDK_ABI_VERSION_MINOR,
    PDK_PLUGIN_KIND_BACKEND,
    "org.paddock.libvirt-qemu",
    "libvirt QEMU/KVM",
    "1.0.0",
    "Runs VMs under QEMU (KVM or TCG) through libvirt, locally or on remote libvirt hosts.",
    kCapabilities,
    &kVtable,
};

}  // namespace

extern "C" PDK_EXPORT const pdk_plugin_descriptor* pdk_plugin_entry(void) { return &kDescriptor; }
