// org.paddock.libvirt-hyperv without a Hyper-V host or driver: golden domain XML checked by
// virt-xml-validate; the descriptor against its vtable (everything the hyperv driver lacks is
// NULL); open() failing fast and clearly because Debian's libvirt has no hyperv driver; hostile
// input.
#include "hyperv_domain_xml.hpp"

#include "backend_fixture.hpp"

#include <paddock/cpp/error.hpp>

#include <catch2/catch.hpp>

#include <string>

using paddock::lvhyperv::buildHypervDomainXml;
using Catch::Matchers::Contains;

namespace {

const pdk_plugin_descriptor& descriptor() { return lvtest::loadDescriptor("paddock_libvirt_hyperv.so"); }
const pdk_backend_vtable& vt() { return *static_cast<const pdk_backend_vtable*>(descriptor().vtable); }

std::pair<pdk_status, std::string> refusal(const pdk_domain_spec& s) {
    try {
        (void)buildHypervDomainXml(s);
    } catch (const pdk::Error& e) {
        return {e.status(), e.what()};
    }
    return {PDK_OK, {}};
}

}  // namespace

TEST_CASE("hyperv xml: plain domain with a VHDX disk on a virtual switch", "[libvirt_hyperv]") {
    pdk_domain_spec s = lvtest::spec("pdk-hyperv");
    s.vcpus = 2;
    s.memory_mib = 2048;
    s.disk_path = "C:\\Hyper-V\\pdk-hyperv.vhdx";
    s.network_mode = PDK_NETWORK_LIBVIRT;
    s.network_name = "Default Switch";
    lvtest::checkGolden(HYPERV_TEST_DATA_DIR, "plain.xml", buildHypervDomainXml(s));
}

TEST_CASE("hyperv xml: specs Hyper-V cannot run are refused", "[libvirt_hyperv]") {
    pdk_domain_spec s = lvtest::spec("pdk-hyperv-bad");
    s.network_mode = PDK_NETWORK_USER;
    auto [st, msg] = refusal(s);
    CHECK(st == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(msg, Contains("user-mode networking"));

    s = lvtest::spec("pdk-hyperv-bad");
    s.kernel_path = "/boot/vmlinuz";
    CHECK(refusal(s).first == PDK_ERR_INVALID_ARGUMENT);

    s = lvtest::spec("pdk-hyperv-bad");
    const pdk_kv meta[] = {{"owner", "alice"}};
    s.metadata = meta;
    s.metadata_count = 1;
    CHECK(refusal(s).first == PDK_ERR_INVALID_ARGUMENT);

    s = lvtest::spec("pdk-hyperv-bad");
    s.domain_type = "xen";
    std::tie(st, msg) = refusal(s);
    CHECK(st == PDK_ERR_INVALID_ARGUMENT);
    CHECK(msg == "domain_type must be auto or hyperv on the libvirt-hyperv backend, not 'xen'");

    for (const char* name : {"", "a/b", "bad\x01name", "\xc3\x28"}) {
        s = lvtest::spec(name);
        INFO("name '" << name << "'");
        CHECK(refusal(s).first == PDK_ERR_INVALID_ARGUMENT);
    }
    s = lvtest::spec(nullptr);
    CHECK(refusal(s).first == PDK_ERR_INVALID_ARGUMENT);
}

TEST_CASE("hyperv descriptor: id, capabilities and NULL entries", "[libvirt_hyperv]") {
    const pdk_plugin_descriptor& d = descriptor();
    CHECK(d.struct_size == sizeof(pdk_plugin_descriptor));
    CHECK(d.abi_major == PDK_ABI_VERSION_MAJOR);
    CHECK(d.kind == PDK_PLUGIN_KIND_BACKEND);
    CHECK(std::string(d.id) == "org.paddock.libvirt-hyperv");
    CHECK(d.next == nullptr);
    lvtest::checkCapabilitiesMatchVtable(d);
    const pdk_backend_vtable& v = vt();
    for (const void* fn : {(const void*)v.list_domains, (const void*)v.get_domain, (const void*)v.define_domain,
                           (const void*)v.start_domain, (const void*)v.shutdown_domain, (const void*)v.destroy_domain,
                           (const void*)v.undefine_domain, (const void*)v.suspend_domain})
        CHECK(fn != nullptr);
    for (const void* fn :
         {(const void*)v.get_metadata, (const void*)v.set_metadata, (const void*)v.create_overlay,
          (const void*)v.delete_volume, (const void*)v.volume_path, (const void*)v.snapshot_create,
          (const void*)v.snapshot_list, (const void*)v.snapshot_revert, (const void*)v.snapshot_delete,
          (const void*)v.snapshot_list_info, (const void*)v.snapshot_create_spec, (const void*)v.save_domain,
          (const void*)v.ssh_target, (const void*)v.subscribe_events, (const void*)v.backup_create,
          (const void*)v.checkpoint_delete, (const void*)v.restore_volume, (const void*)v.guest_ping,
          (const void*)v.host_resources, (const void*)v.volume_info})
        CHECK(fn == nullptr);
}

TEST_CASE("hyperv open: this host's libvirt has no hyperv driver, answered without network", "[libvirt_hyperv]") {
    const std::string message = "libvirt on this host has no hyperv driver";
    lvtest::checkOpenFails(vt(), "hyperv://localhost/", 0, PDK_ERR_UNAVAILABLE, message);
    // A remote host that does not exist (TEST-NET-1): still at once, no TCP/TLS attempt.
    lvtest::checkOpenFails(vt(), "hyperv://192.0.2.1/", 0, PDK_ERR_UNAVAILABLE, message);
    lvtest::checkOpenFails(vt(), "HYPERV://192.0.2.1/?transport=http", 0, PDK_ERR_UNAVAILABLE, message);
}

TEST_CASE("hyperv open: hostile URIs and flags", "[libvirt_hyperv]") {
    const std::string hint = "org.paddock.libvirt-hyperv takes hyperv://host/ URIs";
    lvtest::checkOpenFails(vt(), nullptr, 0, PDK_ERR_INVALID_ARGUMENT, "a URI is required: " + hint);
    lvtest::checkOpenFails(vt(), "", 0, PDK_ERR_INVALID_ARGUMENT, "a URI is required: " + hint);
    for (const char* uri : {"qemu:///system", "xen:///system", "test:///default", "hyperv", "hyperv:/host/",
                            "hypervx://host/", "hyperv+ssh://host/", "esx://host/"}) {
        lvtest::checkOpenFails(vt(), uri, 0, PDK_ERR_INVALID_ARGUMENT, hint + ", not '" + uri + "'");
    }
    lvtest::checkOpenFails(vt(), "hyperv://localhost/", 2, PDK_ERR_BAD_FLAGS);
    lvtest::Err err;
    CHECK(vt().open("hyperv://localhost/", 0, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
}
