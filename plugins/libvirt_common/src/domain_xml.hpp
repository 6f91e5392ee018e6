// Pure builders and parsers for the XML the libvirt-qemu backend exchanges with libvirt:
// domain definitions, Paddock's metadata element, snapshot, checkpoint, backup and
// overlay-volume definitions.
// No libvirt calls here, so the unit is tested directly against golden files.
//
// Ownership: inputs are borrowed for the call; results are returned by value.
// Threading: every function is reentrant.
// Errors: pdk::Error(PDK_ERR_INVALID_ARGUMENT) for inputs XML cannot carry or a malformed spec.
#pragma once

#include <paddock/pdk_backend.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace paddock::lvq {

inline constexpr const char* kMetadataUri = "https://paddock.dev/xmlns/vm/1";
inline constexpr const char* kMetadataPrefix = "paddock";
inline constexpr const char* kQemuNsUri = "http://libvirt.org/schemas/domain/qemu/1.0";
// Metadata key holding the host port forwarded to guest port 22 (user-mode networking).
inline constexpr const char* kSshPortKey = "ssh_port";

using KeyValues = std::vector<std::pair<std::string, std::string>>;

class XmlWriter;

class XmlWriter;

// <disk type='file' device='disk'> for spec.disk_path (non-NULL) in spec.disk_format (NULL: raw)
// as target `dev` on `bus` ("vda"/"virtio" under QEMU, "xvda"/"xen" under Xen).
void writeFileDisk(XmlWriter& w, const pdk_domain_spec& spec, const char* dev, const char* bus);

// Longest domain name a libvirt backend defines: libvirt names files after the domain and
// NAME_MAX is 255 bytes, so this leaves room for the suffixes it adds.
inline constexpr std::size_t kMaxDomainNameBytes = 200;

// The checks every backend's domain XML needs: a name (1..kMaxDomainNameBytes bytes, no '/' and
// no control characters), at least one vCPU and 1 MiB, a known network_mode with its
// network_name, metadata consistent with its count. PDK_ERR_INVALID_ARGUMENT otherwise.
void requireDomainSpec(const pdk_domain_spec& spec);
// The host part of QEMU's hostfwd= for spec.ssh_forward_address (ABI 1.7): "127.0.0.1" for NULL
// or "", an IPv4 literal as is, an IPv6 literal in brackets. Anything else (names, ports, zone
// ids, separators) is PDK_ERR_INVALID_ARGUMENT; requireDomainSpec checks it too.
std::string hostfwdAddress(const char* address);
// The format of a storage volume from its XML (<target><format type='qcow2'/>); "" when none.
std::string volumeFormatOf(const std::string& volumeXml);

// Writes <metadata><paddock:vm xmlns:paddock=..><paddock:entry key=..>value</..>...</metadata>,
// the element every backend's domain carries Paddock's facts in.
void writeMetadataElement(XmlWriter& w, const KeyValues& pairs);

// How a spec becomes XML on one particular driver; resolved by the connection.
struct DomainXmlOptions {
    std::string domainType = "qemu";  // "kvm", "qemu", or "test" for libvirt's test driver
    std::string arch = "x86_64";      // empty: let the driver choose
    // Empty: let the driver choose. Measured with Paddock's guest under TCG (median of 3 to
    // SSH login): q35 6.7 s, pc 10.3 s.
    std::string machine = "q35";
};

// PCI slot of the user-mode NIC added through <qemu:commandline>. libvirt never learns about
// that device, so it gets a slot libvirt does not hand out: on q35 libvirt puts its PCIe root
// ports at 00:02.x upwards and the chipset owns 00:1f (LPC, SATA, SMBus); on pc the last slot.
std::string userNicSlotFor(const std::string& machine);

// The PCI root bus name qemu uses for `machine` ("pcie.0" for q35, "pci.0" otherwise).
std::string rootBusFor(const std::string& machine);

// The full <domain> definition for `spec`. The spec's metadata goes under Paddock's namespace;
// with PDK_NETWORK_USER and a forward port, "ssh_port" is added when the spec lacks it.
std::string buildDomainXml(const pdk_domain_spec& spec, const DomainXmlOptions& options);

// The metadata pairs the domain will carry for `spec` (spec pairs + implied ssh_port).
KeyValues metadataFor(const pdk_domain_spec& spec);

// Paddock's metadata element (<vm><entry key="..">value</entry>...</vm>, no namespace: libvirt
// applies it) for virDomainSetMetadata.
std::string buildMetadataElement(const KeyValues& pairs);

// Reads the entries of a Paddock metadata element as returned by virDomainGetMetadata
// (namespaced or not). Malformed XML -> PDK_ERR_INTERNAL.
KeyValues parseMetadataElement(const std::string& xml);

// Paddock's metadata entries inside a full domain XML (<metadata><paddock:vm>, matched by
// namespace URI whatever the prefix), for drivers without virDomainGetMetadata (libxl): libvirt
// keeps a definition's <metadata> for every driver. Malformed XML -> PDK_ERR_INTERNAL.
KeyValues parseDomainMetadata(const std::string& domainXml);

// `domainXml` with Paddock's metadata element replaced by `pairs` (added when there is none;
// other applications' metadata stays), for drivers without virDomainSetMetadata, which then
// redefine the domain. Malformed XML -> PDK_ERR_INTERNAL; keys or values XML cannot carry ->
// PDK_ERR_INVALID_ARGUMENT.
std::string replaceDomainMetadata(const std::string& domainXml, const KeyValues& pairs);

// <domainsnapshot><name>..</name>[<description>..</description>]</domainsnapshot>; an empty
// description is left out.
std::string buildSnapshotXml(const std::string& name, const std::string& description = {});

// The path volume `volume` gets in the file-based storage pool (dir, fs, netfs) that `poolXml`
// (pool-dumpxml) defines: its target path and the volume name. PDK_ERR_UNSUPPORTED for other pool
// types, which do not name volumes by a path known in advance.
std::string volumePathInPool(const std::string& poolXml, const std::string& poolName, const std::string& volume);

// What a snapshot's XML (virDomainSnapshotGetXMLDesc) says about it.
struct SnapshotFacts {
    std::string name;
    std::string description;
    std::string parent;  // empty: none
    int64_t createdAt = 0;
    pdk_domain_state state = PDK_DOMAIN_NOSTATE;  // "disk-snapshot" (disk only) reads as shut off
    bool hasMemory = false;
};
SnapshotFacts parseSnapshotXml(const std::string& xml);

// <domaincheckpoint><name>..</name></domaincheckpoint>
std::string buildCheckpointXml(const std::string& name);

// One disk of a push-mode backup: the domain's disk by its target name, written as qcow2 to
// `targetFile`.
struct BackupDisk {
    std::string target;  // e.g. "vda"
    std::string targetFile;
};

// <domainbackup mode='push'> for `disks` (the domain's other disks take no part), incremental
// from checkpoint `incrementalFrom` unless it is empty.
std::string buildBackupXml(const std::vector<BackupDisk>& disks, const std::string& incrementalFrom);

// A device='disk' disk of a domain XML, in document order.
struct DomainDisk {
    std::string target;  // <target dev>
    std::string type;    // "file", "block", "network", ...
    std::string source;  // <source file> or <source dev>; empty for other sources
    std::string format;  // <driver type>
};
std::vector<DomainDisk> parseDisks(const std::string& domainXml);

// A qcow2 (compat 1.1) overlay volume over `backingPath` of format `backingFormat`.
std::string buildOverlayVolumeXml(const std::string& name, uint64_t capacityBytes, const std::string& backingPath,
                                  const std::string& backingFormat);

// Paths of the primary sources (<source file|dev>) of every device='disk' disk in a domain XML.
std::vector<std::string> parseDiskPaths(const std::string& domainXml);

// True when a capabilities document lists a `domainType` guest domain for `arch`.
bool capsListDomainType(const std::string& capsXml, const std::string& arch, const std::string& domainType);

// True when the host CPU in a capabilities document has hardware virtualisation (vmx or svm).
bool capsHostHasVirtualization(const std::string& capsXml);

}  // namespace paddock::lvq
