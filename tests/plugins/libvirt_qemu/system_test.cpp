// Real VMs on qemu:///system (TCG here): a diskless domain started and stopped; a domain with
// a blank qcow2 overlay (it sits in its firmware) backed up, snapshotted, reverted and restored.
// Run with the "[system]" tag (ctest: libvirt_qemu_system).
#include "plugin_fixture.hpp"

#include <libvirt/libvirt.h>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

using namespace lvqtest;

namespace {

constexpr const char* kUri = "qemu:///system";

// Removes the domain however the test ends.
struct Cleanup {
    Conn& c;
    std::string name;
    ~Cleanup() {
        Err err;
        vt().destroy_domain(c.get(), name.c_str(), 0, &err);
        vt().undefine_domain(c.get(), name.c_str(), 0, &err);
    }
};

bool cpuHasVirtualization() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("flags", 0) == 0)
            return line.find(" vmx") != std::string::npos || line.find(" svm") != std::string::npos;
    }
    return false;
}

}  // namespace

TEST_CASE("a diskless domain runs on qemu:///system", "[system]") {
    paddock::test::requireLibvirt(kUri);
    Conn c(kUri);
    pdk_host_info info{};
    info.struct_size = sizeof info;
    Err err;
    REQUIRE(vt().host_info(c.get(), 0, &info, &err) == PDK_OK);
    CHECK(std::string(info.hypervisor) == "QEMU");
    CHECK(std::string(info.auto_domain_type) == (cpuHasVirtualization() ? "kvm" : "qemu"));

    const std::string name = "pdk-test-" + std::to_string(::getpid()) + "-sys";
    Cleanup cleanup{c, name};
    pdk_domain_spec s = diskless(name.c_str());
    s.network_mode = PDK_NETWORK_USER;
    s.ssh_forward_port = paddock::test::freeLoopbackPort();
    s.ssh_forward_address = "127.0.0.2";  // ABI 1.7: another loopback address than the default
    {
        const pdk_status defined = vt().define_domain(c.get(), &s, 0, &err);
        INFO(err.text());  // after the call: the error it wrote
        REQUIRE(defined == PDK_OK);
        const pdk_status started = vt().start_domain(c.get(), name.c_str(), 0, &err);
        INFO(err.text());
        REQUIRE(started == PDK_OK);
    }
    const DomainView running = c.get(name.c_str());
    CHECK(running.state == PDK_DOMAIN_RUNNING);
    CHECK(running.id > 0);
    CHECK(running.maxMemoryKib == 128 * 1024);

    bool listed = false;
    for (const DomainView& d : c.list()) {
        if (d.name != name) continue;
        listed = true;
        CHECK(d.state == PDK_DOMAIN_RUNNING);
        CHECK(d.vcpus == 1);
        CHECK(d.maxMemoryKib == 128 * 1024);
    }
    CHECK(listed);
    CHECK(vt().start_domain(c.get(), name.c_str(), 0, &err) == PDK_ERR_CONFLICT);

    // The forward listens where the spec said (QEMU accepts on the host side at once).
    {
        virConnectPtr raw = virConnectOpen(kUri);
        REQUIRE(raw != nullptr);
        virDomainPtr dom = virDomainLookupByName(raw, name.c_str());
        REQUIRE(dom != nullptr);
        char* xml = virDomainGetXMLDesc(dom, 0);
        REQUIRE(xml != nullptr);
        CHECK_THAT(std::string(xml), Catch::Matchers::Contains("hostfwd=tcp:127.0.0.2:" +
                                                               std::to_string(s.ssh_forward_port) + "-:22"));
        std::free(xml);
        virDomainFree(dom);
        virConnectClose(raw);
        // A TCP connect to 127.0.0.2:port is accepted by QEMU's slirp listener.
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd >= 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(s.ssh_forward_port);
        ::inet_pton(AF_INET, "127.0.0.2", &to.sin_addr);
        CHECK(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
        ::close(fd);
    }
    // The host's resources: this machine's CPUs, its memory, some of it free.
    pdk_host_resources resources{};
    resources.struct_size = sizeof resources;
    REQUIRE(vt().host_resources(c.get(), 0, &resources, &err) == PDK_OK);
    CHECK(resources.cpus == static_cast<uint32_t>(::sysconf(_SC_NPROCESSORS_ONLN)));
    CHECK(resources.memory_free_bytes > 0);
    CHECK(resources.memory_free_bytes <= resources.memory_total_bytes);

    // The domain has the agent's channel but no guest behind it (it sits in its firmware):
    // libvirt knows the agent is not connected and answers at once, without the timeout.
    const auto pinged = std::chrono::steady_clock::now();
    CHECK(vt().guest_ping(c.get(), name.c_str(), 3000, 0, &err) == PDK_ERR_UNAVAILABLE);
    CHECK(std::chrono::steady_clock::now() - pinged < std::chrono::seconds(2));
    CHECK(std::string(err.message).find(name) != std::string::npos);

    REQUIRE(vt().destroy_domain(c.get(), name.c_str(), 0, &err) == PDK_OK);
    CHECK(c.get(name.c_str()).state == PDK_DOMAIN_SHUTOFF);
    CHECK(vt().guest_ping(c.get(), name.c_str(), 1000, 0, &err) == PDK_ERR_CONFLICT);
    CHECK(std::string(err.message).find("not running") != std::string::npos);
    REQUIRE(vt().undefine_domain(c.get(), name.c_str(), 0, &err) == PDK_OK);
    DomainView gone;
    CHECK(c.get(name.c_str(), gone, err) == PDK_ERR_NOT_FOUND);
}

namespace {

namespace t = paddock::test;

double secondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// `command` run by the shell; its exit status, its output in `out`.
int shell(const std::string& command, std::string* out = nullptr) {
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    REQUIRE(p != nullptr);
    std::string text;
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
    const int status = ::pclose(p);
    if (out != nullptr) *out = text;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string imageInfo(const std::string& path) {
    std::string out;
    INFO(path);
    REQUIRE(shell("qemu-img info --output=json -U '" + path + "'", &out) == 0);
    return out;
}

mode_t modeOf(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

off_t sizeOf(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_size;
}

bool fileExists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

// A transient dir pool for the test, destroyed with the domain however the test ends.
struct Scratch {
    Conn& c;
    std::string domain;
    std::string pool;
    virConnectPtr raw = virConnectOpen(kUri);
    ~Scratch() {
        Err err;
        vt().destroy_domain(c.get(), domain.c_str(), 0, &err);
        vt().undefine_domain(c.get(), domain.c_str(), 0, &err);
        if (raw == nullptr) return;
        if (virStoragePoolPtr p = virStoragePoolLookupByName(raw, pool.c_str())) {
            virStoragePoolDestroy(p);
            virStoragePoolFree(p);
        }
        virConnectClose(raw);
    }
    int checkpointCount() {
        virDomainPtr d = virDomainLookupByName(raw, domain.c_str());
        REQUIRE(d != nullptr);
        const int n = virDomainListAllCheckpoints(d, nullptr, 0);
        virDomainFree(d);
        return n;
    }
};

pdk_backup_spec backupSpec(const std::string& target, const char* checkpoint, const char* from, const char* backing) {
    pdk_backup_spec s{};
    s.struct_size = sizeof s;
    s.target_path = target.c_str();
    s.checkpoint = checkpoint;
    s.incremental_from = from;
    s.backing_name = backing;
    return s;
}

pdk_status backup(Conn& c, const std::string& domain, const pdk_backup_spec& spec, pdk_backup_result& out, Err& err) {
    out = pdk_backup_result{};
    out.struct_size = sizeof out;
    return vt().backup_create(c.get(), domain.c_str(), &spec, 0, &out, &err);
}

}  // namespace

TEST_CASE("backups, checkpoints, snapshots and restores of a qcow2 domain on qemu:///system", "[system]") {
    paddock::test::requireLibvirt(kUri);
    Conn c(kUri);
    t::TempDir root;
    const std::string tag = "pdk-test-" + std::to_string(::getpid()) + "-bk";
    Scratch scratch{c, tag, tag + "-pool"};
    REQUIRE(scratch.raw != nullptr);
    const std::string poolDir = root.file("pool");
    const std::string backups = root.file("backups");  // closed to QEMU's user, as paddockd's is
    REQUIRE(::mkdir(poolDir.c_str(), 0755) == 0);
    REQUIRE(::mkdir(backups.c_str(), 0700) == 0);
    REQUIRE(::chmod(root.path().c_str(), 0755) == 0);

    // A base with data and an overlay with more: what the full backup must carry.
    const std::string base = root.file("base.qcow2");
    REQUIRE(shell("qemu-img create -q -f qcow2 -o compat=1.1 '" + base + "' 64M") == 0);
    REQUIRE(shell("qemu-io -f qcow2 -c 'write -P 0x5a 0 4M' '" + base + "' >/dev/null") == 0);
    const std::string poolXml =
        "<pool type='dir'><name>" + scratch.pool + "</name><target><path>" + poolDir + "</path></target></pool>";
    virStoragePoolPtr pool = virStoragePoolCreateXML(scratch.raw, poolXml.c_str(), 0);
    REQUIRE(pool != nullptr);
    virStoragePoolFree(pool);
    pdk_volume_spec vol{};
    vol.struct_size = sizeof vol;
    vol.pool = scratch.pool.c_str();
    vol.name = "disk.qcow2";
    vol.backing_path = base.c_str();
    vol.backing_format = "qcow2";
    char disk[512] = {};
    OK_CALL(vt().create_overlay(c.get(), &vol, 0, disk, sizeof disk, &err));
    // ABI 1.7: the pool's volume is known with its pool, format and size; a missing file is not.
    {
        pdk_volume_info info{};
        info.struct_size = sizeof info;
        OK_CALL(vt().volume_info(c.get(), disk, 0, &info, &err));
        CHECK(info.in_pool == 1);
        CHECK(std::string(info.pool) == scratch.pool);
        CHECK(std::string(info.format) == "qcow2");
        CHECK(info.capacity_bytes == 64ull << 20);
        Err missing;
        CHECK(vt().volume_info(c.get(), root.file("missing.qcow2").c_str(), 0, &info, &missing) == PDK_ERR_NOT_FOUND);
        CHECK_THAT(std::string(missing.message), Catch::Matchers::Contains("no storage pool holds it"));
    }
    REQUIRE(shell("qemu-io -f qcow2 -c 'write -P 0xa5 8M 4M' '" + std::string(disk) + "' >/dev/null") == 0);

    pdk_domain_spec spec = diskless(tag.c_str());
    spec.disk_path = disk;
    spec.disk_format = "qcow2";
    OK_CALL(vt().define_domain(c.get(), &spec, 0, &err));
    OK_CALL(vt().start_domain(c.get(), tag.c_str(), 0, &err));

    std::ostringstream timings;
    // Full, live.
    const std::string full = backups + "/0001.qcow2";
    pdk_backup_result out{};
    auto started = std::chrono::steady_clock::now();
    OK_CALL(backup(c, tag, backupSpec(full, "c1", nullptr, nullptr), out, err));
    timings << "full backup (live) " << secondsSince(started) << " s, " << out.bytes << " bytes\n";
    CHECK(out.offline == 0);
    CHECK(out.bytes == static_cast<uint64_t>(sizeOf(full)));
    CHECK(modeOf(full) == 0600);
    const std::string fullInfo = imageInfo(full);
    CHECK_THAT(fullInfo, Catch::Matchers::Contains("\"format\": \"qcow2\""));
    CHECK_THAT(fullInfo, !Catch::Matchers::Contains("backing-filename"));
    CHECK_FALSE(fileExists(poolDir + "/." + tag + ".backup-c1.qcow2"));  // the staging file moved
    CHECK(shell("qemu-img compare -U -f qcow2 -F qcow2 '" + full + "' '" + std::string(disk) + "'") == 0);
    CHECK(c.get(tag.c_str()).state == PDK_DOMAIN_RUNNING);

    // Incremental, named after the previous file.
    const std::string incr = backups + "/0002.qcow2";
    started = std::chrono::steady_clock::now();
    OK_CALL(backup(c, tag, backupSpec(incr, "c2", "c1", "0001.qcow2"), out, err));
    timings << "incremental backup (no change) " << secondsSince(started) << " s, " << out.bytes << " bytes\n";
    CHECK(out.bytes < static_cast<uint64_t>(sizeOf(full)));
    CHECK(modeOf(incr) == 0600);
    const std::string incrInfo = imageInfo(incr);
    CHECK_THAT(incrInfo, Catch::Matchers::Contains("\"backing-filename\": \"0001.qcow2\""));
    CHECK(shell("qemu-img compare -U -f qcow2 -F qcow2 '" + incr + "' '" + std::string(disk) + "'") == 0);

    Err err;
    // From a checkpoint the domain does not have: NOT_FOUND, and nothing left behind.
    CHECK(backup(c, tag, backupSpec(backups + "/0003.qcow2", "c3", "nope", "0002.qcow2"), out, err) ==
          PDK_ERR_NOT_FOUND);
    CHECK_THAT(err.text(), Catch::Matchers::Contains("nope"));
    CHECK_FALSE(fileExists(backups + "/0003.qcow2"));
    CHECK(scratch.checkpointCount() == 2);
    // An existing target or checkpoint is refused before anything runs.
    CHECK(backup(c, tag, backupSpec(full, "c3", "c2", nullptr), out, err) == PDK_ERR_ALREADY_EXISTS);
    CHECK(backup(c, tag, backupSpec(backups + "/0003.qcow2", "c2", "c2", nullptr), out, err) == PDK_ERR_ALREADY_EXISTS);
    CHECK(backup(c, tag, backupSpec(root.file("no/such/dir.qcow2"), "c3", nullptr, nullptr), out, err) ==
          PDK_ERR_INVALID_ARGUMENT);

    // checkpoint_delete: the parent goes (its changes merge into c2), then it is not found.
    OK_CALL(vt().checkpoint_delete(c.get(), tag.c_str(), "c1", 0, &err));
    CHECK(vt().checkpoint_delete(c.get(), tag.c_str(), "c1", 0, &err) == PDK_ERR_NOT_FOUND);
    CHECK(scratch.checkpointCount() == 1);

    // An internal snapshot (memory + disk) and a revert to it while checkpoint c2 exists: the
    // checkpoints go first, so QEMU can load it.
    started = std::chrono::steady_clock::now();
    OK_CALL(vt().snapshot_create(c.get(), tag.c_str(), "s1", 0, &err));
    timings << "internal snapshot (running) " << secondsSince(started) << " s\n";
    started = std::chrono::steady_clock::now();
    OK_CALL(vt().snapshot_revert(c.get(), tag.c_str(), "s1", 0, &err));
    timings << "revert (running, one checkpoint dropped) " << secondsSince(started) << " s\n";
    CHECK(c.get(tag.c_str()).state == PDK_DOMAIN_RUNNING);
    CHECK(scratch.checkpointCount() == 0);
    CHECK(backup(c, tag, backupSpec(backups + "/0003.qcow2", "c3", "c2", "0002.qcow2"), out, err) == PDK_ERR_NOT_FOUND);
    OK_CALL(vt().snapshot_revert(c.get(), tag.c_str(), "s1", PDK_REVERT_STOPPED, &err));
    CHECK(c.get(tag.c_str()).state == PDK_DOMAIN_SHUTOFF);

    // Off: started paused for the job, off again after.
    const std::string offline = backups + "/0003.qcow2";
    started = std::chrono::steady_clock::now();
    OK_CALL(backup(c, tag, backupSpec(offline, "c3", nullptr, nullptr), out, err));
    timings << "full backup (offline) " << secondsSince(started) << " s, " << out.bytes << " bytes\n";
    CHECK(out.offline == 1);
    CHECK(c.get(tag.c_str()).state == PDK_DOMAIN_SHUTOFF);
    CHECK(modeOf(offline) == 0600);
    CHECK(shell("qemu-img compare -f qcow2 -F qcow2 '" + offline + "' '" + std::string(disk) + "'") == 0);

    // An internal snapshot of the domain while off, with a checkpoint: it goes (libvirt takes
    // no internal snapshot of an inactive domain with checkpoints).
    CHECK(scratch.checkpointCount() == 1);
    OK_CALL(vt().snapshot_create(c.get(), tag.c_str(), "off1", 0, &err));
    CHECK(scratch.checkpointCount() == 0);
    CHECK(c.get(tag.c_str()).state == PDK_DOMAIN_SHUTOFF);

    // A managed save survives an offline backup and an offline checkpoint deletion.
    OK_CALL(vt().start_domain(c.get(), tag.c_str(), 0, &err));
    OK_CALL(vt().save_domain(c.get(), tag.c_str(), 0, &err));
    const std::string saved = backups + "/0004.qcow2";
    started = std::chrono::steady_clock::now();
    OK_CALL(backup(c, tag, backupSpec(saved, "c4", nullptr, nullptr), out, err));
    timings << "full backup (managed save) " << secondsSince(started) << " s\n";
    CHECK(out.offline == 1);
    DomainView after = c.get(tag.c_str());
    CHECK(after.state == PDK_DOMAIN_SHUTOFF);
    CHECK(after.managedSave);
    started = std::chrono::steady_clock::now();
    OK_CALL(vt().checkpoint_delete(c.get(), tag.c_str(), "c4", 0, &err));
    timings << "checkpoint delete (managed save) " << secondsSince(started) << " s\n";
    after = c.get(tag.c_str());
    CHECK(after.state == PDK_DOMAIN_SHUTOFF);
    CHECK(after.managedSave);
    CHECK(scratch.checkpointCount() == 0);
    OK_CALL(vt().start_domain(c.get(), tag.c_str(), 0, &err));
    CHECK(c.get(tag.c_str()).state == PDK_DOMAIN_RUNNING);  // restored running, as saved
    OK_CALL(vt().destroy_domain(c.get(), tag.c_str(), 0, &err));
    // And a checkpoint of a domain that is simply off.
    OK_CALL(backup(c, tag, backupSpec(backups + "/0005.qcow2", "c5", nullptr, nullptr), out, err));
    started = std::chrono::steady_clock::now();
    OK_CALL(vt().checkpoint_delete(c.get(), tag.c_str(), "c5", 0, &err));
    timings << "checkpoint delete (offline) " << secondsSince(started) << " s\n";
    CHECK(c.get(tag.c_str()).state == PDK_DOMAIN_SHUTOFF);
    CHECK(scratch.checkpointCount() == 0);

    // Restore the chain 0001 <- 0002 into a new self-contained volume.
    pdk_restore_spec restore{};
    restore.struct_size = sizeof restore;
    restore.pool = scratch.pool.c_str();
    restore.name = "restored.qcow2";
    restore.source_path = incr.c_str();
    char restored[512] = {};
    started = std::chrono::steady_clock::now();
    OK_CALL(vt().restore_volume(c.get(), &restore, 0, restored, sizeof restored, &err));
    timings << "restore (2-file chain) " << secondsSince(started) << " s\n";
    CHECK(std::string(restored) == poolDir + "/restored.qcow2");
    CHECK(modeOf(restored) == 0600);
    const std::string restoredInfo = imageInfo(restored);
    CHECK_THAT(restoredInfo, !Catch::Matchers::Contains("backing-filename"));
    CHECK_THAT(restoredInfo, Catch::Matchers::Contains("\"compat\": \"1.1\""));
    std::string compared;
    CHECK(shell("qemu-img compare -f qcow2 -F qcow2 '" + incr + "' '" + restored + "'", &compared) == 0);
    CHECK_THAT(compared, Catch::Matchers::Contains("Images are identical"));
    virStorageVolPtr known = virStorageVolLookupByPath(scratch.raw, restored);
    CHECK(known != nullptr);  // the pool was refreshed
    if (known != nullptr) virStorageVolFree(known);
    CHECK(vt().restore_volume(c.get(), &restore, 0, restored, sizeof restored, &err) == PDK_ERR_ALREADY_EXISTS);

    std::cout << timings.str();
}
