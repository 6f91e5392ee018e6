#include "domain_xml.hpp"

#include "xml_reader.hpp"
#include "xml_writer.hpp"

#include <paddock/cpp/backend.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace paddock::lvq {

namespace {

std::string str(const char* s) { return s == nullptr ? std::string() : std::string(s); }

// The TCG translation-block cache of a type='qemu' domain, in MiB (see buildDomainXml). 32 MiB
// was QEMU's own system-emulation default before 5.2. Paddock's guest boots as fast with it
// (4 flushes during boot, none while idle) and an idle VM's qemu has 256 MiB RSS, not 426.
constexpr unsigned kTcgTbCacheMib = 32;


void writeOs(XmlWriter& w, const pdk_domain_spec& spec, const DomainXmlOptions& o) {
    w.start("os").start("type");
    if (!o.arch.empty()) w.attr("arch", o.arch);
    if (!o.machine.empty()) w.attr("machine", o.machine);
    w.text("hvm").end();
    if (spec.kernel_path != nullptr) {
        w.element("kernel", spec.kernel_path);
        if (spec.initrd_path != nullptr) w.element("initrd", spec.initrd_path);
        if (spec.kernel_cmdline != nullptr) w.element("cmdline", spec.kernel_cmdline);
    } else {
        w.start("boot").attr("dev", "hd").end();
    }
    w.end();
}


void writeDevices(XmlWriter& w, const pdk_domain_spec& spec) {
    w.start("devices");
    if (spec.disk_path != nullptr) writeFileDisk(w, spec, "vda", "virtio");
    if (spec.network_mode == PDK_NETWORK_LIBVIRT) {
        w.start("interface").attr("type", "network");
        w.start("source").attr("network", spec.network_name).end();
        w.start("model").attr("type", "virtio").end();
        w.end();
    }
    // Lean device set for a fast TCG boot: no USB, serial console only.
    w.start("controller").attr("type", "usb").attr("model", "none").end();
    w.start("serial").attr("type", "pty").start("target").attr("port", "0").end().end();
    w.start("console").attr("type", "pty").start("target").attr("type", "serial").attr("port", "0").end().end();
    // The guest agent's channel (Paddock's guest starts qemu-ga when it is there).
    w.start("channel")
        .attr("type", "unix")
        .start("target")
        .attr("type", "virtio")
        .attr("name", "org.qemu.guest_agent.0")
        .end()
        .end();
    // The balloon is there for free page reporting alone (no target is ever set): the guest hands
    // back memory it freed, QEMU drops it, and an idle VM's RSS is what its guest uses, not the most
    // it ever touched (bench/idle_cost.sh). Paddock's guest loads the driver after sshd is up.
    w.start("memballoon").attr("model", "virtio").attr("freePageReporting", "on").end();
    w.end();
}

void writeUserNetwork(XmlWriter& w, const pdk_domain_spec& spec, const DomainXmlOptions& o) {
    std::string netdev = "user,id=pdknet0";
    if (spec.ssh_forward_port != 0) {
        netdev += ",hostfwd=tcp:" + hostfwdAddress(spec.ssh_forward_address) + ":" +
                  std::to_string(spec.ssh_forward_port) + "-:22";
    }
    const std::string device =
        "virtio-net-pci,netdev=pdknet0,bus=" + rootBusFor(o.machine) + ",addr=" + userNicSlotFor(o.machine);
    w.start("commandline", "qemu");
    for (const std::string& arg : {std::string("-netdev"), netdev, std::string("-device"), device}) {
        w.start("arg", "qemu").attr("value", arg).end();
    }
    w.end();
}

}  // namespace

void writeFileDisk(XmlWriter& w, const pdk_domain_spec& spec, const char* dev, const char* bus) {
    w.start("disk").attr("type", "file").attr("device", "disk");
    // QEMU does the I/O under both qemu and libxl (its qdisk backend).
    w.start("driver").attr("name", "qemu").attr("type", spec.disk_format != nullptr ? spec.disk_format : "raw").end();
    w.start("source").attr("file", spec.disk_path).end();
    w.start("target").attr("dev", dev).attr("bus", bus).end();
    w.end();
}

std::string volumeFormatOf(const std::string& xml) {
    const size_t target = xml.find("<target>");
    if (target == std::string::npos) return {};
    const size_t format = xml.find("<format type=", target);
    const size_t end = xml.find("</target>", target);
    if (format == std::string::npos || (end != std::string::npos && format > end)) return {};
    const size_t open = format + std::strlen("<format type=");
    if (open >= xml.size()) return {};
    const char quote = xml[open];
    const size_t close = xml.find(quote, open + 1);
    if (close == std::string::npos) return {};
    return xml.substr(open + 1, close - open - 1);
}

std::string hostfwdAddress(const char* address) {
    if (address == nullptr || *address == '\0') return "127.0.0.1";
    const std::string_view text(address);
    // inet_pton alone decides: no names (QEMU would resolve them), no ports, no zone ids, and
    // nothing that could end the netdev option (',' and ':' outside an IPv6 literal).
    unsigned char buffer[sizeof(struct in6_addr)];
    if (text.size() < INET6_ADDRSTRLEN && inet_pton(AF_INET, address, buffer) == 1) return std::string(text);
    if (text.size() < INET6_ADDRSTRLEN && inet_pton(AF_INET6, address, buffer) == 1) {
        // Appended piecewise: "[" + std::string + "]" draws a false -Wrestrict from g++ 12.
        std::string bracketed;
        bracketed.reserve(text.size() + 2);
        bracketed.append("[").append(text).append("]");
        return bracketed;
    }
    std::string shown(text.substr(0, 64));
    for (char& ch : shown)
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
    throw pdk::Error(PDK_ERR_INVALID_ARGUMENT,
                     "ssh_forward_address '" + shown + "' is not an IPv4 or IPv6 address literal");
}

void requireDomainSpec(const pdk_domain_spec& spec) {
    if (spec.name == nullptr || *spec.name == '\0') throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "domain name is empty");
    // libvirt's drivers name files after the domain (qemu: <name>.log, <name>.xml), so a longer
    // name fails deep inside libvirtd as "File name too long", which reads as an outage.
    const std::string_view name(spec.name);
    if (name.size() > kMaxDomainNameBytes)
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT,
                         "domain name is " + std::to_string(name.size()) + " bytes; at most " +
                             std::to_string(kMaxDomainNameBytes) + " are allowed");
    for (const char ch : name) {
        if (ch == '/' || static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
            throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "domain name contains '/' or a control character");
    }
    if (spec.vcpus == 0) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "vcpus must be at least 1");
    if (spec.memory_mib == 0) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "memory_mib must be at least 1");
    if (spec.network_mode == PDK_NETWORK_LIBVIRT && (spec.network_name == nullptr || *spec.network_name == '\0'))
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "network_name is required for a libvirt network");
    if (spec.network_mode != PDK_NETWORK_NONE && spec.network_mode != PDK_NETWORK_USER &&
        spec.network_mode != PDK_NETWORK_LIBVIRT)
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "unknown network_mode");
    if (spec.metadata == nullptr && spec.metadata_count != 0)
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "metadata is NULL but metadata_count is not 0");
    (void)hostfwdAddress(spec.ssh_forward_address);
}

void writeMetadataElement(XmlWriter& w, const KeyValues& pairs) {
    w.start("metadata").start("vm", kMetadataPrefix, kMetadataUri);
    for (const auto& [key, value] : pairs) {
        w.start("entry", kMetadataPrefix).attr("key", key).text(value).end();
    }
    w.end().end();
}

std::string rootBusFor(const std::string& machine) {
    return machine.find("q35") != std::string::npos ? "pcie.0" : "pci.0";
}

std::string userNicSlotFor(const std::string& machine) {
    return machine.find("q35") != std::string::npos ? "0x10" : "0x1f";
}

KeyValues metadataFor(const pdk_domain_spec& spec) {
    KeyValues pairs;
    bool hasSshPort = false;
    for (size_t i = 0; i < spec.metadata_count; ++i) {
        if (spec.metadata[i].key == nullptr || *spec.metadata[i].key == '\0')
            throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "metadata key is empty");
        pairs.emplace_back(spec.metadata[i].key, str(spec.metadata[i].value));
        hasSshPort = hasSshPort || pairs.back().first == kSshPortKey;
    }
    if (spec.network_mode == PDK_NETWORK_USER && spec.ssh_forward_port != 0 && !hasSshPort) {
        pairs.emplace_back(kSshPortKey, std::to_string(spec.ssh_forward_port));
    }
    return pairs;
}

std::string buildDomainXml(const pdk_domain_spec& spec, const DomainXmlOptions& o) {
    requireDomainSpec(spec);
    const bool userNet = spec.network_mode == PDK_NETWORK_USER;
    XmlWriter w;
    w.start("domain").attr("type", o.domainType);
    if (userNet) w.attr("xmlns:qemu", kQemuNsUri);
    w.element("name", spec.name);
    const KeyValues pairs = metadataFor(spec);
    if (!pairs.empty()) writeMetadataElement(w, pairs);
    w.start("memory").attr("unit", "MiB").text(std::to_string(spec.memory_mib)).end();
    w.element("vcpu", std::to_string(spec.vcpus));
    writeOs(w, spec, o);
    // ACPI is what virDomainShutdown signals; without it a guest cannot be asked to power off.
    w.start("features").start("acpi").end().start("apic").end();
    // QEMU's TCG code buffer defaults to 1 GiB and is flushed only when full, so a TCG guest's
    // qemu grows towards 1 GiB of RSS as new translations append to it, idle or not (426 MiB
    // median per idle VM 2 minutes after boot). A small buffer caps that (bench/idle_cost.sh).
    // KVM runs guest code natively: no such buffer, and libvirt refuses <tcg> there.
    if (o.domainType == "qemu")
        w.start("tcg").start("tb-cache").attr("unit", "MiB").text(std::to_string(kTcgTbCacheMib)).end().end();
    w.end();
    // Under TCG "maximum" (-cpu max) gives the guest every feature qemu can emulate.
    if (o.domainType == "kvm") w.start("cpu").attr("mode", "host-passthrough").end();
    if (o.domainType == "qemu") w.start("cpu").attr("mode", "maximum").end();
    w.start("clock").attr("offset", "utc").end();
    w.element("on_poweroff", "destroy");
    w.element("on_reboot", "restart");
    w.element("on_crash", "destroy");
    writeDevices(w, spec);
    if (userNet) writeUserNetwork(w, spec, o);
    w.end();
    return w.finish();
}

std::string buildMetadataElement(const KeyValues& pairs) {
    XmlWriter w(false);
    w.start("vm");
    for (const auto& [key, value] : pairs) {
        if (key.empty()) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "metadata key is empty");
        w.start("entry").attr("key", key).text(value).end();
    }
    w.end();
    return w.finish();
}

KeyValues parseMetadataElement(const std::string& xml) {
    return XmlDoc(xml, "domain metadata").rootChildren("entry", "key");
}

KeyValues parseDomainMetadata(const std::string& domainXml) {
    const XmlDoc doc(domainXml, "domain XML");
    const std::string entries = std::string("/domain/metadata/*[local-name()='vm' and namespace-uri()='") + kMetadataUri +
                                "']/*[local-name()='entry']";
    const size_t count = doc.strings(entries.c_str()).size();
    KeyValues pairs;
    for (size_t i = 1; i <= count; ++i) {
        const std::string at = "(" + entries + ")[" + std::to_string(i) + "]";
        const auto keys = doc.strings((at + "/@key").c_str());
        const auto values = doc.strings(at.c_str());
        pairs.emplace_back(keys.empty() ? std::string() : keys.front(), values.empty() ? std::string() : values.front());
    }
    return pairs;
}

std::string replaceDomainMetadata(const std::string& domainXml, const KeyValues& pairs) {
    XmlWriter w(false);
    writeMetadataElement(w, pairs);
    const std::string fragment = w.finish();
    using DocPtr = std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)>;
    const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    DocPtr doc(xmlReadMemory(domainXml.data(), static_cast<int>(domainXml.size()), nullptr, nullptr, options),
               &xmlFreeDoc);
    DocPtr part(xmlReadMemory(fragment.data(), static_cast<int>(fragment.size()), nullptr, nullptr, options),
                &xmlFreeDoc);
    const xmlNodePtr root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    if (root == nullptr || std::strcmp(reinterpret_cast<const char*>(root->name), "domain") != 0)
        throw pdk::Error(PDK_ERR_INTERNAL, "malformed XML from libvirt: domain XML");
    const xmlNodePtr partRoot = part ? xmlDocGetRootElement(part.get()) : nullptr;
    xmlNodePtr vm = partRoot != nullptr ? xmlFirstElementChild(partRoot) : nullptr;
    if (vm == nullptr) throw pdk::Error(PDK_ERR_INTERNAL, "cannot build the metadata element");

    xmlNodePtr metadata = nullptr;
    for (xmlNodePtr n = xmlFirstElementChild(root); n != nullptr && metadata == nullptr; n = xmlNextElementSibling(n)) {
        if (n->ns == nullptr && std::strcmp(reinterpret_cast<const char*>(n->name), "metadata") == 0) metadata = n;
    }
    if (metadata == nullptr) metadata = xmlNewChild(root, nullptr, BAD_CAST "metadata", nullptr);
    for (xmlNodePtr n = xmlFirstElementChild(metadata); n != nullptr;) {
        const xmlNodePtr next = xmlNextElementSibling(n);
        if (n->ns != nullptr && n->ns->href != nullptr &&
            std::strcmp(reinterpret_cast<const char*>(n->ns->href), kMetadataUri) == 0) {
            xmlUnlinkNode(n);
            xmlFreeNode(n);
        }
        n = next;
    }
    xmlAddChild(metadata, xmlDocCopyNode(vm, doc.get(), 1));

    std::unique_ptr<xmlBuffer, decltype(&xmlBufferFree)> buffer(xmlBufferCreate(), &xmlBufferFree);
    if (!buffer || xmlNodeDump(buffer.get(), doc.get(), root, 0, 0) < 0)
        throw pdk::Error(PDK_ERR_INTERNAL, "cannot write the domain XML");
    return std::string(reinterpret_cast<const char*>(xmlBufferContent(buffer.get()))) + "\n";
}

std::string buildSnapshotXml(const std::string& name, const std::string& description) {
    XmlWriter w(false);
    w.start("domainsnapshot").element("name", name);
    if (!description.empty()) w.element("description", description);
    w.end();
    return w.finish();
}

SnapshotFacts parseSnapshotXml(const std::string& xml) {
    const XmlDoc doc(xml, "snapshot XML");
    const auto first = [&](const char* xpath) {
        const auto values = doc.strings(xpath);
        return values.empty() ? std::string() : values.front();
    };
    SnapshotFacts f;
    f.name = first("/domainsnapshot/name");
    f.description = first("/domainsnapshot/description");
    f.parent = first("/domainsnapshot/parent/name");
    const std::string created = first("/domainsnapshot/creationTime");
    if (!created.empty()) {
        char* end = nullptr;
        const long long t = std::strtoll(created.c_str(), &end, 10);
        if (*end == '\0') f.createdAt = t;
    }
    static const std::pair<const char*, pdk_domain_state> kStates[] = {
        {"nostate", PDK_DOMAIN_NOSTATE}, {"running", PDK_DOMAIN_RUNNING},         {"blocked", PDK_DOMAIN_BLOCKED},
        {"paused", PDK_DOMAIN_PAUSED},   {"shutdown", PDK_DOMAIN_SHUTDOWN},       {"shutoff", PDK_DOMAIN_SHUTOFF},
        {"crashed", PDK_DOMAIN_CRASHED}, {"pmsuspended", PDK_DOMAIN_PMSUSPENDED}, {"disk-snapshot", PDK_DOMAIN_SHUTOFF},
    };
    const std::string state = first("/domainsnapshot/state");
    for (const auto& [word, value] : kStates) {
        if (state == word) f.state = value;
    }
    // <memory snapshot='internal|external|no'>; without it, a snapshot of a running domain
    // that is not disk-only holds memory.
    const std::string memory = first("/domainsnapshot/memory/@snapshot");
    if (!memory.empty())
        f.hasMemory = memory == "internal" || memory == "external";
    else
        f.hasMemory = state != "shutoff" && state != "disk-snapshot" && state != "nostate" && !state.empty();
    return f;
}

std::string buildCheckpointXml(const std::string& name) {
    XmlWriter w(false);
    w.start("domaincheckpoint").element("name", name).end();
    return w.finish();
}

std::string buildBackupXml(const std::vector<BackupDisk>& disks, const std::string& incrementalFrom) {
    if (disks.empty()) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "a backup needs at least one disk");
    XmlWriter w(false);
    w.start("domainbackup").attr("mode", "push");
    if (!incrementalFrom.empty()) w.element("incremental", incrementalFrom);
    w.start("disks");
    for (const BackupDisk& d : disks) {
        w.start("disk").attr("name", d.target).attr("type", "file");
        w.start("target").attr("file", d.targetFile).end();
        w.start("driver").attr("type", "qcow2").end();
        w.end();
    }
    w.end().end();
    return w.finish();
}

std::vector<DomainDisk> parseDisks(const std::string& domainXml) {
    const XmlDoc doc(domainXml, "domain XML");
    const size_t count = doc.strings("/domain/devices/disk[@device='disk']/@device").size();
    std::vector<DomainDisk> disks;
    for (size_t i = 1; i <= count; ++i) {
        const std::string at = "/domain/devices/disk[@device='disk'][" + std::to_string(i) + "]";
        const auto first = [&](const std::string& rest) {
            const auto values = doc.strings((at + rest).c_str());
            return values.empty() ? std::string() : values.front();
        };
        DomainDisk d;
        d.target = first("/target/@dev");
        d.type = first("/@type");
        d.source = first("/source/@file | " + at + "/source/@dev");
        d.format = first("/driver/@type");
        disks.push_back(std::move(d));
    }
    return disks;
}

std::string buildOverlayVolumeXml(const std::string& name, uint64_t capacityBytes, const std::string& backingPath,
                                  const std::string& backingFormat) {
    XmlWriter w;
    w.start("volume").element("name", name);
    w.start("capacity").attr("unit", "bytes").text(std::to_string(capacityBytes)).end();
    // compat 1.1: qcow2 v2 (libvirt's default) cannot hold the dirty bitmaps incremental backup needs.
    w.start("target").start("format").attr("type", "qcow2").end().element("compat", "1.1").end();
    w.start("backingStore").element("path", backingPath);
    w.start("format").attr("type", backingFormat).end().end();
    w.end();
    return w.finish();
}

std::vector<std::string> parseDiskPaths(const std::string& domainXml) {
    return XmlDoc(domainXml, "domain XML")
        .strings(
            "/domain/devices/disk[@device='disk']/source/@file | /domain/devices/disk[@device='disk']/source/@dev");
}

bool capsListDomainType(const std::string& capsXml, const std::string& arch, const std::string& domainType) {
    // Both values are our own constants; a quote would break out of the XPath literal.
    if (arch.find('\'') != std::string::npos || domainType.find('\'') != std::string::npos) return false;
    const std::string xpath = "/capabilities/guest[arch/@name='" + arch + "']/arch/domain[@type='" + domainType + "']";
    return XmlDoc(capsXml, "capabilities").any(xpath.c_str());
}

bool capsHostHasVirtualization(const std::string& capsXml) {
    return XmlDoc(capsXml, "capabilities").any("/capabilities/host/cpu/feature[@name='vmx' or @name='svm']");
}

std::string volumePathInPool(const std::string& poolXml, const std::string& poolName, const std::string& volume) {
    const XmlDoc doc(poolXml, "storage pool XML");
    const auto types = doc.strings("/pool/@type");
    const auto targets = doc.strings("/pool/target/path");
    static constexpr std::array<std::string_view, 3> kFileBased = {"dir", "fs", "netfs"};
    const std::string type = types.empty() ? std::string() : types.front();
    if (std::find(kFileBased.begin(), kFileBased.end(), type) == kFileBased.end() || targets.empty() ||
        targets.front().empty()) {
        throw pdk::Error(PDK_ERR_UNSUPPORTED, "storage pool '" + poolName + "' of type '" + type +
                                                  "' does not name its volumes by a path known in advance");
    }
    std::string dir = targets.front();
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return dir + (dir == "/" ? "" : "/") + volume;
}

}  // namespace paddock::lvq
