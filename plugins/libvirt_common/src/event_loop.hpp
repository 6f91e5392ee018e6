// Process-wide libvirt setup the backend needs: a silent error handler, libvirt's default event
// loop implementation (driving domain events, keepalive and close callbacks) and one
// backend-owned thread that runs it.
//
// Lifetime: the loop thread starts with the first connection (ensureLibvirtRuntime) and runs
// until the library's deinit (stopLibvirtRuntime), which wakes it with a libvirt timer, joins it
// and hands libvirt's global error handler back; a later connection starts it again. Under a 1.0
// host, which never calls init or deinit, the library pins itself in memory when it starts the
// loop, so unloading can never pull the code from under the thread.
//
// Threading: every function may be called from any thread; they serialise among themselves.
// stopLibvirtRuntime must not be called on the loop thread (an event sink must not unload).
#pragma once

#include <paddock/pdk_plugin.h>

namespace paddock::lvq {

// libvirt initialised and its default event implementation registered. Throws pdk::Error.
void initLibvirt();

// initLibvirt(), then the loop thread running. Throws pdk::Error.
void ensureLibvirtRuntime();

// Stops and joins the loop thread (if it runs) and resets libvirt's error handler. Never throws.
void stopLibvirtRuntime() noexcept;

// The library's init/deinit (see paddock/cpp/plugin.hpp).
struct Library {
    static void init(const pdk_host& host);
    static void deinit() noexcept;
};

}  // namespace paddock::lvq
