// The plugin's one exported symbol and its static descriptor.
#include "connection.hpp"
#include "event_loop.hpp"

#include <paddock/cpp/backend.hpp>
#include <paddock/cpp/plugin.hpp>

namespace {

const pdk_backend_vtable kVtable = pdk::makeBackendVtable<paddock::lvq::Connection>();

const char* const kCapabilities[] = {
    "domain.lifecycle", "domain.define", "volume.overlay", "snapshot",    "save", "events",
    "ssh_target",       "metadata",      "backup",         "guest_agent", nullptr};

const pdk_plugin_descriptor kDescriptor = {
    .struct_size = sizeof(pdk_plugin_descriptor),
    .abi_major = PDK_ABI_VERSION_MAJOR,
    .abi_minor = PDK_ABI_VERSION_MINOR,
    .kind = PDK_PLUGIN_KIND_BACKEND,
    .id = "org.paddock.libvirt-qemu",
    .name = "libvirt QEMU/KVM",
    .version = "1.0.0",
    .description = "Runs VMs under QEMU (KVM or TCG) through libvirt, locally or on remote libvirt hosts.",
    .capabilities = kCapabilities,
    .vtable = &kVtable,
    // init checks libvirt; deinit stops and joins the event-loop thread (event_loop.hpp).
    .init = &pdk::libraryInit<paddock::lvq::Library>,
    .deinit = &pdk::libraryDeinit<paddock::lvq::Library>,
    .next = nullptr,
};

}  // namespace

extern "C" PDK_EXPORT const pdk_plugin_descriptor* pdk_plugin_entry(void) { return &kDescriptor; }
