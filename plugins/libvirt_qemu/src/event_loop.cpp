#include "event_loop.hpp"

#include <paddock/cpp/backend.hpp>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <mutex>
#include <thread>

namespace paddock::lvq {

namespace {

// libvirt prints every error to stderr by default; errors reach callers through pdk_error.
void silentErrorHandler(void*, virErrorPtr) {}

void runLoop() {
    for (;;) {
        if (virEventRunDefaultImpl() < 0) virResetLastError();
    }
}

}  // namespace

void ensureLibvirtRuntime() {
    static std::once_flag once;
    static bool ok = false;
    std::call_once(once, [] {
        virSetErrorFunc(nullptr, &silentErrorHandler);
        if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) return;
        std::thread(runLoop).detach();
        ok = true;
    });
    if (!ok) throw pdk::Error(PDK_ERR_INTERNAL, "cannot initialise libvirt or its event loop");
}

}  // namespace paddock::lvq
