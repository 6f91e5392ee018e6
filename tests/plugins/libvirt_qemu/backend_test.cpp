// The libvirt-qemu backend through its real shared object, against libvirt's in-process test
// driver (test:///default). Note: every open of test:///default in one process shares the
// same driver state while any of them stays open, so names are unique per test case.
#include "plugin_fixture.hpp"

#include <paddock/pdk_backend.h>

#include <libvirt/libvirt.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

using namespace lvqtest;
namespace t = paddock::test;

namespace {

constexpr const char* kUri = "test:///default";

pdk_status define(Conn& c, const pdk_domain_spec& s, Err& err) { return vt().define_domain(c.get(), &s, 0, &err); }

void mustDefine(Conn& c, const pdk_domain_spec& s) {
    Err err;
    const pdk_status st = define(c, s, err);
    INFO(err.text());  // after the call: the error it wrote
    REQUIRE(st == PDK_OK);
}

// The volume XML as libvirt stores it, read through a separate connection to the shared state.
std::string volumeXml(const std::string& path) {
    virConnectPtr conn = virConnectOpen(kUri);
    REQUIRE(conn != nullptr);
    virStorageVolPtr vol = virStorageVolLookupByPath(conn, path.c_str());
    std::string xml;
    if (vol != nullptr) {
        char* s = virStorageVolGetXMLDesc(vol, 0);
        xml = s != nullptr ? s : "";
        free(s);
        virStorageVolFree(vol);
    }
    virConnectClose(conn);
    return xml;
}

struct SnapshotView {
    std::string name, description;
    const char* parentPtr = nullptr;  // valid only during the sink call: compared with NULL only
    std::string parent;
    int64_t createdAt = 0;
    int state = 0;
    bool hasMemory = false, isCurrent = false;
    int64_t sizeBytes = 0;
};

void collectSnapshot(void* user, const pdk_snapshot_info* info) {
    SnapshotView v;
    v.name = info->name;
    v.description = info->description;
    v.parentPtr = info->parent;
    v.parent = info->parent != nullptr ? info->parent : "";
    v.createdAt = info->created_at;
    v.state = info->state;
    v.hasMemory = info->has_memory != 0;
    v.isCurrent = info->is_current != 0;
    v.sizeBytes = info->size_bytes;
    static_cast<std::vector<SnapshotView>*>(user)->push_back(v);
}

pdk_snapshot_spec snapshotSpec(const char* name, const char* description) {
    pdk_snapshot_spec s{};
    s.struct_size = sizeof s;
    s.name = name;
    s.description = description;
    return s;
}

pdk_backup_spec backupSpec(const char* target, const char* checkpoint, const char* from, const char* backing) {
    pdk_backup_spec s{};
    s.struct_size = sizeof s;
    s.target_path = target;
    s.checkpoint = checkpoint;
    s.incremental_from = from;
    s.backing_name = backing;
    return s;
}

pdk_backup_result backupResult() {
    pdk_backup_result r{};
    r.struct_size = sizeof r;
    return r;
}

pdk_restore_spec restoreSpec(const char* pool, const char* name, const char* source) {
    pdk_restore_spec s{};
    s.struct_size = sizeof s;
    s.pool = pool;
    s.name = name;
    s.source_path = source;
    return s;
}

std::vector<SnapshotView> snapshotInfos(Conn& c, const char* domain) {
    std::vector<SnapshotView> out;
    Err err;
    const pdk_status st = vt().snapshot_list_info(c.get(), domain, 0, &collectSnapshot, &out, &err);
    INFO(err.text());
    REQUIRE(st == PDK_OK);
    return out;
}

pdk_volume_spec overlaySpec(const char* name, const char* backing, const char* format, uint64_t capacity) {
    pdk_volume_spec v{};
    v.struct_size = sizeof v;
    v.pool = "default-pool";
    v.name = name;
    v.backing_path = backing;
    v.backing_format = format;
    v.capacity_bytes = capacity;
    return v;
}

}  // namespace

TEST_CASE("descriptor", "[libvirt_qemu]") {
    const pdk_plugin_descriptor& d = descriptor();
    CHECK(d.struct_size == sizeof(pdk_plugin_descriptor));
    CHECK(d.abi_major == PDK_ABI_VERSION_MAJOR);
    CHECK(d.abi_minor == PDK_ABI_VERSION_MINOR);
    CHECK(d.kind == PDK_PLUGIN_KIND_BACKEND);
    CHECK(std::string(d.id) == "org.paddock.libvirt-qemu");
    std::vector<std::string> caps;
    for (const char* const* c = d.capabilities; *c != nullptr; ++c) caps.emplace_back(*c);
    for (const char* want : {"domain.lifecycle", "volume.overlay", "snapshot", "save", "events", "ssh_target",
                             "metadata", "backup", "guest_agent"}) {
        CHECK(std::find(caps.begin(), caps.end(), want) != caps.end());
    }
    const pdk_backend_vtable& v = vt();
    CHECK(v.struct_size == sizeof(pdk_backend_vtable));
    for (const void* fn : {(const void*)v.open,
                           (const void*)v.close,
                           (const void*)v.is_alive,
                           (const void*)v.host_info,
                           (const void*)v.list_domains,
                           (const void*)v.get_domain,
                           (const void*)v.define_domain,
                           (const void*)v.start_domain,
                           (const void*)v.shutdown_domain,
                           (const void*)v.destroy_domain,
                           (const void*)v.undefine_domain,
                           (const void*)v.get_metadata,
                           (const void*)v.set_metadata,
                           (const void*)v.create_overlay,
                           (const void*)v.delete_volume,
                           (const void*)v.snapshot_create,
                           (const void*)v.snapshot_list,
                           (const void*)v.snapshot_revert,
                           (const void*)v.snapshot_delete,
                           (const void*)v.save_domain,
                           (const void*)v.suspend_domain,
                           (const void*)v.ssh_target,
                           (const void*)v.subscribe_events,
                           (const void*)v.volume_path,
                           (const void*)v.snapshot_list_info,
                           (const void*)v.snapshot_create_spec,
                           (const void*)v.backup_create,
                           (const void*)v.checkpoint_delete,
                           (const void*)v.restore_volume,
                           (const void*)v.guest_ping}) {
        CHECK(fn != nullptr);
    }
}

TEST_CASE("open, is_alive and host_info", "[libvirt_qemu]") {
    Conn c(kUri);
    CHECK(vt().is_alive(c.get()) == 1);
    pdk_host_info info{};
    info.struct_size = sizeof info;
    OK_CALL(vt().host_info(c.get(), 0, &info, &err));
    CHECK(std::string(info.hypervisor) == "TEST");
    CHECK(std::string(info.auto_domain_type) == "qemu");
    CHECK(std::strlen(info.hostname) > 0);
    CHECK(info.library_version >= 9000000);
    CHECK(info.hypervisor_version == 2);  // what libvirt's test driver reports (ABI 1.1 field)

    // A 1.0 host's struct ends before hypervisor_version: nothing is written past it.
    alignas(8) unsigned char bytes[sizeof(pdk_host_info)];
    std::memset(bytes, 0xA5, sizeof bytes);
    auto* old = reinterpret_cast<pdk_host_info*>(bytes);
    old->struct_size = PDK_HOST_INFO_SIZE_1_0;
    OK_CALL(vt().host_info(c.get(), 0, old, &err));
    CHECK(std::string(old->hypervisor) == "TEST");
    CHECK(old->struct_size == PDK_HOST_INFO_SIZE_1_0);
    CHECK(std::all_of(bytes + PDK_HOST_INFO_SIZE_1_0, bytes + sizeof bytes, [](unsigned char b) { return b == 0xA5; }));

    pdk_backend_connection* bad = nullptr;
    Err err;
    CHECK(vt().open("nosuchdriver:///system", 0, &bad, &err) == PDK_ERR_UNAVAILABLE);
    CHECK(std::string(err.message).find("nosuchdriver") != std::string::npos);
    CHECK(vt().open(kUri, 0x100, &bad, &err) == PDK_ERR_BAD_FLAGS);
}

TEST_CASE("define, list, get, start, shutdown, destroy, undefine", "[libvirt_qemu]") {
    Conn c(kUri);
    pdk_domain_spec s = diskless("pdk-t-life");
    const pdk_kv kv[] = {{"owner", "alice"}};
    s.metadata = kv;
    s.metadata_count = 1;
    mustDefine(c, s);
    Err err;
    CHECK(define(c, s, err) == PDK_ERR_ALREADY_EXISTS);

    bool seen = false;
    for (const DomainView& d : c.list()) {
        if (d.name != "pdk-t-life") continue;
        seen = true;
        CHECK(d.state == PDK_DOMAIN_SHUTOFF);
        CHECK(d.id == -1);
        CHECK(d.uuid.size() == 36);
        CHECK(d.vcpus == 1);
        CHECK(d.maxMemoryKib == 128 * 1024);
        CHECK(d.metadata.empty());  // only with PDK_LIST_WITH_METADATA
        CHECK_FALSE(d.managedSave);
        CHECK(d.cpuTimeNs == 0);  // off: no CPU used (the test driver itself says the wall clock)
    }
    CHECK(seen);
    CHECK(c.get("pdk-t-life").metadata.at("owner") == "alice");
    CHECK(c.get("pdk-t-life").cpuTimeNs == 0);

    OK_CALL(vt().start_domain(c.get(), "pdk-t-life", 0, &err));
    CHECK(vt().start_domain(c.get(), "pdk-t-life", 0, &err) == PDK_ERR_CONFLICT);
    CHECK(std::string(err.message).find("already running") != std::string::npos);
    DomainView running = c.get("pdk-t-life");
    CHECK(running.state == PDK_DOMAIN_RUNNING);
    CHECK(running.id > 0);
    CHECK(running.cpuTimeNs > 0);
    CHECK(vt().undefine_domain(c.get(), "pdk-t-life", 0, &err) == PDK_ERR_CONFLICT);

    OK_CALL(vt().shutdown_domain(c.get(), "pdk-t-life", 0, &err));
    CHECK(c.get("pdk-t-life").state == PDK_DOMAIN_SHUTOFF);  // the test driver powers off at once
    CHECK(c.get("pdk-t-life").cpuTimeNs == 0);
    CHECK(vt().shutdown_domain(c.get(), "pdk-t-life", 0, &err) == PDK_ERR_CONFLICT);
    CHECK(vt().destroy_domain(c.get(), "pdk-t-life", 0, &err) == PDK_ERR_CONFLICT);

    OK_CALL(vt().start_domain(c.get(), "pdk-t-life", 0, &err));
    OK_CALL(vt().destroy_domain(c.get(), "pdk-t-life", 0, &err));
    OK_CALL(vt().undefine_domain(c.get(), "pdk-t-life", 0, &err));
    DomainView gone;
    CHECK(c.get("pdk-t-life", gone, err) == PDK_ERR_NOT_FOUND);
    CHECK(std::string(err.message).find("pdk-t-life") != std::string::npos);
}

TEST_CASE("invalid specs are refused", "[libvirt_qemu]") {
    Conn c(kUri);
    Err err;
    pdk_domain_spec s = diskless("pdk-t-badtype");
    s.domain_type = "xen";
    CHECK(define(c, s, err) == PDK_ERR_INVALID_ARGUMENT);
    s = diskless("pdk-t-badsize");
    s.struct_size = 8;
    CHECK(define(c, s, err) == PDK_ERR_INVALID_ARGUMENT);
    // Refused at the ABI boundary with a message, not turned into XML libvirt cannot read.
    s = diskless("pdk-t-\xFB\x83");
    CHECK(define(c, s, err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(err.text(), Catch::Matchers::Contains("not valid UTF-8"));
    // Names libvirt would turn into file names it cannot create: refused here, before libvirtd
    // answers "File name too long" (found by paddock-conformance on qemu:///system).
    const std::string longName(201, 'a');
    s = diskless(longName.c_str());
    CHECK(define(c, s, err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(err.text(), Catch::Matchers::Contains("201 bytes; at most 200"));
    for (const char* bad : {"a/b", "tab\there", "del\x7f"}) {
        s = diskless(bad);
        CHECK(define(c, s, err) == PDK_ERR_INVALID_ARGUMENT);
    }
    const std::string longest = "pdk-t-" + std::string(194, 'l');
    s = diskless(longest.c_str());
    REQUIRE(define(c, s, err) == PDK_OK);
    CHECK(vt().undefine_domain(c.get(), longest.c_str(), 0, &err) == PDK_OK);
}

TEST_CASE("every network mode defines on the test driver", "[libvirt_qemu]") {
    Conn c(kUri);
    pdk_domain_spec user = diskless("pdk-t-usernet");
    user.network_mode = PDK_NETWORK_USER;
    user.ssh_forward_port = 40222;
    mustDefine(c, user);
    pdk_ssh_target target{};
    target.struct_size = sizeof target;
    OK_CALL(vt().ssh_target(c.get(), "pdk-t-usernet", 0, &target, &err));
    CHECK(std::string(target.host) == "127.0.0.1");
    CHECK(target.port == 40222);

    pdk_domain_spec net = diskless("pdk-t-libvirtnet");
    net.network_mode = PDK_NETWORK_LIBVIRT;
    net.network_name = "default";
    mustDefine(c, net);
    Err err;
    CHECK(vt().ssh_target(c.get(), "pdk-t-libvirtnet", 0, &target, &err) == PDK_ERR_CONFLICT);  // not running

    OK_CALL(vt().undefine_domain(c.get(), "pdk-t-usernet", 0, &err));
    OK_CALL(vt().undefine_domain(c.get(), "pdk-t-libvirtnet", 0, &err));
}

TEST_CASE("metadata round trip with characters needing escaping", "[libvirt_qemu]") {
    Conn c(kUri);
    mustDefine(c, diskless("pdk-t-meta"));
    std::map<std::string, std::string> got;
    OK_CALL(vt().get_metadata(c.get(), "pdk-t-meta", 0, &collectKv, &got, &err));
    CHECK(got.empty());

    const pdk_kv kv[] = {{"owner", "<&>\"'"}, {"note", "a & b < c"}, {"ssh_port", "2201"}};
    OK_CALL(vt().set_metadata(c.get(), "pdk-t-meta", kv, 3, 0, &err));
    OK_CALL(vt().get_metadata(c.get(), "pdk-t-meta", 0, &collectKv, &got, &err));
    CHECK(got == std::map<std::string, std::string>{{"owner", "<&>\"'"}, {"note", "a & b < c"}, {"ssh_port", "2201"}});

    // Replacing drops pairs that are not given again.
    const pdk_kv one[] = {{"owner", "bob"}};
    OK_CALL(vt().set_metadata(c.get(), "pdk-t-meta", one, 1, 0, &err));
    got.clear();
    OK_CALL(vt().get_metadata(c.get(), "pdk-t-meta", 0, &collectKv, &got, &err));
    CHECK(got == std::map<std::string, std::string>{{"owner", "bob"}});

    // Live too while running.
    OK_CALL(vt().start_domain(c.get(), "pdk-t-meta", 0, &err));
    const pdk_kv live[] = {{"owner", "carol"}};
    OK_CALL(vt().set_metadata(c.get(), "pdk-t-meta", live, 1, PDK_METADATA_LIVE, &err));
    CHECK(c.get("pdk-t-meta").metadata.at("owner") == "carol");

    bool seen = false;
    for (const DomainView& d : c.list(PDK_LIST_WITH_METADATA)) {
        if (d.name == "pdk-t-meta") {
            seen = true;
            CHECK(d.metadata.at("owner") == "carol");
        }
    }
    CHECK(seen);
    OK_CALL(vt().destroy_domain(c.get(), "pdk-t-meta", 0, &err));
    OK_CALL(vt().undefine_domain(c.get(), "pdk-t-meta", 0, &err));
    Err err;
    CHECK(vt().get_metadata(c.get(), "pdk-t-meta", 0, &collectKv, &got, &err) == PDK_ERR_NOT_FOUND);
}

TEST_CASE("overlays in default-pool", "[libvirt_qemu]") {
    Conn c(kUri);
    char path[512] = {};
    pdk_volume_spec v = overlaySpec("pdk-t-ov1.qcow2", "/images/base.qcow2", "qcow2", 2ull << 30);
    OK_CALL(vt().create_overlay(c.get(), &v, 0, path, sizeof path, &err));
    CHECK(std::string(path) == "/default-pool/pdk-t-ov1.qcow2");
    const std::string xml = volumeXml(path);
    CHECK(xml.find("<format type='qcow2'/>") != std::string::npos);
    CHECK(xml.find("<compat>1.1</compat>") != std::string::npos);
    CHECK(xml.find("<backingStore>\n    <path>/images/base.qcow2</path>\n    <format type='qcow2'/>") !=
          std::string::npos);
    CHECK(xml.find("<capacity unit='bytes'>2147483648</capacity>") != std::string::npos);

    Err err;
    CHECK(vt().create_overlay(c.get(), &v, 0, path, sizeof path, &err) == PDK_ERR_ALREADY_EXISTS);
    CHECK(vt().create_overlay(c.get(), &v, 0, path, 4, &err) == PDK_ERR_ALREADY_EXISTS);
    pdk_volume_spec noPool = overlaySpec("x.qcow2", "/images/base.qcow2", "qcow2", 1 << 20);
    noPool.pool = "no-such-pool";
    CHECK(vt().create_overlay(c.get(), &noPool, 0, path, sizeof path, &err) == PDK_ERR_NOT_FOUND);
    CHECK(std::string(err.message).find("no-such-pool") != std::string::npos);

    OK_CALL(vt().delete_volume(c.get(), "/default-pool/pdk-t-ov1.qcow2", 0, &err));
    CHECK(volumeXml("/default-pool/pdk-t-ov1.qcow2").empty());
    CHECK(vt().delete_volume(c.get(), "/default-pool/pdk-t-ov1.qcow2", 0, &err) == PDK_ERR_NOT_FOUND);
}

TEST_CASE("volume_path names an overlay's path before it exists (1.2)", "[libvirt_qemu]") {
    Conn c(kUri);
    char path[512] = {};
    OK_CALL(vt().volume_path(c.get(), "default-pool", "pdk-t-vp.qcow2", 0, path, sizeof path, &err));
    CHECK(std::string(path) == "/default-pool/pdk-t-vp.qcow2");
    CHECK(volumeXml(path).empty());  // nothing was created

    char made[512] = {};
    pdk_volume_spec v = overlaySpec("pdk-t-vp.qcow2", "/images/base.qcow2", "qcow2", 1 << 20);
    OK_CALL(vt().create_overlay(c.get(), &v, 0, made, sizeof made, &err));
    CHECK(std::string(made) == path);  // the promise holds

    Err err;
    CHECK(vt().volume_path(c.get(), "default-pool", "pdk-t-vp.qcow2", 0, path, sizeof path, &err) ==
          PDK_ERR_ALREADY_EXISTS);
    CHECK(vt().volume_path(c.get(), "no-such-pool", "x.qcow2", 0, path, sizeof path, &err) == PDK_ERR_NOT_FOUND);
    CHECK(vt().volume_path(c.get(), "default-pool", "../x.qcow2", 0, path, sizeof path, &err) ==
          PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().volume_path(c.get(), "default-pool", "y.qcow2", 0, path, 8, &err) == PDK_ERR_BUFFER_TOO_SMALL);
    OK_CALL(vt().delete_volume(c.get(), made, 0, &err));
}

TEST_CASE("overlay capacity 0 takes the base image's virtual size", "[libvirt_qemu]") {
    Conn c(kUri);
    t::TempDir dir;
    const std::string qcow = dir.file("base.qcow2");
    REQUIRE(std::system(("qemu-img create -q -f qcow2 '" + qcow + "' 96M").c_str()) == 0);
    const std::string raw = dir.file("base.raw");
    REQUIRE(std::system(("truncate -s 5M '" + raw + "'").c_str()) == 0);
    char path[512] = {};

    pdk_volume_spec v = overlaySpec("pdk-t-ov-q.qcow2", qcow.c_str(), "qcow2", 0);
    OK_CALL(vt().create_overlay(c.get(), &v, 0, path, sizeof path, &err));
    CHECK(volumeXml(path).find("<capacity unit='bytes'>100663296</capacity>") != std::string::npos);
    OK_CALL(vt().delete_volume(c.get(), path, 0, &err));

    v = overlaySpec("pdk-t-ov-r.qcow2", raw.c_str(), "raw", 0);
    OK_CALL(vt().create_overlay(c.get(), &v, 0, path, sizeof path, &err));
    CHECK(volumeXml(path).find("<capacity unit='bytes'>5242880</capacity>") != std::string::npos);
    CHECK(volumeXml(path).find("<format type='raw'/>") != std::string::npos);
    OK_CALL(vt().delete_volume(c.get(), path, 0, &err));

    // The test driver's base images are imaginary: a missing file means 1 GiB there.
    v = overlaySpec("pdk-t-ov-m.qcow2", "/nonexistent/base.qcow2", "qcow2", 0);
    OK_CALL(vt().create_overlay(c.get(), &v, 0, path, sizeof path, &err));
    CHECK(volumeXml(path).find("<capacity unit='bytes'>1073741824</capacity>") != std::string::npos);
    OK_CALL(vt().delete_volume(c.get(), path, 0, &err));

    // A base that is itself a volume in a pool gives its capacity.
    pdk_volume_spec base = overlaySpec("pdk-t-ov-base.qcow2", "/nonexistent/b0.qcow2", "qcow2", 3ull << 30);
    char basePath[512] = {};
    OK_CALL(vt().create_overlay(c.get(), &base, 0, basePath, sizeof basePath, &err));
    v = overlaySpec("pdk-t-ov-v.qcow2", basePath, "qcow2", 0);
    OK_CALL(vt().create_overlay(c.get(), &v, 0, path, sizeof path, &err));
    CHECK(volumeXml(path).find("<capacity unit='bytes'>3221225472</capacity>") != std::string::npos);
    OK_CALL(vt().delete_volume(c.get(), path, 0, &err));
    OK_CALL(vt().delete_volume(c.get(), basePath, 0, &err));
}

TEST_CASE("undefine with storage removal deletes the disk volume", "[libvirt_qemu]") {
    Conn c(kUri);
    char path[512] = {};
    pdk_volume_spec v = overlaySpec("pdk-t-rm.qcow2", "/images/base.qcow2", "qcow2", 1 << 30);
    OK_CALL(vt().create_overlay(c.get(), &v, 0, path, sizeof path, &err));
    pdk_domain_spec s = diskless("pdk-t-rm");
    s.disk_path = path;
    s.disk_format = "qcow2";
    mustDefine(c, s);
    OK_CALL(vt().undefine_domain(c.get(), "pdk-t-rm", PDK_UNDEFINE_REMOVE_STORAGE, &err));
    CHECK(volumeXml(path).empty());

    // A disk that is no storage volume: refused before anything is removed.
    pdk_domain_spec f = diskless("pdk-t-rmfile");
    f.disk_path = "/not/a/volume.qcow2";
    mustDefine(c, f);
    Err err;
    CHECK(vt().undefine_domain(c.get(), "pdk-t-rmfile", PDK_UNDEFINE_REMOVE_STORAGE, &err) == PDK_ERR_UNSUPPORTED);
    CHECK(std::string(err.message).find("/not/a/volume.qcow2") != std::string::npos);
    OK_CALL(vt().undefine_domain(c.get(), "pdk-t-rmfile", 0, &err));
}

TEST_CASE("snapshots", "[libvirt_qemu]") {
    Conn c(kUri);
    mustDefine(c, diskless("pdk-t-snap"));
    OK_CALL(vt().snapshot_create(c.get(), "pdk-t-snap", "ready", 0, &err));
    Err err;
    CHECK(vt().snapshot_create(c.get(), "pdk-t-snap", "ready", 0, &err) == PDK_ERR_ALREADY_EXISTS);
    OK_CALL(vt().snapshot_create(c.get(), "pdk-t-snap", "ready", PDK_SNAPSHOT_REPLACE, &err));
    OK_CALL(vt().start_domain(c.get(), "pdk-t-snap", 0, &err));
    OK_CALL(vt().snapshot_create(c.get(), "pdk-t-snap", "live<1>", 0, &err));

    std::vector<std::string> names;
    OK_CALL(vt().snapshot_list(c.get(), "pdk-t-snap", 0, &collectName, &names, &err));
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"live<1>", "ready"});

    OK_CALL(vt().snapshot_revert(c.get(), "pdk-t-snap", "ready", 0, &err));
    CHECK(c.get("pdk-t-snap").state == PDK_DOMAIN_SHUTOFF);  // "ready" was taken while off
    OK_CALL(vt().snapshot_revert(c.get(), "pdk-t-snap", "ready", PDK_REVERT_START, &err));
    CHECK(c.get("pdk-t-snap").state == PDK_DOMAIN_RUNNING);

    CHECK(vt().snapshot_revert(c.get(), "pdk-t-snap", "nope", 0, &err) == PDK_ERR_NOT_FOUND);
    OK_CALL(vt().snapshot_delete(c.get(), "pdk-t-snap", "live<1>", 0, &err));
    CHECK(vt().snapshot_delete(c.get(), "pdk-t-snap", "live<1>", 0, &err) == PDK_ERR_NOT_FOUND);
    OK_CALL(vt().destroy_domain(c.get(), "pdk-t-snap", 0, &err));
    // Undefine also drops the remaining snapshot's metadata.
    OK_CALL(vt().undefine_domain(c.get(), "pdk-t-snap", 0, &err));
}

TEST_CASE("snapshot_list_info tells each snapshot's facts (1.4)", "[libvirt_qemu]") {
    Conn c(kUri);
    mustDefine(c, diskless("pdk-t-snapinfo"));
    const int64_t before = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    OK_CALL(vt().start_domain(c.get(), "pdk-t-snapinfo", 0, &err));
    pdk_snapshot_spec live = snapshotSpec("live", "before <upgrade> & more");
    OK_CALL(vt().snapshot_create_spec(c.get(), "pdk-t-snapinfo", &live, 0, &err));
    OK_CALL(vt().destroy_domain(c.get(), "pdk-t-snapinfo", 0, &err));
    OK_CALL(vt().snapshot_create(c.get(), "pdk-t-snapinfo", "off", 0, &err));
    const int64_t after = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();

    const std::vector<SnapshotView> infos = snapshotInfos(c, "pdk-t-snapinfo");
    REQUIRE(infos.size() == 2);  // oldest first; names break ties within a second
    const SnapshotView& a = infos[0];
    CHECK(a.name == "live");
    CHECK(a.description == "before <upgrade> & more");
    CHECK(a.parentPtr == nullptr);
    CHECK(a.state == PDK_DOMAIN_RUNNING);
    CHECK(a.hasMemory);
    CHECK_FALSE(a.isCurrent);
    CHECK(a.sizeBytes == -1);
    CHECK(a.createdAt >= before);
    CHECK(a.createdAt <= after);
    const SnapshotView& b = infos[1];
    CHECK(b.name == "off");
    CHECK(b.description.empty());
    CHECK(b.parent == "live");
    CHECK(b.state == PDK_DOMAIN_SHUTOFF);
    CHECK_FALSE(b.hasMemory);
    CHECK(b.isCurrent);
    CHECK(b.createdAt >= a.createdAt);

    // The name rule of snapshot_create holds: replacing needs PDK_SNAPSHOT_REPLACE.
    pdk_snapshot_spec again = snapshotSpec("live", "second");
    Err err;
    CHECK(vt().snapshot_create_spec(c.get(), "pdk-t-snapinfo", &again, 0, &err) == PDK_ERR_ALREADY_EXISTS);
    CHECK_THAT(err.text(), Catch::Matchers::Contains("already exists"));
    OK_CALL(vt().snapshot_create_spec(c.get(), "pdk-t-snapinfo", &again, PDK_SNAPSHOT_REPLACE, &err));
    bool replaced = false;
    for (const SnapshotView& v : snapshotInfos(c, "pdk-t-snapinfo")) {
        if (v.name != "live") continue;
        replaced = true;
        CHECK(v.description == "second");
        CHECK(v.state == PDK_DOMAIN_SHUTOFF);  // taken again, now while off
        CHECK(v.isCurrent);
    }
    CHECK(replaced);
    // No description (NULL or "") is none.
    pdk_snapshot_spec plain = snapshotSpec("plain", nullptr);
    OK_CALL(vt().snapshot_create_spec(c.get(), "pdk-t-snapinfo", &plain, 0, &err));
    CHECK(snapshotInfos(c, "pdk-t-snapinfo").back().description.empty());

    // Refusals.
    pdk_snapshot_spec unnamed = snapshotSpec(nullptr, "x");
    CHECK(vt().snapshot_create_spec(c.get(), "pdk-t-snapinfo", &unnamed, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    unnamed.name = "";
    CHECK(vt().snapshot_create_spec(c.get(), "pdk-t-snapinfo", &unnamed, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().snapshot_create_spec(c.get(), "pdk-t-snapinfo", nullptr, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().snapshot_create_spec(c.get(), nullptr, &plain, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    pdk_snapshot_spec tiny = snapshotSpec("tiny", nullptr);
    tiny.struct_size = 8;
    CHECK(vt().snapshot_create_spec(c.get(), "pdk-t-snapinfo", &tiny, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    std::vector<SnapshotView> none;
    CHECK(vt().snapshot_list_info(c.get(), "pdk-t-snapinfo", 0, nullptr, &none, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().snapshot_list_info(c.get(), nullptr, 0, &collectSnapshot, &none, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().snapshot_list_info(c.get(), "pdk-t-missing", 0, &collectSnapshot, &none, &err) == PDK_ERR_NOT_FOUND);
    CHECK(none.empty());
    OK_CALL(vt().undefine_domain(c.get(), "pdk-t-snapinfo", 0, &err));
}

TEST_CASE("snapshot_revert leaves the power state the flags ask for (1.4)", "[libvirt_qemu]") {
    Conn c(kUri);
    const char* dom = "pdk-t-revert";
    mustDefine(c, diskless(dom));
    OK_CALL(vt().snapshot_create(c.get(), dom, "off", 0, &err));
    OK_CALL(vt().start_domain(c.get(), dom, 0, &err));
    OK_CALL(vt().snapshot_create(c.get(), dom, "on", 0, &err));

    // No flag: the state the snapshot recorded.
    OK_CALL(vt().snapshot_revert(c.get(), dom, "off", 0, &err));
    CHECK(c.get(dom).state == PDK_DOMAIN_SHUTOFF);
    OK_CALL(vt().snapshot_revert(c.get(), dom, "on", 0, &err));
    CHECK(c.get(dom).state == PDK_DOMAIN_RUNNING);
    // START: running whatever it recorded.
    OK_CALL(vt().snapshot_revert(c.get(), dom, "off", PDK_REVERT_START, &err));
    CHECK(c.get(dom).state == PDK_DOMAIN_RUNNING);
    // STOPPED: off whatever it recorded, from a running domain too.
    OK_CALL(vt().snapshot_revert(c.get(), dom, "on", PDK_REVERT_STOPPED, &err));
    CHECK(c.get(dom).state == PDK_DOMAIN_SHUTOFF);
    OK_CALL(vt().start_domain(c.get(), dom, 0, &err));
    OK_CALL(vt().snapshot_revert(c.get(), dom, "off", PDK_REVERT_STOPPED, &err));
    CHECK(c.get(dom).state == PDK_DOMAIN_SHUTOFF);
    OK_CALL(vt().snapshot_revert(c.get(), dom, "on", PDK_REVERT_STOPPED, &err));
    CHECK(c.get(dom).state == PDK_DOMAIN_SHUTOFF);

    Err err;
    CHECK(vt().snapshot_revert(c.get(), dom, "on", PDK_REVERT_START | PDK_REVERT_STOPPED, &err) ==
          PDK_ERR_INVALID_ARGUMENT);
    CHECK(c.get(dom).state == PDK_DOMAIN_SHUTOFF);  // refused before anything happened
    CHECK(vt().snapshot_revert(c.get(), dom, nullptr, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().snapshot_revert(c.get(), dom, "nope", PDK_REVERT_STOPPED, &err) == PDK_ERR_NOT_FOUND);

    // A managed save image does not survive a revert (it would undo it at the next start).
    OK_CALL(vt().start_domain(c.get(), dom, 0, &err));
    OK_CALL(vt().save_domain(c.get(), dom, 0, &err));
    CHECK(c.get(dom).managedSave);
    OK_CALL(vt().snapshot_revert(c.get(), dom, "off", 0, &err));
    const DomainView reverted = c.get(dom);
    CHECK(reverted.state == PDK_DOMAIN_SHUTOFF);
    CHECK_FALSE(reverted.managedSave);
    OK_CALL(vt().undefine_domain(c.get(), dom, 0, &err));
}

TEST_CASE("backups, checkpoints and restores on the test driver (1.4)", "[libvirt_qemu]") {
    Conn c(kUri);
    const char* dom = "pdk-t-backup";
    pdk_domain_spec s = diskless(dom);
    s.disk_path = "/default-pool/pdk-t-backup.qcow2";
    s.disk_format = "qcow2";
    mustDefine(c, s);
    t::TempDir dir;
    const std::string target = dir.file("full.qcow2");
    Err err;

    // libvirt's test driver has no backup API: the libvirt "unsupported" answer.
    pdk_backup_spec full = backupSpec(target.c_str(), "c1", nullptr, nullptr);
    pdk_backup_result out = backupResult();
    CHECK(vt().backup_create(c.get(), dom, &full, 0, &out, &err) == PDK_ERR_UNSUPPORTED);
    CHECK(out.bytes == 0);
    CHECK_FALSE(std::filesystem::exists(target));
    CHECK(vt().backup_create(c.get(), "pdk-t-missing", &full, 0, &out, &err) == PDK_ERR_NOT_FOUND);
    CHECK(vt().backup_create(c.get(), nullptr, &full, 0, &out, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().backup_create(c.get(), dom, nullptr, 0, &out, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().backup_create(c.get(), dom, &full, 0, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
    pdk_backup_spec noTarget = backupSpec(nullptr, "c1", nullptr, nullptr);
    CHECK(vt().backup_create(c.get(), dom, &noTarget, 0, &out, &err) == PDK_ERR_INVALID_ARGUMENT);
    pdk_backup_spec noCheckpoint = backupSpec(target.c_str(), nullptr, nullptr, nullptr);
    CHECK(vt().backup_create(c.get(), dom, &noCheckpoint, 0, &out, &err) == PDK_ERR_INVALID_ARGUMENT);
    pdk_backup_spec slash = backupSpec(target.c_str(), "a/b", nullptr, nullptr);
    CHECK(vt().backup_create(c.get(), dom, &slash, 0, &out, &err) == PDK_ERR_INVALID_ARGUMENT);

    // Checkpoints the test driver keeps (made through libvirt directly, on the shared state; it
    // makes them only while the domain runs).
    OK_CALL(vt().start_domain(c.get(), dom, 0, &err));
    {
        virConnectPtr raw = virConnectOpen(kUri);
        REQUIRE(raw != nullptr);
        virDomainPtr d = virDomainLookupByName(raw, dom);
        REQUIRE(d != nullptr);
        for (const char* xml : {"<domaincheckpoint><name>c1</name></domaincheckpoint>",
                                "<domaincheckpoint><name>c2</name></domaincheckpoint>"}) {
            virDomainCheckpointPtr cp = virDomainCheckpointCreateXML(d, xml, 0);
            REQUIRE(cp != nullptr);
            virDomainCheckpointFree(cp);
        }
        virDomainFree(d);
        virConnectClose(raw);
    }
    OK_CALL(vt().checkpoint_delete(c.get(), dom, "c2", 0, &err));
    CHECK(c.get(dom).state == PDK_DOMAIN_RUNNING);
    OK_CALL(vt().destroy_domain(c.get(), dom, 0, &err));
    // While off too (started paused for it where the driver deletes only while running).
    OK_CALL(vt().checkpoint_delete(c.get(), dom, "c1", 0, &err));
    CHECK(c.get(dom).state == PDK_DOMAIN_SHUTOFF);
    CHECK(vt().checkpoint_delete(c.get(), dom, "c1", 0, &err) == PDK_ERR_NOT_FOUND);
    CHECK_THAT(err.text(), Catch::Matchers::Contains("c1"));
    CHECK(vt().checkpoint_delete(c.get(), "pdk-t-missing", "c1", 0, &err) == PDK_ERR_NOT_FOUND);
    CHECK(vt().checkpoint_delete(c.get(), dom, nullptr, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().checkpoint_delete(c.get(), nullptr, "c1", 0, &err) == PDK_ERR_INVALID_ARGUMENT);

    // restore_volume: the pool and volume rules of volume_path, then the source must exist.
    char path[512] = "keep";
    pdk_restore_spec r = restoreSpec("no-such-pool", "pdk-t-r.qcow2", target.c_str());
    CHECK(vt().restore_volume(c.get(), &r, 0, path, sizeof path, &err) == PDK_ERR_NOT_FOUND);
    char made[512] = {};
    pdk_volume_spec v = overlaySpec("pdk-t-r.qcow2", "/images/base.qcow2", "qcow2", 1 << 20);
    OK_CALL(vt().create_overlay(c.get(), &v, 0, made, sizeof made, &err));
    r = restoreSpec("default-pool", "pdk-t-r.qcow2", target.c_str());
    CHECK(vt().restore_volume(c.get(), &r, 0, path, sizeof path, &err) == PDK_ERR_ALREADY_EXISTS);
    const std::string missing = dir.file("missing.qcow2");
    r = restoreSpec("default-pool", "pdk-t-r2.qcow2", missing.c_str());
    CHECK(vt().restore_volume(c.get(), &r, 0, path, sizeof path, &err) == PDK_ERR_NOT_FOUND);
    CHECK_THAT(err.text(), Catch::Matchers::Contains("missing.qcow2"));
    r = restoreSpec("default-pool", "../x.qcow2", target.c_str());
    CHECK(vt().restore_volume(c.get(), &r, 0, path, sizeof path, &err) == PDK_ERR_INVALID_ARGUMENT);
    r = restoreSpec("default-pool", "pdk-t-r2.qcow2", nullptr);
    CHECK(vt().restore_volume(c.get(), &r, 0, path, sizeof path, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().restore_volume(c.get(), &r, 0, nullptr, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().restore_volume(c.get(), nullptr, 0, path, sizeof path, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(std::string(path) == "keep");
    OK_CALL(vt().delete_volume(c.get(), made, 0, &err));
    OK_CALL(vt().undefine_domain(c.get(), dom, 0, &err));
}

TEST_CASE("managed save and restore", "[libvirt_qemu]") {
    Conn c(kUri);
    mustDefine(c, diskless("pdk-t-save"));
    Err err;
    CHECK(vt().save_domain(c.get(), "pdk-t-save", 0, &err) == PDK_ERR_CONFLICT);
    OK_CALL(vt().start_domain(c.get(), "pdk-t-save", 0, &err));
    OK_CALL(vt().save_domain(c.get(), "pdk-t-save", 0, &err));
    DomainView saved = c.get("pdk-t-save");
    CHECK(saved.state == PDK_DOMAIN_SHUTOFF);
    CHECK(saved.managedSave);
    bool listed = false;
    for (const DomainView& d : c.list()) {
        if (d.name == "pdk-t-save") listed = d.managedSave;
    }
    CHECK(listed);
    OK_CALL(vt().start_domain(c.get(), "pdk-t-save", 0, &err));
    DomainView restored = c.get("pdk-t-save");
    CHECK(restored.state == PDK_DOMAIN_RUNNING);
    CHECK_FALSE(restored.managedSave);
    OK_CALL(vt().save_domain(c.get(), "pdk-t-save", 0, &err));
    // Undefine drops the saved image too.
    OK_CALL(vt().undefine_domain(c.get(), "pdk-t-save", 0, &err));
}

TEST_CASE("suspend (ABI 1.8) pauses a running domain; start resumes it", "[libvirt_qemu]") {
    Conn c(kUri);
    mustDefine(c, diskless("pdk-t-pause"));
    Err err;
    CHECK(vt().suspend_domain(c.get(), "pdk-t-pause", 0, &err) == PDK_ERR_CONFLICT);
    CHECK(vt().suspend_domain(c.get(), "pdk-t-nope", 0, &err) == PDK_ERR_NOT_FOUND);
    CHECK(vt().suspend_domain(c.get(), "pdk-t-pause", 0x8, &err) == PDK_ERR_BAD_FLAGS);
    OK_CALL(vt().start_domain(c.get(), "pdk-t-pause", 0, &err));
    OK_CALL(vt().suspend_domain(c.get(), "pdk-t-pause", 0, &err));
    CHECK(c.get("pdk-t-pause").state == PDK_DOMAIN_PAUSED);
    OK_CALL(vt().suspend_domain(c.get(), "pdk-t-pause", 0, &err));  // paused already: unchanged
    OK_CALL(vt().start_domain(c.get(), "pdk-t-pause", 0, &err));
    CHECK(c.get("pdk-t-pause").state == PDK_DOMAIN_RUNNING);
    OK_CALL(vt().destroy_domain(c.get(), "pdk-t-pause", 0, &err));
    OK_CALL(vt().undefine_domain(c.get(), "pdk-t-pause", 0, &err));
}

TEST_CASE("unknown flag bits are refused first", "[libvirt_qemu]") {
    Conn c(kUri);
    const uint32_t bad = 0x80000000u;
    pdk_backend_connection* k = c.get();
    Err err;
    std::vector<DomainView> doms;
    std::vector<std::string> names;
    std::map<std::string, std::string> kvs;
    pdk_host_info hi{};
    hi.struct_size = sizeof hi;
    pdk_ssh_target st{};
    st.struct_size = sizeof st;
    pdk_domain_spec s = diskless("pdk-t-flags");
    pdk_volume_spec v = overlaySpec("pdk-t-flags.qcow2", "/b", "qcow2", 1);
    char path[256];
    // Unknown bits win even over a missing domain: nothing is looked up first.
    CHECK(vt().host_info(k, bad, &hi, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().list_domains(k, bad, &collectDomain, &doms, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().get_domain(k, "nope", bad, &collectDomain, &doms, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().define_domain(k, &s, bad, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().start_domain(k, "nope", bad, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().shutdown_domain(k, "nope", bad, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().destroy_domain(k, "nope", bad, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().undefine_domain(k, "nope", bad, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().save_domain(k, "nope", bad, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().get_metadata(k, "nope", bad, &collectKv, &kvs, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().set_metadata(k, "nope", nullptr, 0, bad, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().create_overlay(k, &v, bad, path, sizeof path, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().delete_volume(k, "/nope", bad, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().volume_path(k, "no-such-pool", "nope.qcow2", bad, path, sizeof path, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().snapshot_create(k, "nope", "s", bad, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().snapshot_list(k, "nope", bad, &collectName, &names, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().snapshot_revert(k, "nope", "s", bad, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().snapshot_delete(k, "nope", "s", bad, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().ssh_target(k, "nope", bad, &st, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().subscribe_events(k, nullptr, nullptr, bad, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(std::string(err.message).find("0x80000000") != std::string::npos);
    // ABI 1.4
    std::vector<SnapshotView> snaps;
    pdk_snapshot_spec ss = snapshotSpec("s", "d");
    pdk_backup_spec bs = backupSpec("/nope/b.qcow2", "c1", nullptr, nullptr);
    pdk_backup_result br = backupResult();
    pdk_restore_spec rs = restoreSpec("default-pool", "r.qcow2", "/nope/b.qcow2");
    CHECK(vt().snapshot_list_info(k, "nope", bad, &collectSnapshot, &snaps, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().snapshot_create_spec(k, "nope", &ss, bad, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().snapshot_create_spec(k, "nope", &ss, PDK_REVERT_STOPPED << 1, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().snapshot_revert(k, "nope", "s", PDK_REVERT_STOPPED << 1, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().backup_create(k, "nope", &bs, bad, &br, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().backup_create(k, "nope", &bs, 1, &br, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().checkpoint_delete(k, "nope", "c", bad, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt().restore_volume(k, &rs, bad, path, sizeof path, &err) == PDK_ERR_BAD_FLAGS);
    // ABI 1.5
    CHECK(vt().guest_ping(k, "nope", 1000, bad, &err) == PDK_ERR_BAD_FLAGS);
}

TEST_CASE("guest_ping: the test driver has no guest agent (1.5)", "[libvirt_qemu]") {
    Conn c(kUri);
    mustDefine(c, diskless("pdk-t-agent"));
    Err err;
    // An unknown domain is NOT_FOUND on any driver; a known one here has no agent, running or not.
    CHECK(vt().guest_ping(c.get(), "pdk-t-agent-missing", 1000, 0, &err) == PDK_ERR_NOT_FOUND);
    CHECK(std::string(err.message).find("pdk-t-agent-missing") != std::string::npos);
    CHECK(vt().guest_ping(c.get(), "pdk-t-agent", 1000, 0, &err) == PDK_ERR_UNSUPPORTED);
    INFO(err.text());
    OK_CALL(vt().start_domain(c.get(), "pdk-t-agent", 0, &err));
    const auto start = std::chrono::steady_clock::now();
    CHECK(vt().guest_ping(c.get(), "pdk-t-agent", 0, 0, &err) == PDK_ERR_UNSUPPORTED);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
    CHECK(std::string(err.message).find("pdk-t-agent") != std::string::npos);
    CHECK(vt().guest_ping(c.get(), nullptr, 1000, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    OK_CALL(vt().destroy_domain(c.get(), "pdk-t-agent", 0, &err));
    OK_CALL(vt().undefine_domain(c.get(), "pdk-t-agent", 0, &err));
}

TEST_CASE("host_resources: the test driver's fixed host, free memory its total (1.7)", "[libvirt_qemu]") {
    Conn c(kUri);
    pdk_host_resources r{};
    r.struct_size = sizeof r;
    OK_CALL(vt().host_resources(c.get(), 0, &r, &err));
    CHECK(r.cpus == 16);
    CHECK(r.memory_total_bytes == 3221225472ull);  // the test driver's 3145728 KiB
    CHECK(r.memory_free_bytes == r.memory_total_bytes);
    Err err;
    CHECK(vt().host_resources(c.get(), 0x4, &r, &err) == PDK_ERR_BAD_FLAGS);
}

TEST_CASE("volume_info: a pool's volume, a local file, a missing one (1.7)", "[libvirt_qemu]") {
    Conn c(kUri);
    char path[512] = {};
    pdk_volume_spec v = overlaySpec("pdk-t-vi.qcow2", "/images/base.qcow2", "qcow2", 2ull << 30);
    OK_CALL(vt().create_overlay(c.get(), &v, 0, path, sizeof path, &err));
    pdk_volume_info info{};
    info.struct_size = sizeof info;
    OK_CALL(vt().volume_info(c.get(), path, 0, &info, &err));
    CHECK(info.in_pool == 1);
    CHECK(std::string(info.pool) == "default-pool");
    CHECK(std::string(info.format) == "qcow2");
    CHECK(info.capacity_bytes == (2ull << 30));
    OK_CALL(vt().delete_volume(c.get(), path, 0, &err));

    // A local URI: a file no pool holds is looked at directly.
    const auto file = std::filesystem::temp_directory_path() / "pdk-t-volume-info.raw";
    std::filesystem::remove(file);
    { std::ofstream(file) << std::string(4096, 'x'); }
    info = pdk_volume_info{};
    info.struct_size = sizeof info;
    OK_CALL(vt().volume_info(c.get(), file.c_str(), 0, &info, &err));
    CHECK(info.in_pool == 0);
    CHECK(std::string(info.format) == "raw");
    CHECK(info.capacity_bytes == 4096);
    CHECK(std::string(info.pool).empty());
    std::filesystem::remove(file);

    Err err;
    CHECK(vt().volume_info(c.get(), file.c_str(), 0, &info, &err) == PDK_ERR_NOT_FOUND);
    CHECK(std::string(err.message).find(file.string()) != std::string::npos);
    CHECK(std::string(err.message).find("no storage pool holds it") != std::string::npos);
    CHECK(vt().volume_info(c.get(), "relative.qcow2", 0, &info, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().volume_info(c.get(), "", 0, &info, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().volume_info(c.get(), nullptr, 0, &info, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().volume_info(c.get(), "/x", 0x8, &info, &err) == PDK_ERR_BAD_FLAGS);
}

TEST_CASE("unknown domains answer NOT_FOUND", "[libvirt_qemu]") {
    Conn c(kUri);
    pdk_backend_connection* k = c.get();
    Err err;
    std::vector<std::string> names;
    CHECK(vt().start_domain(k, "pdk-t-missing", 0, &err) == PDK_ERR_NOT_FOUND);
    CHECK(std::string(err.message).find("pdk-t-missing") != std::string::npos);
    CHECK(vt().destroy_domain(k, "pdk-t-missing", 0, &err) == PDK_ERR_NOT_FOUND);
    CHECK(vt().undefine_domain(k, "pdk-t-missing", 0, &err) == PDK_ERR_NOT_FOUND);
    CHECK(vt().snapshot_list(k, "pdk-t-missing", 0, &collectName, &names, &err) == PDK_ERR_NOT_FOUND);
    CHECK(vt().set_metadata(k, "pdk-t-missing", nullptr, 0, 0, &err) == PDK_ERR_NOT_FOUND);
}

namespace {

struct EventLog {
    std::mutex m;
    std::condition_variable cv;
    std::vector<std::pair<std::string, pdk_lifecycle_event>> events;

    static void sink(void* user, const char* name, pdk_lifecycle_event e) {
        auto* log = static_cast<EventLog*>(user);
        std::lock_guard lock(log->m);
        log->events.emplace_back(name != nullptr ? name : "", e);
        log->cv.notify_all();
    }
    bool waitFor(const std::string& name, pdk_lifecycle_event e) {
        std::unique_lock lock(m);
        return cv.wait_for(lock, std::chrono::seconds(5), [&] {
            return std::find(events.begin(), events.end(), std::make_pair(name, e)) != events.end();
        });
    }
};

}  // namespace

TEST_CASE("lifecycle events reach the subscriber", "[libvirt_qemu]") {
    Conn c(kUri);
    EventLog log;
    OK_CALL(vt().subscribe_events(c.get(), &EventLog::sink, &log, 0, &err));
    mustDefine(c, diskless("pdk-t-events"));
    CHECK(log.waitFor("pdk-t-events", PDK_EVENT_DEFINED));
    OK_CALL(vt().start_domain(c.get(), "pdk-t-events", 0, &err));
    CHECK(log.waitFor("pdk-t-events", PDK_EVENT_STARTED));
    OK_CALL(vt().destroy_domain(c.get(), "pdk-t-events", 0, &err));
    CHECK(log.waitFor("pdk-t-events", PDK_EVENT_STOPPED));

    OK_CALL(vt().subscribe_events(c.get(), nullptr, nullptr, 0, &err));
    OK_CALL(vt().undefine_domain(c.get(), "pdk-t-events", 0, &err));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::lock_guard lock(log.m);
    for (const auto& [name, e] : log.events) CHECK(e != PDK_EVENT_UNDEFINED);
}

namespace {

// Threads of this process running the backend's libvirt event loop (named by the plugin).
int eventLoopThreads() {
    int n = 0;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        if (t::readFile((task.path() / "comm").string()) == "pdk-lvq-events\n") ++n;
    }
    return n;
}

struct HostLog {
    std::mutex m;
    std::vector<std::string> lines;
    static void log(void* data, pdk_log_level, const char* message) {
        auto* self = static_cast<HostLog*>(data);
        std::lock_guard lock(self->m);
        self->lines.emplace_back(message);
    }
    bool saw(const std::string& line) {
        std::lock_guard lock(m);
        return std::find(lines.begin(), lines.end(), line) != lines.end();
    }
};

// One connection's life: events must arrive, which needs the loop thread.
void eventsArrive(const char* domain) {
    Conn c(kUri);
    EventLog log;
    OK_CALL(vt().subscribe_events(c.get(), &EventLog::sink, &log, 0, &err));
    mustDefine(c, diskless(domain));
    CHECK(log.waitFor(domain, PDK_EVENT_DEFINED));
    OK_CALL(vt().subscribe_events(c.get(), nullptr, nullptr, 0, &err));
    OK_CALL(vt().undefine_domain(c.get(), domain, 0, &err));
}

}  // namespace

TEST_CASE("deinit stops and joins the event loop; a later init and connection restart it", "[libvirt_qemu]") {
    const pdk_plugin_descriptor& d = descriptor();
    REQUIRE(d.init != nullptr);
    REQUIRE(d.deinit != nullptr);
    HostLog hostLog;
    pdk_host host{};
    host.struct_size = sizeof host;
    host.abi_major = PDK_ABI_VERSION_MAJOR;
    host.abi_minor = PDK_ABI_VERSION_MINOR;
    host.host_data = &hostLog;
    host.log = &HostLog::log;

    for (int round = 0; round < 2; ++round) {
        INFO("round " << round);
        Err err;
        REQUIRE(d.init(&host, 0, &err) == PDK_OK);
        eventsArrive(round == 0 ? "pdk-t-deinit-0" : "pdk-t-deinit-1");
        CHECK(eventLoopThreads() == 1);
        d.deinit(&host);
        CHECK(eventLoopThreads() == 0);
        CHECK(hostLog.saw("libvirt event loop stopped"));
    }

    // Under no host at all (as a 1.0 host uses it) the loop starts with the first connection.
    eventsArrive("pdk-t-deinit-none");
    CHECK(eventLoopThreads() == 1);

    Err err;
    CHECK(d.init(&host, 1u << 3, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(d.init(nullptr, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    d.deinit(&host);  // not attached: ignored, the loop keeps running for the host-less user
    CHECK(eventLoopThreads() == 1);
}
