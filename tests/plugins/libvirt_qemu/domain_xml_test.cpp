// Golden-file tests for the domain XML builder (one case per feature, like libvirt's
// qemuxml2argvdata), each also checked by virt-xml-validate against libvirt's schema.
// PADDOCK_UPDATE_GOLDEN=1 rewrites the golden files from the current output.
#include "domain_xml.hpp"
#include "xml_writer.hpp"

#include "plugin_fixture.hpp"

#include <test_support.hpp>

#include <paddock/cpp/backend.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

using namespace paddock::lvq;
using Catch::Matchers::Contains;
namespace t = paddock::test;

namespace {

void checkGolden(const std::string& file, const std::string& xml) {
    const std::string path = std::string(LVQ_TEST_DATA_DIR) + "/" + file;
    const char* update = std::getenv("PADDOCK_UPDATE_GOLDEN");
    if (update != nullptr && std::string(update) == "1") t::writeFile(path, xml);
    CHECK(xml == t::readFile(path));

    t::TempDir dir;
    const std::string tmp = dir.file(file);
    t::writeFile(tmp, xml);
    const std::string cmd = "virt-xml-validate '" + tmp + "' domain >/dev/null 2>&1";
    INFO(file << " must satisfy libvirt's domain schema");
    CHECK(std::system(cmd.c_str()) == 0);
}

}  // namespace

TEST_CASE("domain xml: diskless domain", "[domain_xml]") {
    const pdk_domain_spec s = lvqtest::diskless("pdk-diskless");
    checkGolden("diskless.xml", buildDomainXml(s, DomainXmlOptions{}));
}

TEST_CASE("domain xml: qcow2 disk with direct kernel boot on kvm", "[domain_xml]") {
    pdk_domain_spec s = lvqtest::diskless("pdk-kernel");
    s.vcpus = 2;
    s.memory_mib = 1024;
    s.disk_path = "/var/lib/paddock/vms/pdk-kernel.qcow2";
    s.disk_format = "qcow2";
    s.kernel_path = "/var/lib/paddock/images/vmlinuz";
    s.initrd_path = "/var/lib/paddock/images/initrd.img";
    s.kernel_cmdline = "console=ttyS0 root=/dev/vda rw quiet";
    DomainXmlOptions o;
    o.domainType = "kvm";
    checkGolden("disk_kernel_boot.xml", buildDomainXml(s, o));
}

TEST_CASE("domain xml: TCG caps its translation cache, KVM and the test driver get no <tcg>", "[domain_xml]") {
    const pdk_domain_spec s = lvqtest::diskless("pdk-tcg");
    DomainXmlOptions o;
    o.domainType = "qemu";
    CHECK_THAT(buildDomainXml(s, o), Contains("<tcg>") && Contains("<tb-cache unit=\"MiB\">32</tb-cache>"));
    for (const char* type : {"kvm", "test"}) {
        o.domainType = type;
        INFO(type);
        CHECK_THAT(buildDomainXml(s, o), !Contains("<tcg>") && !Contains("tb-cache"));
    }
}

TEST_CASE("domain xml: user-mode network with an SSH port forward", "[domain_xml]") {
    pdk_domain_spec s = lvqtest::diskless("pdk-usernet");
    s.disk_path = "/var/lib/paddock/vms/pdk-usernet.qcow2";
    s.disk_format = "qcow2";
    s.network_mode = PDK_NETWORK_USER;
    s.ssh_forward_port = 40022;
    checkGolden("user_network.xml", buildDomainXml(s, DomainXmlOptions{}));
}

TEST_CASE("domain xml: the SSH forward listens on ssh_forward_address, an IP literal only (1.7)", "[domain_xml]") {
    pdk_domain_spec s = lvqtest::diskless("pdk-fwd");
    s.network_mode = PDK_NETWORK_USER;
    s.ssh_forward_port = 40024;
    const auto netdev = [&](const char* address) {
        s.ssh_forward_address = address;
        const std::string xml = buildDomainXml(s, DomainXmlOptions{});
        const size_t at = xml.find("user,id=pdknet0");
        return at == std::string::npos ? std::string() : xml.substr(at, xml.find('"', at) - at);
    };
    CHECK(netdev(nullptr) == "user,id=pdknet0,hostfwd=tcp:127.0.0.1:40024-:22");
    CHECK(netdev("") == "user,id=pdknet0,hostfwd=tcp:127.0.0.1:40024-:22");
    CHECK(netdev("0.0.0.0") == "user,id=pdknet0,hostfwd=tcp:0.0.0.0:40024-:22");
    CHECK(netdev("192.168.10.5") == "user,id=pdknet0,hostfwd=tcp:192.168.10.5:40024-:22");
    CHECK(netdev("::1") == "user,id=pdknet0,hostfwd=tcp:[::1]:40024-:22");
    CHECK(netdev("fd00::5") == "user,id=pdknet0,hostfwd=tcp:[fd00::5]:40024-:22");
    for (const char* bad : {"localhost", "1.2.3.4,hostfwd=tcp::2222-:22", "1.2.3.4:22", "[::1]", "fe80::1%eth0",
                            "1.2.3", " 1.2.3.4", "1.2.3.4\n", "0x7f.0.0.1", "999.1.1.1"}) {
        INFO(bad);
        s.ssh_forward_address = bad;
        try {
            (void)buildDomainXml(s, DomainXmlOptions{});
            FAIL("accepted");
        } catch (const pdk::Error& e) {
            CHECK(e.status() == PDK_ERR_INVALID_ARGUMENT);
            CHECK(std::string(e.what()).find("ssh_forward_address") != std::string::npos);
        }
    }
    // Checked whatever the network: a malformed address is a caller's bug, never silently dropped.
    s.network_mode = PDK_NETWORK_NONE;
    s.ssh_forward_address = "not-an-ip";
    CHECK_THROWS_AS(buildDomainXml(s, DomainXmlOptions{}), pdk::Error);
}

TEST_CASE("domain xml: the user-mode NIC avoids the slots libvirt and the chipset use", "[domain_xml]") {
    pdk_domain_spec s = lvqtest::diskless("pdk-q35");
    s.network_mode = PDK_NETWORK_USER;
    s.ssh_forward_port = 40023;
    DomainXmlOptions o;
    o.machine = "q35";  // 00:1f belongs to the ICH9 LPC/SATA/SMBus functions
    CHECK(buildDomainXml(s, o).find("virtio-net-pci,netdev=pdknet0,bus=pcie.0,addr=0x10") != std::string::npos);
    o.machine = "pc";
    CHECK(buildDomainXml(s, o).find("virtio-net-pci,netdev=pdknet0,bus=pci.0,addr=0x1f") != std::string::npos);
}

TEST_CASE("domain xml: libvirt network", "[domain_xml]") {
    pdk_domain_spec s = lvqtest::diskless("pdk-libvirtnet");
    s.network_mode = PDK_NETWORK_LIBVIRT;
    s.network_name = "paddock-net";
    checkGolden("libvirt_network.xml", buildDomainXml(s, DomainXmlOptions{}));
}

TEST_CASE("domain xml: metadata values are escaped", "[domain_xml]") {
    pdk_domain_spec s = lvqtest::diskless("pdk-metadata");
    const pdk_kv kv[] = {{"owner", "alice <admin> & \"bob\" 'o'"}, {"pool", "lab&1"}, {"k<&>\"'", "v"}};
    s.metadata = kv;
    s.metadata_count = 3;
    const std::string xml = buildDomainXml(s, DomainXmlOptions{});
    checkGolden("metadata_escaping.xml", xml);
}

TEST_CASE("domain xml: inputs XML cannot carry are refused", "[domain_xml]") {
    pdk_domain_spec s = lvqtest::diskless("pdk-bad");
    const pdk_kv kv[] = {{"owner", "a\x01b"}};
    s.metadata = kv;
    s.metadata_count = 1;
    try {
        buildDomainXml(s, DomainXmlOptions{});
        FAIL("expected an error");
    } catch (const pdk::Error& e) {
        CHECK(e.status() == PDK_ERR_INVALID_ARGUMENT);
    }
    pdk_domain_spec noName = lvqtest::diskless("");
    CHECK_THROWS_AS(buildDomainXml(noName, DomainXmlOptions{}), pdk::Error);
    pdk_domain_spec noNet = lvqtest::diskless("x");
    noNet.network_mode = PDK_NETWORK_LIBVIRT;
    CHECK_THROWS_AS(buildDomainXml(noNet, DomainXmlOptions{}), pdk::Error);
}

TEST_CASE("domain xml: strings that are not UTF-8 are refused, never written", "[domain_xml]") {
    // Found by tests/fuzz (domain_xml): libxml2's writer copies such bytes as they are, and the
    // document it made could not be parsed back (nor by libvirt). Hosts other than paddockd
    // may pass any bytes through the ABI.
    const auto refusal = [](const pdk_domain_spec& s) {
        try {
            buildDomainXml(s, DomainXmlOptions{});
        } catch (const pdk::Error& e) {
            CHECK(e.status() == PDK_ERR_INVALID_ARGUMENT);
            return std::string(e.what());
        }
        FAIL("expected an error");
        return std::string();
    };
    CHECK_THAT(refusal(lvqtest::diskless("pdk-userne\xFB\x83\xC4"
                                         "B\xFC")),
               Contains("name is not valid UTF-8"));
    CHECK_THAT(refusal(lvqtest::diskless("pdk-\xED\xB8\x80")), Contains("not valid UTF-8"));  // a surrogate
    CHECK_THAT(refusal(lvqtest::diskless("pdk-\xC0\xAF")), Contains("not valid UTF-8"));      // overlong '/'
    CHECK_THAT(refusal(lvqtest::diskless("pdk-\xE2\x82")), Contains("not valid UTF-8"));      // cut short
    CHECK_THAT(refusal(lvqtest::diskless("pdk-\xEF\xBF\xBE")), Contains("U+FFFE"));
    pdk_domain_spec s = lvqtest::diskless("pdk-meta");
    const pdk_kv kv[] = {{"owner", "J\xFCrgen"}};
    s.metadata = kv;
    s.metadata_count = 1;
    CHECK_THAT(refusal(s), Contains("not valid UTF-8"));
    CHECK_THROWS_AS(buildSnapshotXml("snap\xFF"), pdk::Error);
    CHECK_THROWS_AS(buildOverlayVolumeXml("vm\xFF.qcow2", 1, "/img/base.qcow2", "qcow2"), pdk::Error);
    CHECK_THROWS_AS(buildMetadataElement({{"k", "\x80"}}), pdk::Error);

    // Valid UTF-8 of every length goes through.
    const std::string name = "pdk-\xC3\xBC\xE2\x82\xAC\xF0\x9F\x98\x80";
    CHECK(buildDomainXml(lvqtest::diskless(name.c_str()), DomainXmlOptions{}).find("<name>" + name + "</name>") !=
          std::string::npos);
}

TEST_CASE("metadata element round trip", "[domain_xml]") {
    const KeyValues in = {{"owner", "<&>\"'"}, {"ssh_port", "2222"}, {"multi", "line\none"}};
    const std::string xml = buildMetadataElement(in);
    CHECK(xml.find("<vm>") == 0);
    CHECK(parseMetadataElement(xml) == in);
    // libvirt hands the element back with its prefix and sometimes without the declaration.
    CHECK(parseMetadataElement("<paddock:vm xmlns:paddock=\"https://paddock.dev/xmlns/vm/1\">"
                               "<paddock:entry key=\"a\">1</paddock:entry></paddock:vm>") == KeyValues{{"a", "1"}});
    CHECK(parseMetadataElement("<paddock:vm><paddock:entry key=\"b\">2</paddock:entry></paddock:vm>") ==
          KeyValues{{"b", "2"}});
    CHECK(parseMetadataElement("<vm/>").empty());
}

TEST_CASE("overlay volume and snapshot xml", "[domain_xml]") {
    const std::string vol = buildOverlayVolumeXml("vm1.qcow2", 1073741824, "/img/base&1.qcow2", "qcow2");
    CHECK(vol.find("<compat>1.1</compat>") != std::string::npos);
    CHECK(vol.find("<path>/img/base&amp;1.qcow2</path>") != std::string::npos);
    CHECK(vol.find("<capacity unit=\"bytes\">1073741824</capacity>") != std::string::npos);
    CHECK(buildSnapshotXml("ready<1>") == "<domainsnapshot><name>ready&lt;1&gt;</name></domainsnapshot>\n");
}

namespace {

// virt-xml-validate against libvirt's schema of `type` (domainsnapshot, domainbackup, ...).
bool validates(const std::string& xml, const std::string& type) {
    t::TempDir dir;
    const std::string file = dir.file(type + ".xml");
    t::writeFile(file, xml);
    return std::system(("virt-xml-validate '" + file + "' " + type + " >/dev/null 2>&1").c_str()) == 0;
}

}  // namespace

TEST_CASE("snapshot, checkpoint and backup xml", "[domain_xml]") {
    const std::string snap = buildSnapshotXml("s1", "before <upgrade> & more");
    CHECK(snap ==
          "<domainsnapshot><name>s1</name><description>before &lt;upgrade&gt; &amp; more</description>"
          "</domainsnapshot>\n");
    CHECK(validates(snap, "domainsnapshot"));
    CHECK(buildSnapshotXml("s1", "") == buildSnapshotXml("s1"));
    CHECK_THROWS_AS(buildSnapshotXml("s1", "bad \x01"), pdk::Error);

    const std::string cp = buildCheckpointXml("paddock-20261202-075012-1");
    CHECK(cp == "<domaincheckpoint><name>paddock-20261202-075012-1</name></domaincheckpoint>\n");
    CHECK(validates(cp, "domaincheckpoint"));
    CHECK(buildCheckpointXml("a&b") == "<domaincheckpoint><name>a&amp;b</name></domaincheckpoint>\n");

    const std::string full = buildBackupXml({{"vda", "/pool/.vm.backup-c1.qcow2"}}, "");
    CHECK(full ==
          "<domainbackup mode=\"push\"><disks><disk name=\"vda\" type=\"file\">"
          "<target file=\"/pool/.vm.backup-c1.qcow2\"/><driver type=\"qcow2\"/></disk></disks></domainbackup>\n");
    CHECK(validates(full, "domainbackup"));
    const std::string incremental = buildBackupXml({{"vda", "/pool/b'2.qcow2"}}, "c1");
    CHECK_THAT(incremental, Contains("<domainbackup mode=\"push\"><incremental>c1</incremental><disks>"));
    CHECK_THAT(incremental, Contains("file=\"/pool/b'2.qcow2\""));
    CHECK(validates(incremental, "domainbackup"));
    CHECK_THROWS_AS(buildBackupXml({}, ""), pdk::Error);
}

TEST_CASE("snapshot facts are read from libvirt's snapshot XML", "[domain_xml]") {
    // As libvirt 9.0's QEMU driver writes them (the <domain> element shortened).
    const SnapshotFacts running = parseSnapshotXml(R"(<domainsnapshot>
  <name>s1</name>
  <description>first &amp; &lt;x&gt;</description>
  <state>running</state>
  <creationTime>1796197821</creationTime>
  <memory snapshot='internal'/>
  <disks><disk name='vda' snapshot='internal'/></disks>
  <domain type='qemu'><name>pdk-exp</name><description>not this one</description></domain>
</domainsnapshot>)");
    CHECK(running.name == "s1");
    CHECK(running.description == "first & <x>");
    CHECK(running.parent.empty());
    CHECK(running.createdAt == 1796197821);
    CHECK(running.state == PDK_DOMAIN_RUNNING);
    CHECK(running.hasMemory);

    const SnapshotFacts off = parseSnapshotXml(R"(<domainsnapshot><name>off1</name><state>shutoff</state>
  <parent><name>s1</name></parent><creationTime>1796197900</creationTime><memory snapshot='no'/>
  <domain type='qemu'><name>pdk-exp</name></domain></domainsnapshot>)");
    CHECK(off.name == "off1");
    CHECK(off.description.empty());
    CHECK(off.parent == "s1");
    CHECK(off.state == PDK_DOMAIN_SHUTOFF);
    CHECK_FALSE(off.hasMemory);

    // An external disk-only snapshot holds no memory and reads as shut off; a paused one
    // without <memory> (older libvirt) holds memory.
    const SnapshotFacts disk =
        parseSnapshotXml("<domainsnapshot><name>d</name><state>disk-snapshot</state></domainsnapshot>");
    CHECK(disk.state == PDK_DOMAIN_SHUTOFF);
    CHECK_FALSE(disk.hasMemory);
    const SnapshotFacts paused = parseSnapshotXml("<domainsnapshot><name>p</name><state>paused</state></domainsnapshot>");
    CHECK(paused.state == PDK_DOMAIN_PAUSED);
    CHECK(paused.hasMemory);
    CHECK(paused.createdAt == 0);
    CHECK_THROWS_AS(parseSnapshotXml("<domainsnapshot>"), pdk::Error);
}

TEST_CASE("a domain's disks are read with their target, kind, source and format", "[domain_xml]") {
    const std::vector<DomainDisk> disks = parseDisks(R"(<domain type='qemu'><name>x</name><devices>
  <disk type='file' device='cdrom'><source file='/iso/a.iso'/><target dev='sda'/></disk>
  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/pool/x.qcow2' index='1'/>
    <backingStore type='file' index='2'><format type='qcow2'/><source file='/base.qcow2'/></backingStore>
    <target dev='vda' bus='virtio'/></disk>
  <disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/sdb'/><target dev='vdb'/></disk>
</devices></domain>)");
    REQUIRE(disks.size() == 2);
    CHECK(disks[0].target == "vda");
    CHECK(disks[0].type == "file");
    CHECK(disks[0].source == "/pool/x.qcow2");
    CHECK(disks[0].format == "qcow2");
    CHECK(disks[1].target == "vdb");
    CHECK(disks[1].type == "block");
    CHECK(disks[1].source == "/dev/sdb");
    CHECK(disks[1].format == "raw");
    CHECK(parseDisks(buildDomainXml(lvqtest::diskless("pdk-none"), DomainXmlOptions{})).empty());
}

TEST_CASE("disk paths and capabilities are read from libvirt XML", "[domain_xml]") {
    pdk_domain_spec s = lvqtest::diskless("pdk-disk");
    s.disk_path = "/pool/a.qcow2";
    CHECK(parseDiskPaths(buildDomainXml(s, DomainXmlOptions{})) == std::vector<std::string>{"/pool/a.qcow2"});

    const std::string caps = R"(<capabilities><host><cpu><arch>x86_64</arch><feature name='hypervisor'/></cpu></host>
        <guest><os_type>hvm</os_type><arch name='x86_64'><domain type='qemu'/><domain type='kvm'/></arch></guest>
        </capabilities>)";
    CHECK(capsListDomainType(caps, "x86_64", "kvm"));
    CHECK_FALSE(capsListDomainType(caps, "i686", "kvm"));
    CHECK_FALSE(capsHostHasVirtualization(caps));
    std::string vmx = caps;
    vmx.replace(vmx.find("hypervisor"), 10, "vmx");
    CHECK(capsHostHasVirtualization(vmx));
}
