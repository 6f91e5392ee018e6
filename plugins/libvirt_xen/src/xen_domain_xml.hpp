// The domain XML of the libvirt-xen backend (libvirt's libxl driver, <domain type='xen'>).
// No libvirt calls here, so the unit is tested directly against golden files.
//
// A spec with kernel_path becomes a PV guest booted directly from that kernel
// (<os><type>linux</type><kernel/><initrd/><cmdline/></os>); any other spec an HVM guest
// (machine xenfv) booting from its disk. The disk is a xen block device (xvda, bus xen, qdisk
// backend with the spec's format), the network a libvirt network's netfront interface.
//
// Threading: reentrant. Errors: pdk::Error(PDK_ERR_INVALID_ARGUMENT) for a spec Xen cannot run:
// user-mode networking (a QEMU feature), a domain_type other than NULL/"auto"/"xen", a name
// with '/', and everything requireDomainSpec refuses.
#pragma once

#include <paddock/pdk_backend.h>

#include <string>

namespace paddock::lvxen {

// PDK_ERR_INVALID_ARGUMENT unless `domainType` is NULL, "auto" or "xen".
void requireXenDomainType(const char* domainType);

std::string buildXenDomainXml(const pdk_domain_spec& spec);

}  // namespace paddock::lvxen
