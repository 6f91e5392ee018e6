#include "xen_domain_xml.hpp"

#include "domain_xml.hpp"
#include "xml_writer.hpp"

#include <paddock/cpp/error.hpp>

#include <cstring>

namespace paddock::lvxen {

namespace {

using lvq::XmlWriter;

void writeOs(XmlWriter& w, const pdk_domain_spec& spec) {
    w.start("os");
    if (spec.kernel_path != nullptr) {
        w.element("type", "linux");
        w.element("kernel", spec.kernel_path);
        if (spec.initrd_path != nullptr) w.element("initrd", spec.initrd_path);
        if (spec.kernel_cmdline != nullptr) w.element("cmdline", spec.kernel_cmdline);
    } else {
        w.start("type").attr("arch", "x86_64").attr("machine", "xenfv").text("hvm").end();
        w.start("boot").attr("dev", "hd").end();
    }
    w.end();
}

void writeDevices(XmlWriter& w, const pdk_domain_spec& spec, bool pv) {
    w.start("devices");
    if (spec.disk_path != nullptr) writeFileDisk(w, spec, "xvda", "xen");
    if (spec.network_mode == PDK_NETWORK_LIBVIRT) {
        w.start("interface").attr("type", "network");
        w.start("source").attr("network", spec.network_name).end();
        w.end();
    }
    if (pv) {
        w.start("console").attr("type", "pty").start("target").attr("type", "xen").attr("port", "0").end().end();
    } else {
        w.start("serial").attr("type", "pty").start("target").attr("port", "0").end().end();
        w.start("console").attr("type", "pty").start("target").attr("type", "serial").attr("port", "0").end().end();
    }
    w.end();
}

}  // namespace

void requireXenDomainType(const char* domainType) {
    if (domainType == nullptr || std::strcmp(domainType, "auto") == 0 || std::strcmp(domainType, "xen") == 0) return;
    throw pdk::Error(PDK_ERR_INVALID_ARGUMENT,
                     std::string("domain_type must be auto or xen on the libvirt-xen backend, not '") + domainType + "'");
}

std::string buildXenDomainXml(const pdk_domain_spec& spec) {
    lvq::requireDomainSpec(spec);
    if (spec.network_mode == PDK_NETWORK_USER) {
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT,
                         "user-mode networking is a QEMU feature that Xen does not have: attach the domain to a "
                         "libvirt network (network_mode libvirt) instead");
    }
    requireXenDomainType(spec.domain_type);
    if (std::strchr(spec.name, '/') != nullptr)
        throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, std::string("domain name '") + spec.name + "' contains '/'");
    const bool pv = spec.kernel_path != nullptr;
    XmlWriter w;
    w.start("domain").attr("type", "xen");
    w.element("name", spec.name);
    const lvq::KeyValues pairs = lvq::metadataFor(spec);
    if (!pairs.empty()) lvq::writeMetadataElement(w, pairs);
    w.start("memory").attr("unit", "MiB").text(std::to_string(spec.memory_mib)).end();
    w.element("vcpu", std::to_string(spec.vcpus));
    writeOs(w, spec);
    // ACPI is what virDomainShutdown signals to an HVM guest; a PV guest is asked through xenstore.
    if (!pv) w.start("features").start("acpi").end().start("apic").end().start("pae").end().end();
    w.start("clock").attr("offset", "utc").end();
    w.element("on_poweroff", "destroy");
    w.element("on_reboot", "restart");
    w.element("on_crash", "destroy");
    writeDevices(w, spec, pv);
    w.end();
    return w.finish();
}

}  // namespace paddock::lvxen
