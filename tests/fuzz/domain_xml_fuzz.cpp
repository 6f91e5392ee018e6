// libvirt domain_xml + xml_reader (paddock_libvirt_xml): domain XML built from fuzzed
// spec fields must be well-formed and give every field back exactly (name, metadata as
// virDomainGetMetadata returns it, disk, kernel command line, network); so must the metadata
// element, snapshot and overlay-volume documents, and the metadata read from and rewritten into
// the whole definition. A builder may refuse a spec only with PDK_ERR_INVALID_ARGUMENT. Then
// arbitrary XML is read as metadata, disks and capabilities.
//
// Input: fields separated by 0x1F (a control character XML cannot carry anyway):
//   options, name, disk path, disk format, kernel, initrd, cmdline, network name, then metadata
//   key, value, key, value, ...; an optional 0x1E starts the arbitrary XML.
// Options bytes: [0] network mode (% 4; 3 is invalid), [1] domain type, [2] machine,
//   [3] vcpus, [4] bits: which of disk path, disk format, kernel, initrd, cmdline are given,
//   [5..6] SSH forward port.
#include "fuzz_support.hpp"

#include "domain_xml.hpp"
#include "xml_reader.hpp"

#include <paddock/cpp/backend.hpp>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <array>

namespace {

using namespace paddock::lvq;

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> out;
    for (size_t at = 0;;) {
        const size_t next = text.find(separator, at);
        out.emplace_back(text.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
        if (next == std::string_view::npos) return out;
        at = next + 1;
    }
}

// A C string field as the ABI passes it: up to its first NUL.
std::string cString(const std::string& s) { return std::string(s.c_str()); }

// The Paddock metadata element of a domain XML, serialised on its own the way
// virDomainGetMetadata hands it back (with its namespace declaration).
std::string metadataOf(const std::string& domainXml) {
    xmlDocPtr doc = xmlReadMemory(domainXml.data(), static_cast<int>(domainXml.size()), nullptr, nullptr,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    FUZZ_CHECK(doc != nullptr);
    std::string out;
    for (xmlNodePtr n = xmlDocGetRootElement(doc)->children; n != nullptr; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, BAD_CAST "metadata") != 0) continue;
        for (xmlNodePtr m = n->children; m != nullptr; m = m->next) {
            if (m->type != XML_ELEMENT_NODE) continue;
            xmlBufferPtr buffer = xmlBufferCreate();
            xmlNodeDump(buffer, doc, m, 0, 0);
            out.assign(reinterpret_cast<const char*>(xmlBufferContent(buffer)),
                       static_cast<size_t>(xmlBufferLength(buffer)));
            xmlBufferFree(buffer);
        }
    }
    xmlFreeDoc(doc);
    return out;
}

std::vector<std::string> strings(const std::string& xml, const char* xpath) {
    try {
        return XmlDoc(xml, "built document").strings(xpath);
    } catch (const pdk::Error& e) {
        std::fprintf(stderr, "not well-formed: %s\n%s\n", e.what(), xml.c_str());
        FUZZ_CHECK(false);
    }
    return {};
}

std::vector<std::string> one(const std::string& value) { return {value}; }

// Runs a builder; a refusal must be an invalid argument, never a writer failure.
template <class F>
bool builds(F&& build) {
    try {
        build();
        return true;
    } catch (const pdk::Error& e) {
        FUZZ_CHECK(e.status() == PDK_ERR_INVALID_ARGUMENT);
        return false;
    }
}

void checkDomain(const std::vector<std::string>& f) {
    const std::string& options = f[0];
    const auto opt = [&](size_t i) { return i < options.size() ? static_cast<uint8_t>(options[i]) : uint8_t{0}; };
    const std::string name = cString(f[1]), diskPath = cString(f[2]), diskFormat = cString(f[3]),
                      kernel = cString(f[4]), initrd = cString(f[5]), cmdline = cString(f[6]), network = cString(f[7]);
    const uint8_t given = opt(4);

    std::vector<pdk_kv> kvs;
    std::vector<std::string> metadataText;
    for (size_t i = 8; i + 1 < f.size(); i += 2) {
        metadataText.push_back(cString(f[i]));
        metadataText.push_back(cString(f[i + 1]));
    }
    for (size_t i = 0; i + 1 < metadataText.size(); i += 2)
        kvs.push_back(pdk_kv{metadataText[i].c_str(), metadataText[i + 1].c_str()});

    pdk_domain_spec spec{};
    spec.struct_size = sizeof spec;
    spec.name = name.c_str();
    spec.vcpus = opt(3) % 8;
    spec.memory_mib = 512;
    spec.disk_path = (given & 1) ? diskPath.c_str() : nullptr;
    spec.disk_format = (given & 2) ? diskFormat.c_str() : nullptr;
    spec.kernel_path = (given & 4) ? kernel.c_str() : nullptr;
    spec.initrd_path = (given & 8) ? initrd.c_str() : nullptr;
    spec.kernel_cmdline = (given & 16) ? cmdline.c_str() : nullptr;
    spec.network_mode = static_cast<pdk_network_mode>(opt(0) % 4);
    spec.network_name = network.c_str();
    spec.ssh_forward_port = static_cast<uint16_t>(opt(5) << 8 | opt(6));
    spec.metadata = kvs.empty() ? nullptr : kvs.data();
    spec.metadata_count = kvs.size();

    DomainXmlOptions o;
    o.domainType = std::array<const char*, 4>{"qemu", "kvm", "test", ""}[opt(1) % 4];
    o.machine = std::array<const char*, 4>{"q35", "pc", "pc-i440fx-7.2", ""}[opt(2) % 4];

    std::string xml;
    if (builds([&] { xml = buildDomainXml(spec, o); })) {
        FUZZ_CHECK(strings(xml, "/domain/name") == one(name));
        const KeyValues pairs = metadataFor(spec);
        if (pairs.empty()) {
            FUZZ_CHECK(metadataOf(xml).empty());
        } else {
            FUZZ_CHECK(parseMetadataElement(metadataOf(xml)) == pairs);
        }
        // Read and rewritten inside the whole definition, as for drivers without the metadata API.
        FUZZ_CHECK(parseDomainMetadata(xml) == pairs);
        const KeyValues swapped{{"k", name}};
        std::string rewritten;
        if (builds([&] { rewritten = replaceDomainMetadata(xml, swapped); })) {
            FUZZ_CHECK(parseDomainMetadata(rewritten) == swapped);
            FUZZ_CHECK(strings(rewritten, "/domain/name") == one(name));
        }
        FUZZ_CHECK(parseDiskPaths(xml) == (spec.disk_path ? one(diskPath) : std::vector<std::string>{}));
        if (spec.kernel_path) FUZZ_CHECK(strings(xml, "/domain/os/kernel") == one(kernel));
        if (spec.kernel_path && spec.kernel_cmdline) FUZZ_CHECK(strings(xml, "/domain/os/cmdline") == one(cmdline));
        if (spec.network_mode == PDK_NETWORK_LIBVIRT)
            FUZZ_CHECK(strings(xml, "/domain/devices/interface/source/@network") == one(network));
    }

    KeyValues pairs;
    for (size_t i = 0; i + 1 < metadataText.size(); i += 2) pairs.emplace_back(metadataText[i], metadataText[i + 1]);
    std::string element;
    if (builds([&] { element = buildMetadataElement(pairs); })) {
        strings(element, "/vm");  // well-formed
        FUZZ_CHECK(parseMetadataElement(element) == pairs);
    }
    std::string snapshot;
    if (builds([&] { snapshot = buildSnapshotXml(name); }))
        FUZZ_CHECK(strings(snapshot, "/domainsnapshot/name") == one(name));
    std::string volume;
    if (builds([&] { volume = buildOverlayVolumeXml(name, 1u << 30, diskPath, diskFormat); })) {
        FUZZ_CHECK(strings(volume, "/volume/name") == one(name));
        FUZZ_CHECK(strings(volume, "/volume/backingStore/path") == one(diskPath));
        FUZZ_CHECK(strings(volume, "/volume/backingStore/format/@type") == one(diskFormat));
    }
}

// Documents from libvirt (or from whoever defined a foreign domain): malformed ones are refused
// with PDK_ERR_INTERNAL, anything else is read.
void readForeign(const std::string& xml) {
    try {
        (void)parseMetadataElement(xml);
        (void)parseDomainMetadata(xml);
        (void)replaceDomainMetadata(xml, {{"owner", "fuzz"}});
        (void)parseDiskPaths(xml);
        (void)capsHostHasVirtualization(xml);
        (void)capsListDomainType(xml, "x86_64", "kvm");
    } catch (const pdk::Error& e) {
        FUZZ_CHECK(e.status() == PDK_ERR_INTERNAL);
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    xmlInitParser();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input = paddock::fuzz::asText(data, size);
    const size_t foreign = input.find('\x1e');
    std::vector<std::string> fields = split(input.substr(0, foreign), '\x1f');
    if (fields.size() < 8) fields.resize(8);
    checkDomain(fields);
    if (foreign != std::string_view::npos) readForeign(std::string(input.substr(foreign + 1)));
    return 0;
}
