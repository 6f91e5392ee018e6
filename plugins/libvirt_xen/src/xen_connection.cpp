#include "xen_connection.hpp"

#include "xen_domain_xml.hpp"

#include <paddock/cpp/backend.hpp>

#include <libvirt/virterror.h>

namespace paddock::lvxen {

namespace {

constexpr const char* kUriHint = "org.paddock.libvirt-xen takes xen:///system or xen+<transport>://host/system URIs";

// The host part of scheme://[user@]host[:port]/path, empty for a local URI.
std::string uriHost(const std::string& uri) {
    const size_t start = uri.find("://");
    if (start == std::string::npos) return {};
    std::string authority = uri.substr(start + 3, uri.find('/', start + 3) - (start + 3));
    if (const size_t at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
    if (const size_t colon = authority.rfind(':'); colon != std::string::npos && authority.find(']') == std::string::npos)
        authority.erase(colon);
    return authority;
}

void mapOpenError(const std::string& uri, int code, const std::string& message) {
    const bool local = lvq::uriIsLocal(uri);
    if (code == VIR_ERR_NO_CONNECT && message.find("no connection driver available") != std::string::npos) {
        throw pdk::Error(PDK_ERR_UNAVAILABLE,
                         local ? "libvirt on this host has no xen driver"
                               : "libvirt on " + uriHost(uri) + " has no xen driver");
    }
    if (local && message.find("Failed to connect socket") != std::string::npos)
        throw pdk::Error(PDK_ERR_UNAVAILABLE, "libvirtd is not running on this host: " + message);
}

}  // namespace

void requireXenUri(const char* uri) {
    if (uri == nullptr || *uri == '\0')
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, std::string("a URI is required: ") + kUriHint);
    const std::string scheme = lvq::uriScheme(uri);
    const bool ok = (scheme == "xen" || (scheme.rfind("xen+", 0) == 0 && scheme.size() > 4)) &&
                    std::string(uri).compare(scheme.size(), 3, "://") == 0;
    if (!ok) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, std::string(kUriHint) + ", not '" + uri + "'");
}

std::unique_ptr<XenConnection> XenConnection::open(const char* uri, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    requireXenUri(uri);
    return std::unique_ptr<XenConnection>(new XenConnection(lvq::openLibvirt(uri, &mapOpenError)));
}

XenConnection::XenConnection(virConnectPtr conn) : LibvirtConnection(conn) { autoDomainType_ = "xen"; }

void XenConnection::defineDomain(const pdk_domain_spec& spec, uint32_t flags) {
    pdk::checkFlags(flags, 0);
    defineXml(spec.name, buildXenDomainXml(spec));
}

}  // namespace paddock::lvxen
