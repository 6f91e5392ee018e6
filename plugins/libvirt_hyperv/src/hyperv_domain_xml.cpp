#include "hyperv_domain_xml.hpp"

#include "domain_xml.hpp"
#include "xml_writer.hpp"

#include <paddock/cpp/error.hpp>

#include <cstring>

namespace paddock::lvhyperv {

namespace {

[[noreturn]] void refuse(const std::string& what) { throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, what); }

}  // namespace

std::string buildHypervDomainXml(const pdk_domain_spec& spec) {
    lvq::requireDomainSpec(spec);
    if (spec.domain_type != nullptr && std::strcmp(spec.domain_type, "auto") != 0 &&
        std::strcmp(spec.domain_type, "hyperv") != 0) {
        refuse(std::string("domain_type must be auto or hyperv on the libvirt-hyperv backend, not '") +
               spec.domain_type + "'");
    }
    if (std::strchr(spec.name, '/') != nullptr) refuse(std::string("domain name '") + spec.name + "' contains '/'");
    if (spec.network_mode == PDK_NETWORK_USER) {
        refuse("user-mode networking is a QEMU feature that Hyper-V does not have: attach the domain to a "
               "virtual switch (network_mode libvirt, network_name the switch) instead");
    }
    if (spec.kernel_path != nullptr) refuse("Hyper-V cannot boot a kernel directly: boot the domain from its disk");
    if (spec.metadata_count != 0) refuse("libvirt's hyperv driver cannot store domain metadata");
    lvq::XmlWriter w;
    w.start("domain").attr("type", "hyperv");
    w.element("name", spec.name);
    w.start("memory").attr("unit", "MiB").text(std::to_string(spec.memory_mib)).end();
    w.element("vcpu", std::to_string(spec.vcpus));
    w.start("os").element("type", "hvm").start("boot").attr("dev", "hd").end().end();
    w.start("devices");
    if (spec.disk_path != nullptr) {
        w.start("disk").attr("type", "file").attr("device", "disk");
        w.start("source").attr("file", spec.disk_path).end();
        w.start("target").attr("dev", "hda").attr("bus", "ide").end();
        w.end();
    }
    if (spec.network_mode == PDK_NETWORK_LIBVIRT) {
        w.start("interface").attr("type", "bridge");
        w.start("source").attr("bridge", spec.network_name).end();
        w.end();
    }
    w.end();
    w.end();
    return w.finish();
}

}  // namespace paddock::lvhyperv
