#include "libvirt_util.hpp"

#include <paddock/cpp/backend.hpp>

#include <libvirt/virterror.h>

namespace paddock::lvq {

std::string takeString(char* s) {
    std::unique_ptr<char, CFree> owned(s);
    return s == nullptr ? std::string() : std::string(s);
}

pdk_status statusForLibvirtCode(int code) {
    switch (code) {
        case VIR_ERR_NO_DOMAIN:
        case VIR_ERR_NO_STORAGE_POOL:
        case VIR_ERR_NO_STORAGE_VOL:
        case VIR_ERR_NO_DOMAIN_SNAPSHOT:
        case VIR_ERR_NO_NETWORK:
        case VIR_ERR_NO_DOMAIN_METADATA:
        case VIR_ERR_NO_DOMAIN_CHECKPOINT: return PDK_ERR_NOT_FOUND;
        case VIR_ERR_DOM_EXIST:
        case VIR_ERR_STORAGE_VOL_EXIST: return PDK_ERR_ALREADY_EXISTS;
        case VIR_ERR_OPERATION_INVALID: return PDK_ERR_CONFLICT;
        case VIR_ERR_NO_SUPPORT:
        case VIR_ERR_ARGUMENT_UNSUPPORTED:
        case VIR_ERR_OPERATION_UNSUPPORTED:
        case VIR_ERR_CONFIG_UNSUPPORTED: return PDK_ERR_UNSUPPORTED;
        case VIR_ERR_SYSTEM_ERROR:
        case VIR_ERR_RPC:
        case VIR_ERR_NO_CONNECT:
        case VIR_ERR_AUTH_FAILED:
        case VIR_ERR_AGENT_UNRESPONSIVE:
        case VIR_ERR_AGENT_UNSYNCED: return PDK_ERR_UNAVAILABLE;
        case VIR_ERR_OPERATION_TIMEOUT: return PDK_ERR_TIMEOUT;
        case VIR_ERR_INVALID_ARG:
        case VIR_ERR_XML_ERROR:
        case VIR_ERR_XML_DETAIL:
        case VIR_ERR_XML_INVALID_SCHEMA: return PDK_ERR_INVALID_ARGUMENT;
        default: return PDK_ERR_INTERNAL;
    }
}

int lastErrorCode() {
    const virErrorPtr e = virGetLastError();
    return e == nullptr ? VIR_ERR_OK : e->code;
}

pdk::Error takeLastError(const std::string& context) {
    const virErrorPtr e = virGetLastError();
    if (e == nullptr) return pdk::Error(PDK_ERR_INTERNAL, context + ": unknown libvirt error");
    pdk_status status = statusForLibvirtCode(e->code);
    // The RPC layer reports its own failures (keepalive timeout, a closed socket) as internal
    // errors: the host is out of reach, which callers show as 503, not 500.
    if (status == PDK_ERR_INTERNAL && e->domain == VIR_FROM_RPC) status = PDK_ERR_UNAVAILABLE;
    std::string message = context + ": " + (e->message != nullptr ? e->message : "libvirt error");
    virResetLastError();
    return pdk::Error(status, message);
}

void throwLastError(const std::string& context) { throw takeLastError(context); }

bool isActive(virDomainPtr dom) {
    const int active = virDomainIsActive(dom);
    if (active < 0) {
        const char* name = virDomainGetName(dom);
        throwLastError(std::string("cannot read the state of domain '") + (name != nullptr ? name : "") + "'");
    }
    return active == 1;
}

bool lastErrorIsUnsupported() {
    const int code = lastErrorCode();
    return code == VIR_ERR_NO_SUPPORT || code == VIR_ERR_ARGUMENT_UNSUPPORTED || code == VIR_ERR_INVALID_ARG;
}

}  // namespace paddock::lvq
