#include "event_loop.hpp"

#include <paddock/cpp/plugin.hpp>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xmlschemastypes.h>

#include <dlfcn.h>
#include <pthread.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

namespace paddock::lvq {

namespace {

// The loop thread's name, visible in /proc/<pid>/task/*/comm (tests look for it).
constexpr const char* kLoopThreadName = "pdk-lvq-events";

// libvirt prints every error to stderr by default; errors reach callers through pdk_error.
void silentErrorHandler(void*, virErrorPtr) {}

// A timer's only job is to make virEventRunDefaultImpl return, so the loop sees `stop`.
void wakeLoop(int, void*) {}

struct Runtime {
    std::mutex mutex;  // guards everything below
    bool libvirtReady = false;
    std::thread thread;
    std::atomic<bool> stop{false};
    int wakeTimer = -1;  // registered disabled; armed (0 ms) to stop the loop

    // Reached with a running loop only at process exit without a deinit (a 1.0 host, or a host
    // that never unloads): the thread ends with the process, as it always did.
    ~Runtime() {
        if (thread.joinable()) thread.detach();
    }
};

Runtime& runtime() {
    static Runtime r;
    return r;
}

std::string lastLibvirtError() {
    const virErrorPtr e = virGetLastError();
    std::string message = e != nullptr && e->message != nullptr ? e->message : "unknown error";
    virResetLastError();
    return message;
}

void runLoop(std::atomic<bool>* stop) {
    pdk::log(PDK_LOG_DEBUG, "libvirt event loop started");
    while (!stop->load()) {
        if (virEventRunDefaultImpl() < 0) pdk::log(PDK_LOG_WARNING, "libvirt event loop: " + lastLibvirtError());
    }
    pdk::log(PDK_LOG_DEBUG, "libvirt event loop stopped");
}

// A 1.0 host never calls deinit, so nothing would stop the loop before it unloads the library:
// promote this library to "never unload" (RTLD_NODELETE on the mapping that is already there).
// Under a 1.1 host the library stays unloadable: its deinit stops the loop first.
void pinLibrary() {
    Dl_info self{};
    if (::dladdr(reinterpret_cast<void*>(&pinLibrary), &self) == 0 || self.dli_fname == nullptr) return;
    // The handle is never closed on purpose: it is the pin.
    (void)::dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

void initLibvirtLocked(Runtime& r) {
    if (r.libvirtReady) return;
    virSetErrorFunc(nullptr, &silentErrorHandler);
    // Both are idempotent in libvirt (once per process), so a reloaded library may call them again.
    if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) {
        throw pdk::Error(PDK_ERR_INTERNAL, "cannot initialise libvirt or its event loop: " + lastLibvirtError());
    }
    // libxml2 registers its XML Schema datatypes lazily and not thread-safely: two domains
    // validated at once in this process (the test driver validates in-process) could find the
    // type library half made ("Error type 'unsignedInt' is not exported"; seen once in CI).
    xmlInitParser();
    xmlSchemaInitTypes();
    xmlRelaxNGInitTypes();
    r.libvirtReady = true;
}

}  // namespace

void initLibvirt() {
    Runtime& r = runtime();
    std::lock_guard lock(r.mutex);
    initLibvirtLocked(r);
}

void ensureLibvirtRuntime() {
    Runtime& r = runtime();
    std::lock_guard lock(r.mutex);
    initLibvirtLocked(r);
    if (r.thread.joinable()) return;
    if (r.wakeTimer < 0) {
        r.wakeTimer = virEventAddTimeout(-1, &wakeLoop, nullptr, nullptr);
        if (r.wakeTimer < 0) {
            throw pdk::Error(PDK_ERR_INTERNAL,
                             "cannot add the libvirt event loop's wake-up timer: " + lastLibvirtError());
        }
    }
    r.stop = false;
    r.thread = std::thread(runLoop, &r.stop);
    // Named here rather than by the thread itself, so the name is there once this returns.
    ::pthread_setname_np(r.thread.native_handle(), kLoopThreadName);
    if (!pdk::hostAttached()) pinLibrary();
}

void stopLibvirtRuntime() noexcept {
    Runtime& r = runtime();
    std::lock_guard lock(r.mutex);
    if (r.thread.joinable()) {
        r.stop = true;
        virEventUpdateTimeout(r.wakeTimer, 0);  // fires on every iteration until removed
        r.thread.join();
    }
    if (r.wakeTimer >= 0) {
        // Removal completes in a later loop iteration (libvirt frees the timer there); our
        // callback is never called again.
        virEventRemoveTimeout(r.wakeTimer);
        r.wakeTimer = -1;
    }
    if (r.libvirtReady) {
        // libvirt would otherwise keep calling silentErrorHandler after this library is gone.
        virSetErrorFunc(nullptr, nullptr);
        r.libvirtReady = false;
    }
    virResetLastError();
}

void Library::init(const pdk_host&) {
    // Fail the load now, with libvirt's reason, rather than at the first connection. The loop
    // thread waits for a connection: a host may load this backend and never use it.
    initLibvirt();
}

void Library::deinit() noexcept { stopLibvirtRuntime(); }

}  // namespace paddock::lvq
