#include "hyperv_connection.hpp"

#include "event_loop.hpp"
#include "hyperv_domain_xml.hpp"

#include <paddock/cpp/backend.hpp>

#include <libvirt/virterror.h>

#include <mutex>

namespace paddock::lvhyperv {

namespace {

constexpr const char* kUriHint = "org.paddock.libvirt-hyperv takes hyperv://host/ URIs";
constexpr const char* kProbeUri = "hyperv://localhost/?transport=paddock-probe";

bool probeDriver() {
    lvq::initLibvirt();
    virConnectPtr conn = virConnectOpen(kProbeUri);
    if (conn != nullptr) {
        // Nothing should accept the probe; whatever did, it was not a hyperv driver parsing it.
        virConnectClose(conn);
        virResetLastError();
        return false;
    }
    const virErrorPtr e = virGetLastError();
    const bool driverRefusedTransport = e != nullptr && e->code == VIR_ERR_INVALID_ARG && e->message != nullptr &&
                                        std::string(e->message).find("transport") != std::string::npos;
    virResetLastError();
    return driverRefusedTransport;
}

}  // namespace

bool hypervDriverAvailable() {
    static std::once_flag once;
    static bool available = false;
    std::call_once(once, [] { available = probeDriver(); });
    return available;
}

void requireHypervUri(const char* uri) {
    if (uri == nullptr || *uri == '\0')
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, std::string("a URI is required: ") + kUriHint);
    const std::string text = uri;
    if (lvq::uriScheme(text) != "hyperv" || text.compare(6, 3, "://") != 0)
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, std::string(kUriHint) + ", not '" + text + "'");
}

std::unique_ptr<HypervConnection> HypervConnection::open(const char* uri, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    requireHypervUri(uri);
    if (!hypervDriverAvailable()) throw pdk::Error(PDK_ERR_UNAVAILABLE, "libvirt on this host has no hyperv driver");
    return std::unique_ptr<HypervConnection>(new HypervConnection(lvq::openLibvirt(uri)));
}

HypervConnection::HypervConnection(virConnectPtr conn) : LibvirtConnection(conn) {
    autoDomainType_ = "hyperv";
    metadataSupported_ = false;
}

void HypervConnection::defineDomain(const pdk_domain_spec& spec, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    defineXml(spec.name, buildHypervDomainXml(spec));
}

}  // namespace paddock::lvhyperv
