// org.paddock.libvirt-xen without a Xen host: golden domain XML (PV, HVM, network), checked by
// virt-xml-validate; the descriptor against its vtable; open() failing fast and clearly when
// this host's libvirt has no xen driver; hostile input.
#include "xen_domain_xml.hpp"

#include "domain_xml.hpp"

#include "backend_fixture.hpp"

#include <test_support.hpp>

#include <paddock/cpp/error.hpp>

#include <catch2/catch.hpp>

#include <string>

using paddock::lvxen::buildXenDomainXml;
using Catch::Matchers::Contains;

namespace {

const pdk_plugin_descriptor& descriptor() { return lvtest::loadDescriptor("paddock_libvirt_xen.so"); }
const pdk_backend_vtable& vt() { return *static_cast<const pdk_backend_vtable*>(descriptor().vtable); }

void golden(const std::string& file, const pdk_domain_spec& s) {
    lvtest::checkGolden(XEN_TEST_DATA_DIR, file, buildXenDomainXml(s));
}

// The status and message buildXenDomainXml refuses `s` with.
std::pair<pdk_status, std::string> refusal(const pdk_domain_spec& s) {
    try {
        (void)buildXenDomainXml(s);
    } catch (const pdk::Error& e) {
        return {e.status(), e.what()};
    }
    return {PDK_OK, {}};
}

}  // namespace

TEST_CASE("xen xml: PV guest with direct kernel boot, qcow2 disk and metadata", "[libvirt_xen]") {
    pdk_domain_spec s = lvtest::spec("pdk-xen-pv");
    s.vcpus = 2;
    s.memory_mib = 1024;
    s.disk_path = "/var/lib/paddock/vms/pdk-xen-pv.qcow2";
    s.disk_format = "qcow2";
    s.kernel_path = "/var/lib/paddock/images/vmlinuz";
    s.initrd_path = "/var/lib/paddock/images/initrd.img";
    s.kernel_cmdline = "console=hvc0 root=/dev/xvda rw";
    const pdk_kv meta[] = {{"owner", "alice & bob <x>"}, {"pool", "lab"}};
    s.metadata = meta;
    s.metadata_count = 2;
    golden("pv_kernel_boot.xml", s);
}

TEST_CASE("xen xml: HVM guest booting from its raw disk", "[libvirt_xen]") {
    pdk_domain_spec s = lvtest::spec("pdk-xen-hvm");
    s.disk_path = "/var/lib/paddock/vms/pdk-xen-hvm.img";
    s.domain_type = "xen";
    golden("hvm_disk.xml", s);
}

TEST_CASE("xen xml: HVM guest on a libvirt network", "[libvirt_xen]") {
    pdk_domain_spec s = lvtest::spec("pdk-xen-net");
    s.disk_path = "/var/lib/paddock/vms/pdk-xen-net.qcow2";
    s.disk_format = "qcow2";
    s.domain_type = "auto";
    s.network_mode = PDK_NETWORK_LIBVIRT;
    s.network_name = "paddock-net";
    golden("hvm_network.xml", s);
}

TEST_CASE("xen xml: PV guest on a libvirt network, no disk", "[libvirt_xen]") {
    pdk_domain_spec s = lvtest::spec("pdk-xen-pvnet");
    s.kernel_path = "/boot/vmlinuz";
    s.network_mode = PDK_NETWORK_LIBVIRT;
    s.network_name = "default";
    golden("pv_network.xml", s);
}

TEST_CASE("xen xml: specs Xen cannot run are refused", "[libvirt_xen]") {
    pdk_domain_spec s = lvtest::spec("pdk-xen-bad");
    s.network_mode = PDK_NETWORK_USER;
    s.ssh_forward_port = 40022;
    auto [st, msg] = refusal(s);
    CHECK(st == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(msg, Contains("user-mode networking") && Contains("Xen"));

    s = lvtest::spec("pdk-xen-bad");
    s.domain_type = "kvm";
    std::tie(st, msg) = refusal(s);
    CHECK(st == PDK_ERR_INVALID_ARGUMENT);
    CHECK(msg == "domain_type must be auto or xen on the libvirt-xen backend, not 'kvm'");

    for (const char* name : {"", "a/b", "bad\x01name", "\xff\xfe"}) {
        s = lvtest::spec(name);
        std::tie(st, msg) = refusal(s);
        INFO("name '" << name << "': " << msg);
        CHECK(st == PDK_ERR_INVALID_ARGUMENT);
    }
    s = lvtest::spec(nullptr);
    CHECK(refusal(s).first == PDK_ERR_INVALID_ARGUMENT);
    s = lvtest::spec("pdk-xen-bad");
    s.network_mode = PDK_NETWORK_LIBVIRT;
    CHECK(refusal(s).first == PDK_ERR_INVALID_ARGUMENT);  // no network_name
    s = lvtest::spec("pdk-xen-bad");
    s.vcpus = 0;
    CHECK(refusal(s).first == PDK_ERR_INVALID_ARGUMENT);
}

TEST_CASE("xen metadata without the metadata API: read from and written into the definition", "[libvirt_xen]") {
    // libxl has no virDomainGetMetadata/SetMetadata: LibvirtConnection reads the inactive
    // definition's <metadata> and defines the domain again with the element replaced.
    using paddock::lvq::KeyValues;
    pdk_domain_spec s = lvtest::spec("pdk-xen-meta");
    s.kernel_path = "/boot/vmlinuz";
    const pdk_kv meta[] = {{"owner", "alice"}, {"empty", ""}};
    s.metadata = meta;
    s.metadata_count = 2;
    std::string xml = buildXenDomainXml(s);
    CHECK(paddock::lvq::parseDomainMetadata(xml) == KeyValues{{"owner", "alice"}, {"empty", ""}});

    // Another application's metadata stays; ours is replaced, with escaping.
    const std::string other = "<other:app xmlns:other=\"https://example.org/other\">keep</other:app>";
    xml.replace(xml.find("<metadata>") + 10, 0, other);
    const KeyValues next{{"owner", "bob & <eve>"}, {"lease", "2026-12-02T20:00:00Z"}};
    const std::string updated = paddock::lvq::replaceDomainMetadata(xml, next);
    CHECK(paddock::lvq::parseDomainMetadata(updated) == next);
    CHECK_THAT(updated, Contains("https://example.org/other") && Contains(">keep<"));
    CHECK_THAT(updated, Contains("<name>pdk-xen-meta</name>") && Contains("<kernel>/boot/vmlinuz</kernel>"));
    paddock::test::TempDir dir;
    paddock::test::writeFile(dir.file("updated.xml"), updated);
    CHECK(std::system(("virt-xml-validate '" + dir.file("updated.xml") + "' domain >/dev/null 2>&1").c_str()) == 0);

    // A definition without <metadata> gets one; an empty list leaves an empty element.
    s.metadata_count = 0;
    const std::string bare = buildXenDomainXml(s);
    CHECK(paddock::lvq::parseDomainMetadata(bare).empty());
    CHECK(paddock::lvq::parseDomainMetadata(paddock::lvq::replaceDomainMetadata(bare, next)) == next);
    CHECK(paddock::lvq::parseDomainMetadata(paddock::lvq::replaceDomainMetadata(updated, {})).empty());

    // Not a domain, or not XML: internal error (it came from libvirt).
    for (const std::string bad : {"", "<pool/>", "<domain"}) {
        try {
            (void)paddock::lvq::replaceDomainMetadata(bad, next);
            FAIL("accepted '" << bad << "'");
        } catch (const pdk::Error& e) {
            CHECK(e.status() == PDK_ERR_INTERNAL);
        }
    }
    // Values XML cannot carry are refused before anything is defined.
    try {
        (void)paddock::lvq::replaceDomainMetadata(bare, {{"k", "bad\x01"}});
        FAIL("accepted a control character");
    } catch (const pdk::Error& e) {
        CHECK(e.status() == PDK_ERR_INVALID_ARGUMENT);
    }
}

TEST_CASE("xen descriptor: id, capabilities and NULL entries", "[libvirt_xen]") {
    const pdk_plugin_descriptor& d = descriptor();
    CHECK(d.struct_size == sizeof(pdk_plugin_descriptor));
    CHECK(d.abi_major == PDK_ABI_VERSION_MAJOR);
    CHECK(d.kind == PDK_PLUGIN_KIND_BACKEND);
    CHECK(std::string(d.id) == "org.paddock.libvirt-xen");
    CHECK(d.init != nullptr);
    CHECK(d.deinit != nullptr);
    CHECK(d.next == nullptr);
    lvtest::checkCapabilitiesMatchVtable(d);
    const pdk_backend_vtable& v = vt();
    // libxl: managed save, metadata, events, storage API, DHCP leases; no snapshots, no
    // QEMU-only parts.
    for (const void* fn : {(const void*)v.save_domain, (const void*)v.get_metadata, (const void*)v.subscribe_events,
                           (const void*)v.create_overlay, (const void*)v.volume_path, (const void*)v.ssh_target,
                           (const void*)v.host_resources, (const void*)v.volume_info, (const void*)v.suspend_domain})
        CHECK(fn != nullptr);
    for (const void* fn : {(const void*)v.snapshot_create, (const void*)v.snapshot_list, (const void*)v.snapshot_revert,
                           (const void*)v.snapshot_delete, (const void*)v.snapshot_list_info,
                           (const void*)v.snapshot_create_spec, (const void*)v.backup_create,
                           (const void*)v.checkpoint_delete, (const void*)v.restore_volume, (const void*)v.guest_ping})
        CHECK(fn == nullptr);
}

TEST_CASE("xen open: this host's libvirt has no xen driver", "[libvirt_xen]") {
    if (paddock::test::libvirtReachable("qemu:///system")) {
        // libvirtd answers VIR_ERR_NO_CONNECT "no connection driver available for xen:///system".
        lvtest::checkOpenFails(vt(), "xen:///system", 0, PDK_ERR_UNAVAILABLE, "libvirt on this host has no xen driver");
    }
    // A libvirtd that does not run (here: a socket nobody listens on) is said so.
    lvtest::Err err;
    pdk_backend_connection* conn = nullptr;
    CHECK(vt().open("xen:///system?socket=/nonexistent/paddock-libvirt-sock", 0, &conn, &err) == PDK_ERR_UNAVAILABLE);
    CHECK_THAT(err.text(), Catch::Matchers::StartsWith("libvirtd is not running on this host: "));
    CHECK(conn == nullptr);
}

TEST_CASE("xen open: hostile URIs and flags", "[libvirt_xen]") {
    const std::string hint = "org.paddock.libvirt-xen takes xen:///system or xen+<transport>://host/system URIs";
    lvtest::checkOpenFails(vt(), nullptr, 0, PDK_ERR_INVALID_ARGUMENT, "a URI is required: " + hint);
    lvtest::checkOpenFails(vt(), "", 0, PDK_ERR_INVALID_ARGUMENT, "a URI is required: " + hint);
    for (const char* uri : {"qemu:///system", "test:///default", "xenx:///system", "xen+:///system", "hyperv://h/",
                            "xen", "xen:/system", "/xen:///system", "xen+ssh"}) {
        lvtest::checkOpenFails(vt(), uri, 0, PDK_ERR_INVALID_ARGUMENT, hint + ", not '" + uri + "'");
    }
    lvtest::checkOpenFails(vt(), "xen:///system", 1, PDK_ERR_BAD_FLAGS);
    lvtest::checkOpenFails(vt(), "xen:///system", 0x80000000u, PDK_ERR_BAD_FLAGS);
    // NULL out pointer: refused, nothing opened.
    lvtest::Err err;
    CHECK(vt().open("xen:///system", 0, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
}
