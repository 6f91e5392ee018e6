#include "connection.hpp"

#include "event_loop.hpp"

#include <paddock/cpp/backend.hpp>

#include <libvirt/virterror.h>

#include <cstdio>
#include <cstring>
#include <fstream>

namespace paddock::lvq {

namespace {

// Each libvirt registration owns one shared_ptr copy, freed by libvirt when it drops the
// registration, which may be after the Connection is gone.
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

// A URI like qemu:///system (empty authority) or the default URI stays on this host.
bool uriIsLocal(const std::string& uri) {
    const size_t scheme = uri.find("://");
    return scheme == std::string::npos || uri.compare(scheme + 3, 1, "/") == 0;
}

bool cpuinfoHasVirtualization() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("flags", 0) == 0 &&
            (line.find(" vmx") != std::string::npos || line.find(" svm") != std::string::npos))
            return true;
    }
    return false;
}

void copyTo(char* dst, size_t capacity, const std::string& src) { std::snprintf(dst, capacity, "%s", src.c_str()); }

}  // namespace

void EventRelay::emit(const char* name, pdk_lifecycle_event event) {
    std::lock_guard lock(mutex);
    if (sink != nullptr) sink(user, name, event);
}

std::unique_ptr<Connection> Connection::open(const char* uri, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    // The event implementation must exist before the first virConnectOpen.
    ensureLibvirtRuntime();
    virConnectPtr conn = virConnectOpen(uri != nullptr && *uri != '\0' ? uri : nullptr);
    if (conn == nullptr) {
        const virErrorPtr e = virGetLastError();
        const std::string message = std::string("cannot connect to '") + (uri != nullptr ? uri : "") +
                                    "': " + (e != nullptr && e->message != nullptr ? e->message : "unknown error");
        virResetLastError();
        throw pdk::Error(PDK_ERR_UNAVAILABLE, message);
    }
    return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::Connection(virConnectPtr conn) : conn_(conn), relay_(std::make_shared<EventRelay>()) {
    try {
        const char* type = virConnectGetType(conn_);
        driverType_ = type != nullptr ? type : "";
        isTestDriver_ = driverType_ == "TEST" || driverType_ == "Test";
        isLocal_ = uriIsLocal(takeString(virConnectGetURI(conn_)));
        // Keepalive only exists on remote transports; other drivers refuse it, harmlessly.
        if (virConnectSetKeepAlive(conn_, 5, 3) < 0) virResetLastError();
        void* ref = newRelayRef(relay_);
        if (virConnectRegisterCloseCallback(conn_, &onClose, ref, &freeRelayRef) == 0) {
            closeCallbackRegistered_ = true;
        } else {
            freeRelayRef(ref);
            virResetLastError();
        }
        autoDomainType_ = resolveAutoDomainType();
    } catch (...) {
        if (closeCallbackRegistered_) virConnectUnregisterCloseCallback(conn_, &onClose);
        virConnectClose(conn_);
        throw;
    }
}

Connection::~Connection() {
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

std::string Connection::resolveAutoDomainType() {
    if (isTestDriver_) return "qemu";
    const std::string caps = takeString(virConnectGetCapabilities(conn_));
    if (caps.empty()) throwLastError("cannot read host capabilities");
    // libvirt lists kvm whenever /dev/kvm exists, even when the CPU offers no vmx/svm (nested
    // guests without it): only a CPU flag proves kvm can really run.
    if (!capsListDomainType(caps, "x86_64", "kvm")) return "qemu";
    const bool cpuOk = capsHostHasVirtualization(caps) || (isLocal_ && cpuinfoHasVirtualization());
    return cpuOk ? "kvm" : "qemu";
}

bool Connection::isAlive() { return !relay_->lost && virConnectIsAlive(conn_) == 1; }

void Connection::hostInfo(uint32_t flags, pdk_host_info& out) {
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

void Connection::subscribeEvents(pdk_event_sink sink, void* user, uint32_t flags) {
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

DomainHandle Connection::lookupDomain(const char* name) {
    DomainHandle dom(virDomainLookupByName(conn_, name));
    if (!dom) throwLastError(std::string("domain '") + name + "'");
    return dom;
}

DomainXmlOptions Connection::xmlOptionsFor(const pdk_domain_spec& spec) const {
    const std::string requested = spec.domain_type != nullptr ? spec.domain_type : "auto";
    if (requested != "auto" && requested != "kvm" && requested != "qemu")
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "domain_type must be auto, kvm or qemu, not '" + requested + "'");
    DomainXmlOptions options;
    if (isTestDriver_) {
        // The test driver knows only <domain type='test'> on i686 and has no machine types.
        options.domainType = "test";
        options.arch.clear();
        options.machine.clear();
        return options;
    }
    options.domainType = requested == "auto" ? autoDomainType_ : requested;
    return options;
}

}  // namespace paddock::lvq
