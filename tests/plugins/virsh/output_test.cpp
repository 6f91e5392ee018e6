// The parsers of virsh's output against real captured output (data/: virsh 9.0 with LC_ALL=C
// --quiet, from test:///default and qemu:///system), odd variants of it, the error mapping,
// and the argument checks with hostile names.
#include <virsh_output.hpp>

#include <test_support.hpp>

#include <paddock/cpp/error.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace paddock::virsh;

namespace {

std::string data(const std::string& file) { return paddock::test::readFile(std::string(VIRSH_TEST_DATA_DIR) + "/" + file); }

pdk_status argStatus(std::string_view value) {
    try {
        checkArg(value, "name");
        return PDK_OK;
    } catch (const pdk::Error& e) {
        return e.status();
    }
}

}  // namespace

TEST_CASE("list --all --uuid --id --name, captured and odd", "[output]") {
    auto l = parseUuidIdNameList(data("qemu_list_uuid_name_id.txt"));
    REQUIRE(l.size() == 1);
    CHECK(l[0].uuid == "c9ceb6fd-9b4f-4759-b623-70cdfb240e66");
    CHECK(l[0].id == -1);
    CHECK(l[0].name == "paddock-virsh-test cap spaced");
    l = parseUuidIdNameList(data("qemu_list_uuid_name_id_running.txt"));
    REQUIRE(l.size() == 1);
    CHECK(l[0].id == 4);
    l = parseUuidIdNameList(data("test_list_uuid_name_id.txt"));
    REQUIRE(l.size() == 1);
    CHECK(l[0].name == "test");
    CHECK(l[0].id == 1);

    CHECK(parseUuidIdNameList("").empty());
    CHECK(parseUuidIdNameList("\n\n").empty());
    // A warning line, a table header, a line cut short, CRLF, and names with inner and trailing blanks.
    l = parseUuidIdNameList("warning: something odd\n Id   Name   State\n"
                            "6695eb01-f6a4-8304-79aa-97f2502e193f 12 a  b \r\n"
                            "6695eb01-f6a4-8304-79aa-97f2502e193f\n"
                            "00000000-0000-0000-0000-000000000001 - --connect\n");
    REQUIRE(l.size() == 2);
    CHECK(l[0].id == 12);
    CHECK(l[0].name == "a  b ");
    CHECK(l[1].name == "--connect");
    // Older virsh: padded columns, or no id column at all.
    l = parseUuidIdNameList("6695eb01-f6a4-8304-79aa-97f2502e193f 3     web one\n"
                            "6695eb01-f6a4-8304-79aa-97f2502e193f   db\n");
    REQUIRE(l.size() == 2);
    CHECK(l[0].id == 3);
    CHECK(l[0].name == "web one");
    CHECK(l[1].id == -1);
    CHECK(l[1].name == "db");
}

TEST_CASE("list --name and snapshot-list --name keep names as they are", "[output]") {
    CHECK(nonEmptyLines(data("qemu_list_name.txt")) == std::vector<std::string>{"paddock-virsh-test cap spaced"});
    CHECK(nonEmptyLines(data("qemu_snapshot_list_name.txt")) == std::vector<std::string>{"snap one", "snap-two"});
    CHECK(nonEmptyLines("").empty());
    // virsh without --quiet ends a list with an empty line; no trailing newline at all works too.
    CHECK(nonEmptyLines("a\n\n") == std::vector<std::string>{"a"});
    CHECK(nonEmptyLines(" lead and trail \nlast") == std::vector<std::string>{" lead and trail ", "last"});
}

TEST_CASE("domstats blocks per domain", "[output]") {
    auto s = parseDomstats(data("qemu_domstats_running.txt"));
    REQUIRE(s.size() == 1);
    CHECK(s[0].name == "paddock-virsh-test cap spaced");
    CHECK(s[0].values.at("state.state") == "1");
    CHECK(s[0].values.at("balloon.maximum") == "65536");
    CHECK(s[0].values.at("vcpu.current") == "1");
    s = parseDomstats(data("test_domstats.txt"));
    REQUIRE(s.size() == 1);
    CHECK(s[0].values.count("balloon.maximum") == 0);
    // Quotes inside a name, a stray line before the first block, an empty block.
    s = parseDomstats("  orphan=1\nDomain: 'it''s'\n  state.state=5\nDomain: 'empty'\n\n");
    REQUIRE(s.size() == 2);
    CHECK(s[0].name == "it''s");
    CHECK(s[0].values.at("state.state") == "5");
    CHECK(s[1].values.empty());
}

TEST_CASE("domstate --reason", "[output]") {
    CHECK(parseDomstate(data("qemu_domstate_running.txt")).state == PDK_DOMAIN_RUNNING);
    CHECK(parseDomstate(data("qemu_domstate_running.txt")).reason == "booted");
    CHECK(parseDomstate(data("qemu_domstate_shutoff.txt")).state == PDK_DOMAIN_SHUTOFF);
    CHECK(parseDomstate(data("qemu_domstate_paused.txt")).state == PDK_DOMAIN_PAUSED);
    const DomainState saved = parseDomstate(data("qemu_domstate_saved.txt"));
    CHECK(saved.state == PDK_DOMAIN_SHUTOFF);
    CHECK(saved.reason == "saved");
    CHECK(parseDomstate("in shutdown (user)\n").state == PDK_DOMAIN_SHUTDOWN);
    CHECK(parseDomstate("pmsuspended\n").state == PDK_DOMAIN_PMSUSPENDED);
    CHECK(parseDomstate("").state == PDK_DOMAIN_NOSTATE);
    // A translated word (a locale that slipped through) is no state, never a wrong one.
    CHECK(parseDomstate("en cours d'exécution (démarré)\n").state == PDK_DOMAIN_NOSTATE);
    CHECK(isActiveState(PDK_DOMAIN_PAUSED));
    CHECK_FALSE(isActiveState(PDK_DOMAIN_SHUTOFF));
}

TEST_CASE("dominfo, running, shut off, saved, test driver", "[output]") {
    DomInfo d = parseDominfo(data("qemu_dominfo_running.txt"));
    CHECK(d.id == 1);
    CHECK(d.name == "paddock-virsh-test cap spaced");
    CHECK(d.uuid == "c9ceb6fd-9b4f-4759-b623-70cdfb240e66");
    CHECK(d.state == PDK_DOMAIN_RUNNING);
    CHECK(d.vcpus == 1);
    CHECK(d.cpuTimeNs == 900000000ull);
    CHECK(d.maxMemoryKib == 65536);
    CHECK(d.memoryKib == 65536);
    CHECK_FALSE(d.managedSave);
    d = parseDominfo(data("qemu_dominfo_shutoff.txt"));
    CHECK(d.id == -1);
    CHECK(d.state == PDK_DOMAIN_SHUTOFF);
    CHECK(d.cpuTimeNs == 0);
    CHECK(parseDominfo(data("qemu_dominfo_managedsave.txt")).managedSave);
    d = parseDominfo(data("test_dominfo.txt"));
    CHECK(d.vcpus == 2);
    CHECK(d.maxMemoryKib == 8388608);
    CHECK(d.cpuTimeNs == 1796240310100000000ull);
    // Security lines with colons in their values and an unknown key change nothing.
    d = parseDominfo("Id: 3\nSecurity label: a:b:c (enforcing)\nNew thing:   42\nState: paused\n");
    CHECK(d.id == 3);
    CHECK(d.state == PDK_DOMAIN_PAUSED);
}

TEST_CASE("numbers are read without the host's locale", "[output]") {
    CHECK(parseSecondsToNs("0.9s") == 900000000ull);
    CHECK(parseSecondsToNs("12,25s") == 12250000000ull);  // a decimal comma
    CHECK(parseSecondsToNs("7s") == 7000000000ull);
    CHECK(parseSecondsToNs("1.123456789123s") == 1123456789ull);
    CHECK(parseSecondsToNs("1 234.5s") == 0);  // a thousands separator: unreadable, not misread
    CHECK(parseSecondsToNs("abc") == 0);
    CHECK(parseMemoryKib("65536 KiB") == 65536);
    CHECK(parseMemoryKib("2 GiB") == 2 * 1024 * 1024);
    CHECK(parseMemoryKib("65.536 KiB") == 0);
    CHECK(parseMemoryKib("65 536 KiB") == 0);
    CHECK(parseUnsigned(" 42 ") == 42u);
    CHECK_FALSE(parseUnsigned("-1"));
    CHECK_FALSE(parseUnsigned("1e3"));
    CHECK_FALSE(parseUnsigned("99999999999999999999999"));
}

TEST_CASE("version", "[output]") {
    VersionInfo v = parseVersion(data("qemu_version.txt"));
    CHECK(v.libraryVersion == 9000000);
    CHECK(v.driver == "QEMU");
    CHECK(v.hypervisorVersion == 7002022);
    v = parseVersion(data("test_version.txt"));
    CHECK(v.driver == "TEST");
    CHECK(v.hypervisorVersion == 2);
    CHECK(parseDottedVersion("10.1") == 10001000);
    CHECK(parseDottedVersion("1.2.3.4") == 0);
    CHECK(parseDottedVersion("x") == 0);
    CHECK(parseVersion("").libraryVersion == 0);
}

TEST_CASE("domifaddr: the first IPv4 address, never loopback", "[output]") {
    CHECK(parseFirstIpv4(data("test_domifaddr.txt")) == std::optional<std::string>("192.168.122.3"));
    CHECK_FALSE(parseFirstIpv4(""));
    const std::string table = " Name       MAC address          Protocol     Address\n"
                              "-------------------------------------------------------\n"
                              " vnet0      52:54:00:aa:bb:cc    ipv6         fe80::1/64\n"
                              " -          -                    ipv4         127.0.0.2/8\n"
                              " -          -                    ipv4         10.0.0.7/24\n";
    CHECK(parseFirstIpv4(table) == std::optional<std::string>("10.0.0.7"));
    CHECK_FALSE(parseFirstIpv4(" vnet0 52:54:00:aa:bb:cc ipv4 999.x.1.1/24\n"));
    for (const char* notAnAddress : {"...", "1..2.3", "999.0.0.1", "1.2.3.4.5", "01.2.3.4x", "127.0.0.1"})
        CHECK_FALSE(parseFirstIpv4(std::string(" vnet0 52:54:00:aa:bb:cc ipv4 ") + notAnAddress + "/24\n"));
}

TEST_CASE("virsh errors map to pdk statuses", "[output]") {
    const auto status = [](const std::string& file) { return classifyVirshError(data(file)).status; };
    CHECK(status("qemu_err_dominfo_missing.txt") == PDK_ERR_NOT_FOUND);
    CHECK(status("qemu_err_vol_missing.txt") == PDK_ERR_NOT_FOUND);
    CHECK(status("qemu_err_snapshot_missing.txt") == PDK_ERR_NOT_FOUND);
    CHECK(status("qemu_err_start_running.txt") == PDK_ERR_CONFLICT);
    CHECK(status("qemu_err_destroy_shutoff.txt") == PDK_ERR_CONFLICT);
    CHECK(status("qemu_err_shutdown_shutoff.txt") == PDK_ERR_CONFLICT);
    CHECK(status("qemu_err_undefine_with_snapshots.txt") == PDK_ERR_CONFLICT);
    CHECK(status("qemu_err_snapshot_exists.txt") == PDK_ERR_ALREADY_EXISTS);

    const VirshFailure f = classifyVirshError(data("qemu_err_destroy_shutoff.txt"));
    CHECK(f.message ==
          "Failed to destroy domain 'paddock-virsh-test cap spaced'; Requested operation is not valid: domain is not running");

    // Captured from virsh 9.0 as well (URIs that do not connect).
    CHECK(classifyVirshError("error: failed to connect to the hypervisor\n"
                             "error: no connection driver available for xen:///system\n")
              .status == PDK_ERR_UNAVAILABLE);
    CHECK(classifyVirshError("error: failed to connect to the hypervisor\n"
                             "error: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file\n")
              .status == PDK_ERR_UNAVAILABLE);
    CHECK(classifyVirshError("error: failed to connect to the hypervisor\n"
                             "error: internal error: unexpected qemu URI path '/nosuch', try qemu:///system\n")
              .status == PDK_ERR_UNAVAILABLE);
    // A lost connection in the middle of a lookup is not "not found".
    CHECK(classifyVirshError("error: failed to get domain 'x'\nerror: Cannot recv data: Connection reset by peer\n")
              .status == PDK_ERR_UNAVAILABLE);
    CHECK(classifyVirshError("error: unsupported flags (0x14) in function testDomainUndefineFlags\n").status ==
          PDK_ERR_UNSUPPORTED);
    CHECK(classifyVirshError(
              "error: this function is not supported by the connection driver: virDomainQemuAgentCommand\n")
              .status == PDK_ERR_UNSUPPORTED);
    CHECK(classifyVirshError("error: Guest agent is not responding: QEMU guest agent is not connected\n").status ==
          PDK_ERR_UNAVAILABLE);
    CHECK(classifyVirshError("error: argument unsupported: QEMU guest agent is not configured\n").status ==
          PDK_ERR_UNSUPPORTED);
    CHECK(classifyVirshError("error: Timed out during operation: cannot acquire state change lock\n").status ==
          PDK_ERR_TIMEOUT);
    CHECK(classifyVirshError("error: XML error: missing name\n").status == PDK_ERR_INVALID_ARGUMENT);
    CHECK(classifyVirshError("error: operation failed: something else\n").status == PDK_ERR_INTERNAL);
    // Not virsh's words at all: the text is kept.
    const VirshFailure raw = classifyVirshError("Segmentation fault\n");
    CHECK(raw.status == PDK_ERR_INTERNAL);
    CHECK(raw.message == "Segmentation fault");
}

TEST_CASE("hostile names are refused before anything runs", "[output]") {
    CHECK(argStatus("ok name with spaces") == PDK_OK);
    CHECK(argStatus("a'b\"c$(rm -rf /)`x`;|&") == PDK_OK);  // no shell: these are plain bytes
    CHECK(argStatus("") == PDK_ERR_INVALID_ARGUMENT);
    CHECK(argStatus("--connect") == PDK_ERR_INVALID_ARGUMENT);
    CHECK(argStatus("-c") == PDK_ERR_INVALID_ARGUMENT);
    CHECK(argStatus(std::string_view("a\0b", 3)) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(argStatus("a\nb") == PDK_ERR_INVALID_ARGUMENT);
    CHECK(argStatus("a\x1b[31m") == PDK_ERR_INVALID_ARGUMENT);
    CHECK(argStatus("tab\there") == PDK_ERR_INVALID_ARGUMENT);
    CHECK(argStatus("del\x7f") == PDK_ERR_INVALID_ARGUMENT);
    CHECK(argStatus(std::string(10 * 1024, 'a')) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(argStatus(std::string(kMaxNameBytes, 'a')) == PDK_OK);
    CHECK_THROWS_AS(checkPath("relative/path", "path"), pdk::Error);
    CHECK_THROWS_AS(checkPath("-/x", "path"), pdk::Error);
    CHECK_NOTHROW(checkPath("/var/lib/x.qcow2", "path"));
    CHECK_THROWS_AS(checkVolumeName("../x", "volume"), pdk::Error);
    CHECK_THROWS_AS(checkVolumeName("..", "volume"), pdk::Error);
    CHECK_NOTHROW(checkVolumeName("vm1.qcow2", "volume"));
}

TEST_CASE("names virsh would read as an id or a UUID are recognised", "[output]") {
    CHECK(nameVirshMayMisread("7"));
    CHECK(nameVirshMayMisread("0012"));
    CHECK(nameVirshMayMisread(" +7"));
    CHECK(nameVirshMayMisread("6695eb01-f6a4-8304-79aa-97f2502e193f"));
    CHECK(nameVirshMayMisread("6695eb01f6a4830479aa97f2502e193f"));
    CHECK(nameVirshMayMisread("6695-eb01f6a4830479aa97f2502e193f-"));
    CHECK_FALSE(nameVirshMayMisread("vm7"));
    CHECK_FALSE(nameVirshMayMisread("7-a"));
    CHECK_FALSE(nameVirshMayMisread("6695eb01-f6a4-8304-79aa-97f2502e193"));
    CHECK_FALSE(nameVirshMayMisread("paddock-virsh-test"));
}
