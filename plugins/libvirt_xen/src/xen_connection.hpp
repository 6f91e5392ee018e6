// The libvirt-xen backend's connection: LibvirtConnection (libvirt_common) on libvirt's libxl
// driver, with Xen domain XML (xen_domain_xml.hpp).
//
// URIs: xen:///system (this host's libvirtd) and xen+<transport>://host/system (ssh, tls, tcp,
// unix, ...); any other scheme, and a NULL or empty URI, is PDK_ERR_INVALID_ARGUMENT at open.
// A libvirtd without the libxl driver answers VIR_ERR_NO_CONNECT "no connection driver available
// for xen:///system": that is PDK_ERR_UNAVAILABLE "libvirt on this host has no xen driver"
// ("libvirt on <host> has no xen driver" for a remote URI); a libvirtd that is not running at all
// is PDK_ERR_UNAVAILABLE "libvirtd is not running on this host: <libvirt's message>".
//
// Supported (public): lifecycle, define, list/get, managed save (libxl save/restore), metadata,
// overlays and volume paths (libvirtd's storage driver), SSH target (DHCP lease of a libvirt
// network), lifecycle events. Not exposed, so NULL in the vtable: snapshots (libxl has no
// snapshot API), backups, checkpoints, restore_volume (qemu-img on QEMU disks) and guest_ping
// (the QEMU guest agent).
//
// Threading and errors: as LibvirtConnection.
#pragma once

#include "libvirt_connection.hpp"

#include <memory>

namespace paddock::lvxen {

class XenConnection : protected lvq::LibvirtConnection {
public:
    static std::unique_ptr<XenConnection> open(const char* uri, uint32_t flags);

    void defineDomain(const pdk_domain_spec& spec, uint32_t flags);

    using LibvirtConnection::createOverlay;
    using LibvirtConnection::deleteVolume;
    using LibvirtConnection::destroyDomain;
    using LibvirtConnection::getDomain;
    using LibvirtConnection::getMetadata;
    using LibvirtConnection::hostInfo;
    using LibvirtConnection::hostResources;
    using LibvirtConnection::isAlive;
    using LibvirtConnection::listDomains;
    using LibvirtConnection::saveDomain;
    using LibvirtConnection::setMetadata;
    using LibvirtConnection::shutdownDomain;
    using LibvirtConnection::sshTarget;
    using LibvirtConnection::startDomain;
    using LibvirtConnection::suspendDomain;
    using LibvirtConnection::subscribeEvents;
    using LibvirtConnection::undefineDomain;
    using LibvirtConnection::volumeInfo;
    using LibvirtConnection::volumePath;

private:
    explicit XenConnection(virConnectPtr conn);
};

// PDK_ERR_INVALID_ARGUMENT unless `uri` is xen://... or xen+<transport>://...
void requireXenUri(const char* uri);

}  // namespace paddock::lvxen
