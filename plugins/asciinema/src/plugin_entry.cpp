// The plugin's one exported symbol and its static descriptor.
#include "cast_file.hpp"

#include <paddock/cpp/recorder.hpp>

namespace {

const pdk_recorder_vtable kVtable = pdk::makeRecorderVtable<paddock::asciinema::CastRecording>();

const char* const kCapabilities[] = {"format.asciicast-v2", "events.output", "events.input", "events.resize",
                                     "events.marker", nullptr};

const pdk_plugin_descriptor kDescriptor = {
    sizeof(pdk_plugin_descriptor),
    PDK_ABI_VERSION_MAJOR,
    PDK_ABI_VERSION_MINOR,
    PDK_PLUGIN_KIND_RECORDER,
    "org.paddock.asciinema",
    "asciinema recorder",
    "1.0.0",
    "Records terminal sessions as asciinema v2 casts (<directory>/<session_id>.cast).",
    kCapabilities,
    &kVtable,
};

}  // namespace

extern "C" PDK_EXPORT const pdk_plugin_descriptor* pdk_plugin_entry(void) { return &kDescriptor; }
