// The libvirt-hyperv backend's connection: LibvirtConnection (libvirt_common) on libvirt's
// hyperv driver, which talks WS-Management to a Windows host straight from this process (no
// libvirtd).
//
// URIs: hyperv://host/ (https, port 5986) and hyperv://host/?transport=http; any other scheme,
// and a NULL or empty URI, is PDK_ERR_INVALID_ARGUMENT at open.
// Driver missing: before it opens, open() probes whether this libvirt has the hyperv driver
// (hypervDriverAvailable); without it the answer is PDK_ERR_UNAVAILABLE "libvirt on this host
// has no hyperv driver", without any network traffic.
//
// Supported (public): open/close/is_alive/host_info, define/start/shutdown/destroy/undefine,
// list/get. Not exposed, so NULL in the vtable: metadata (the driver stores none), snapshots,
// save, events, console, overlays and volumes (no storage driver for Hyper-V), SSH target,
// backups and the guest agent.
//
// Threading and errors: as LibvirtConnection.
#pragma once

#include "libvirt_connection.hpp"

#include <memory>

namespace paddock::lvhyperv {

class HypervConnection : protected lvq::LibvirtConnection {
public:
    static std::unique_ptr<HypervConnection> open(const char* uri, uint32_t flags);

    void defineDomain(const pdk_domain_spec& spec, uint32_t flags);

    using LibvirtConnection::destroyDomain;
    using LibvirtConnection::getDomain;
    using LibvirtConnection::hostInfo;
    using LibvirtConnection::isAlive;
    using LibvirtConnection::listDomains;
    using LibvirtConnection::shutdownDomain;
    using LibvirtConnection::startDomain;
    using LibvirtConnection::suspendDomain;
    using LibvirtConnection::undefineDomain;

private:
    explicit HypervConnection(virConnectPtr conn);
};

// PDK_ERR_INVALID_ARGUMENT unless `uri` is hyperv://host/...
void requireHypervUri(const char* uri);

// Whether this process's libvirt has the hyperv driver, probed once without network traffic:
// it opens hyperv://localhost/?transport=paddock-probe. A libvirt built without the driver
// refuses the scheme before any driver runs (VIR_ERR_CONFIG_UNSUPPORTED "libvirt was built
// without the 'hyperv' driver"); the driver itself refuses the bad transport parameter
// (VIR_ERR_INVALID_ARG) while parsing the URI, before it connects anywhere. Any other answer
// means some other driver (the remote one) took the URI: no hyperv driver either.
bool hypervDriverAvailable();

}  // namespace paddock::lvhyperv
