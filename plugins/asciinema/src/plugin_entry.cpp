// The plugin's one exported symbol and its static descriptor.
#include "cast_file.hpp"

#include <paddock/cpp/recorder.hpp>

namespace {

const pdk_recorder_vtable kVtable = pdk::makeRecorderVtable<paddock::asciinema::CastRecording>();

const char* const kCapabilities[] = {"format.asciicast-v2", "events.output", "events.input",
                                     "events.resize",       "events.marker", nullptr};

const pdk_plugin_descriptor kDescriptor = {
    .struct_size = sizeof(pdk_plugin_descriptor),
    .abi_major = PDK_ABI_VERSION_MAJOR,
    .abi_minor = PDK_ABI_VERSION_MINOR,
    .kind = PDK_PLUGIN_KIND_RECORDER,
    .id = "org.paddock.asciinema",
    .name = "asciinema recorder",
    .version = "1.0.0",
    .description = "Records terminal sessions as asciinema v2 casts (<directory>/<session_id>.cast).",
    .capabilities = kCapabilities,
    .vtable = &kVtable,
    .init = nullptr,  // nothing process-wide to set up or stop
    .deinit = nullptr,
    .next = nullptr,
};

}  // namespace

extern "C" PDK_EXPORT const pdk_plugin_descriptor* pdk_plugin_entry(void) { return &kDescriptor; }
