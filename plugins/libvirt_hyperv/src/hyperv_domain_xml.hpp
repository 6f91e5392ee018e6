// The domain XML of the libvirt-hyperv backend (libvirt's hyperv driver, <domain type='hyperv'>).
// No libvirt calls here, so the unit is tested directly against golden files.
//
// The driver defines a Hyper-V VM from the name, memory, vCPUs, one disk (an existing VHD/VHDX
// on the Hyper-V host, attached to the IDE controller as hda) and one NIC on a virtual switch
// (named by network_name). Hyper-V has no metadata element libvirt stores, no direct kernel
// boot and no user-mode networking, so specs asking for those are refused.
//
// Threading: reentrant. Errors: pdk::Error(PDK_ERR_INVALID_ARGUMENT) for such a spec, a
// domain_type other than NULL/"auto"/"hyperv", a name with '/', and everything
// requireDomainSpec refuses.
#pragma once

#include <paddock/pdk_backend.h>

#include <string>

namespace paddock::lvhyperv {

std::string buildHypervDomainXml(const pdk_domain_spec& spec);

}  // namespace paddock::lvhyperv
