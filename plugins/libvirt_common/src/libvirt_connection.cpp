#include "libvirt_connection.hpp"

#include "event_loop.hpp"

#include <paddock/cpp/backend.hpp>

#include <libvirt/virterror.h>

#include <cstdio>
#include <cstring>

namespace paddock::lvq {

namespace {

// Each libvirt registration owns one shared_ptr copy, freed by libvirt when it drops the
// registration, which may be after the connection is gone.
void* newRelayRef(const std::shared_ptr<EventRelay>& relay) { return new std::shared_ptr<EventRelay>(relay); }
void freeRelayRef(void* opaque) { delete static_cast<std::shared_ptr<EventRelay>*>(opaque); }
EventRelay& relayOf(void* opaque) { return **static_cast<std::shared_ptr<EventRelay>*>(opaque); }

pdk_lifecycle_event toPdkEvent(int event) {
    switch (event) {
        case VIR_DOMAIN_EVENT_DEFINED: return PDK_EVENT_DEFINED;
        case VIR_DOMAIN_EVENT_UNDEFINED: return PDK_EVENT_UNDEFINED;
        case VIR_DOMAIN_EVENT_STARTED: return PDK_EVENT_STARTED;
        case VIR_DOMAIN_EVENT_SUSPENDED: return PDK_EVENT_SUSPENDED;
        case VIR_DOMAIN_EVENT_RESUMED: return PDK_EVENT_RESUMED;
        case VIR_DOMAIN_EVENT_STOPPED: return PDK_EVENT_STOPPED;
        case VIR_DOMAIN_EVENT_SHUTDOWN: return PDK_EVENT_SHUTDOWN;
        case VIR_DOMAIN_EVENT_PMSUSPENDED: return PDK_EVENT_PMSUSPENDED;
        default: return PDK_EVENT_CRASHED;
    }
}

int onLifecycle(virConnectPtr, virDomainPtr dom, int event, int, void* opaque) {
    relayOf(opaque).emit(virDomainGetName(dom), toPdkEvent(event));
    return 0;
}

void onClose(virConnectPtr, int, void* opaque) {
    EventRelay& relay = relayOf(opaque);
    relay.lost = true;
    relay.emit(nullptr, PDK_EVENT_CONNECTION_LOST);
}



void copyTo(char* dst, size_t capacity, const std::string& src) { std::snprintf(dst, capacity, "%s", src.c_str()); }

}  // namespace

virConnectPtr openLibvirt(const char* uri, OpenErrorMapper mapOpenError) {
    // The event implementation must exist before the first virConnectOpen.
    ensureLibvirtRuntime();
    const std::string target = uri != nullptr ? uri : "";
    virConnectPtr conn = virConnectOpen(target.empty() ? nullptr : target.c_str());
    if (conn == nullptr) {
        const virErrorPtr e = virGetLastError();
        const int code = e != nullptr ? e->code : VIR_ERR_OK;
        const std::string libvirtMessage = e != nullptr && e->message != nullptr ? e->message : "unknown error";
        virResetLastError();
        if (mapOpenError != nullptr) mapOpenError(target, code, libvirtMessage);
        throw pdk::Error(PDK_ERR_UNAVAILABLE, "cannot connect to '" + target + "': " + libvirtMessage);
    }
    return conn;
}

void EventRelay::emit(const char* name, pdk_lifecycle_event event) {
    std::lock_guard lock(mutex);
    if (sink != nullptr) sink(user, name, event);
}


LibvirtConnection::LibvirtConnection(virConnectPtr conn) : conn_(conn), relay_(std::make_shared<EventRelay>()) {
    try {
        const char* type = virConnectGetType(conn_);
        driverType_ = type != nullptr ? type : "";
        isTestDriver_ = driverType_ == "TEST" || driverType_ == "Test";
        isLocal_ = uriIsLocal(takeString(virConnectGetURI(conn_)));
        // Keepalive only exists on remote transports; other drivers refuse it, harmlessly.
        if (virConnectSetKeepAlive(conn_, 5, 3) < 0) virResetLastError();
        // The connection owns the close callback's reference and frees it after unregistering:
        // libvirt's in-process drivers (test, hyperv) accept the registration but never keep or
        // free the opaque, so handing libvirt a free callback leaked it once per connection.
        closeRef_ = std::make_unique<std::shared_ptr<EventRelay>>(relay_);
        if (virConnectRegisterCloseCallback(conn_, &onClose, closeRef_.get(), nullptr) == 0) {
            closeCallbackRegistered_ = true;
        } else {
            closeRef_.reset();
            virResetLastError();
        }
    } catch (...) {
        if (closeCallbackRegistered_) virConnectUnregisterCloseCallback(conn_, &onClose);
        virConnectClose(conn_);
        throw;
    }
}

LibvirtConnection::~LibvirtConnection() {
    {
        std::lock_guard lock(relay_->mutex);
        relay_->sink = nullptr;
    }
    {
        std::lock_guard lock(eventMutex_);
        if (lifecycleCallbackId_ >= 0) virConnectDomainEventDeregisterAny(conn_, lifecycleCallbackId_);
    }
    if (closeCallbackRegistered_) virConnectUnregisterCloseCallback(conn_, &onClose);
    virConnectClose(conn_);
    virResetLastError();
}


bool LibvirtConnection::isAlive() { return !relay_->lost && virConnectIsAlive(conn_) == 1; }

void LibvirtConnection::hostInfo(uint32_t flags, pdk_host_info& out) {
    pdk::checkFlags(flags, 0);
    const std::string host = takeString(virConnectGetHostname(conn_));
    if (host.empty()) throwLastError("cannot read the hostname");
    unsigned long libVersion = 0;
    if (virConnectGetLibVersion(conn_, &libVersion) < 0) throwLastError("cannot read the libvirt version");
    // Some drivers cannot tell the hypervisor's version: that is "unknown" (0), not a failure.
    unsigned long hvVersion = 0;
    if (virConnectGetVersion(conn_, &hvVersion) < 0) {
        hvVersion = 0;
        virResetLastError();
    }
    copyTo(out.hypervisor, sizeof out.hypervisor, driverType_);
    copyTo(out.auto_domain_type, sizeof out.auto_domain_type, autoDomainType_);
    copyTo(out.hostname, sizeof out.hostname, host);
    out.library_version = libVersion;
    out.hypervisor_version = hvVersion;
}

void LibvirtConnection::hostResources(uint32_t flags, pdk_host_resources& out) {
    pdk::checkFlags(flags, 0);
    virNodeInfo info{};
    if (virNodeGetInfo(conn_, &info) < 0) throwLastError("cannot read the host's CPUs and memory");
    out.cpus = info.cpus;
    out.memory_total_bytes = static_cast<uint64_t>(info.memory) * 1024;
    // libvirt's test driver answers its free figure in the wrong unit (3 MiB of its 3 GiB), so
    // on test:/// free is the total: an imaginary host never runs short.
    if (isTestDriver_) {
        out.memory_free_bytes = out.memory_total_bytes;
        return;
    }
    // What a new guest can have: free memory plus the page cache and buffers the kernel gives
    // back on demand (a busy host's MemFree alone is mostly eaten by its cache).
    int count = 0;
    if (virNodeGetMemoryStats(conn_, VIR_NODE_MEMORY_STATS_ALL_CELLS, nullptr, &count, 0) == 0 && count > 0) {
        std::vector<virNodeMemoryStats> stats(static_cast<size_t>(count));
        if (virNodeGetMemoryStats(conn_, VIR_NODE_MEMORY_STATS_ALL_CELLS, stats.data(), &count, 0) == 0) {
            unsigned long long availableKib = 0;
            bool sawFree = false;
            for (int i = 0; i < count; ++i) {
                const std::string field = stats[i].field;
                if (field == VIR_NODE_MEMORY_STATS_FREE) sawFree = true;
                if (field == VIR_NODE_MEMORY_STATS_FREE || field == VIR_NODE_MEMORY_STATS_BUFFERS ||
                    field == VIR_NODE_MEMORY_STATS_CACHED)
                    availableKib += stats[i].value;
            }
            if (sawFree) {
                out.memory_free_bytes = std::min<uint64_t>(availableKib * 1024, out.memory_total_bytes);
                return;
            }
        }
    }
    virResetLastError();
    // Drivers without memory stats: the free pages alone. 0 is also libvirt's error return; a
    // host with no free byte at all is not worth telling apart.
    const unsigned long long freeBytes = virNodeGetFreeMemory(conn_);
    if (freeBytes == 0 && lastErrorCode() != VIR_ERR_OK) throwLastError("cannot read the host's free memory");
    out.memory_free_bytes = freeBytes;
}

void LibvirtConnection::subscribeEvents(pdk_event_sink sink, void* user, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    std::lock_guard lock(eventMutex_);
    {
        std::lock_guard relayLock(relay_->mutex);
        relay_->sink = sink;
        relay_->user = user;
    }
    if (sink != nullptr && lifecycleCallbackId_ < 0) {
        void* ref = newRelayRef(relay_);
        const int id = virConnectDomainEventRegisterAny(conn_, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                        VIR_DOMAIN_EVENT_CALLBACK(&onLifecycle), ref, &freeRelayRef);
        if (id < 0) {
            freeRelayRef(ref);
            std::lock_guard relayLock(relay_->mutex);
            relay_->sink = nullptr;
            throwLastError("cannot subscribe to domain events");
        }
        lifecycleCallbackId_ = id;
    } else if (sink == nullptr && lifecycleCallbackId_ >= 0) {
        virConnectDomainEventDeregisterAny(conn_, lifecycleCallbackId_);
        virResetLastError();
        lifecycleCallbackId_ = -1;
    }
}

DomainHandle LibvirtConnection::lookupDomain(const char* name) {
    DomainHandle dom(virDomainLookupByName(conn_, name));
    if (!dom) throwLastError(std::string("domain '") + name + "'");
    return dom;
}


}  // namespace paddock::lvq
