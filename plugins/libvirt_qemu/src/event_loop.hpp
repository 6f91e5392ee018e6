// Process-wide libvirt setup the backend needs before its first connection opens: the default
// event loop implementation (driving domain events, keepalive and close callbacks) on one
// backend-owned thread, and a silent error handler.
//
// Threading: ensureLibvirtRuntime() may be called from any thread; only the first call acts.
// Lifetime: the loop thread runs until the process exits; libvirt cannot unregister an event
// implementation, so the plugin is linked with -z nodelete and is never unmapped under it.
#pragma once

namespace paddock::lvq {

void ensureLibvirtRuntime();

}  // namespace paddock::lvq
