// The plugin's one exported symbol and its static descriptor.
#include "event_loop.hpp"
#include "hyperv_connection.hpp"

#include <paddock/cpp/backend.hpp>
#include <paddock/cpp/plugin.hpp>

namespace {

const pdk_backend_vtable kVtable = pdk::makeBackendVtable<paddock::lvhyperv::HypervConnection>();

// Must match the non-NULL entries of kVtable (tests/plugins/libvirt_hyperv checks it).
const char* const kCapabilities[] = {"domain.lifecycle", "domain.define", nullptr};

const pdk_plugin_descriptor kDescriptor = {
    .struct_size = sizeof(pdk_plugin_descriptor),
    .abi_major = PDK_ABI_VERSION_MAJOR,
    .abi_minor = PDK_ABI_VERSION_MINOR,
    .kind = PDK_PLUGIN_KIND_BACKEND,
    .id = "org.paddock.libvirt-hyperv",
    .name = "libvirt Hyper-V",
    .version = "1.0.0",
    .description = "Runs VMs on a Microsoft Hyper-V host through libvirt's hyperv driver (WS-Management).",
    .capabilities = kCapabilities,
    .vtable = &kVtable,
    // init checks libvirt; deinit stops and joins the event-loop thread (event_loop.hpp).
    .init = &pdk::libraryInit<paddock::lvq::Library>,
    .deinit = &pdk::libraryDeinit<paddock::lvq::Library>,
    .next = nullptr,
};

}  // namespace

extern "C" PDK_EXPORT const pdk_plugin_descriptor* pdk_plugin_entry(void) { return &kDescriptor; }
