// libvirt-free facts about a libvirt URI and the host it names, shared by the libvirt backends
// and the virsh backend. Reentrant; no state.
#pragma once

#include <paddock/pdk_backend.h>

#include <string>

namespace paddock::lvq {

// The URI's scheme, lower-cased ("xen+ssh" for xen+ssh://host/system); empty when it has none.
std::string uriScheme(const std::string& uri);

// A URI like qemu:///system (empty authority) or the default URI stays on this host.
bool uriIsLocal(const std::string& uri);

// What domain_type "auto" means on a QEMU host whose capabilities XML is `capsXml`: "kvm" when
// libvirt lists kvm for x86_64 and the CPU offers vmx/svm (the capabilities say so, or, for a
// host that is this one, /proc/cpuinfo does), else "qemu" (TCG). libvirt lists kvm whenever
// /dev/kvm exists, even when the CPU offers no vmx/svm (nested guests without it): only a CPU
// flag proves kvm can really run.
std::string autoQemuDomainType(const std::string& capsXml, bool hostIsLocal);

// volume_info of a file no storage pool holds: on a local host a regular file (or block device)
// is described from the file itself (in_pool 0, format qcow2 by its header, else raw; capacity
// left to the caller); otherwise, or when it is missing, throws pdk::Error PDK_ERR_NOT_FOUND
// saying why. Only libvirt's storage API can see files on a remote host.
void describeUnpooledFile(const std::string& file, bool hostIsLocal, pdk_volume_info& out);

}  // namespace paddock::lvq
