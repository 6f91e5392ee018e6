// The virsh backend against the real qemu:///system (TCG here) and its storage pool `paddock`:
// a tiny qcow2 base made with qemu-img, an overlay, a domain on it (it sits in its firmware),
// start, snapshot, revert, managed save, destroy, undefine with its storage. The libvirt-qemu
// backend reads the domain and its metadata on the way. Run with the "[system]" tag (ctest:
// virsh_system); everything is removed however the test ends.
#include "plugin_fixture.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>

using namespace virshtest;
namespace t = paddock::test;

namespace {

constexpr const char* kUri = "qemu:///system";
constexpr const char* kPool = "paddock";

// Removes the domain and the overlay however the test ends.
struct Cleanup {
    Conn& c;
    std::string name;
    std::string volume;
    ~Cleanup() {
        Err err;
        c.vt().destroy_domain(c.get(), name.c_str(), 0, &err);
        c.vt().undefine_domain(c.get(), name.c_str(), 0, &err);
        if (!volume.empty()) c.vt().delete_volume(c.get(), volume.c_str(), 0, &err);
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

struct SnapshotView {
    std::string name;
    bool hasMemory = false, isCurrent = false;
    int state = 0;
};

void collectSnapshot(void* user, const pdk_snapshot_info* i) {
    static_cast<std::vector<SnapshotView>*>(user)->push_back({i->name, i->has_memory != 0, i->is_current != 0, i->state});
}

}  // namespace

TEST_CASE("qemu:///system through virsh: overlay, define, start, snapshot, revert, save, undefine", "[system]") {
    t::requireLibvirt(kUri);
    const auto started = std::chrono::steady_clock::now();
    Conn c(kUri);
    pdk_host_info info{};
    info.struct_size = sizeof info;
    OK_CALL(vt().host_info(c.get(), 0, &info, &err));
    CHECK(std::string(info.hypervisor) == "QEMU");
    CHECK(std::string(info.auto_domain_type) == (cpuHasVirtualization() ? "kvm" : "qemu"));
    CHECK(info.hypervisor_version >= 7000000);

    // A 16 MiB blank qcow2 base the qemu user can read.
    t::TempDir dir;
    ::chmod(dir.path().c_str(), 0755);
    const std::string base = dir.file("base.qcow2");
    REQUIRE(std::system(("qemu-img create -q -f qcow2 '" + base + "' 16M").c_str()) == 0);
    ::chmod(base.c_str(), 0644);

    const std::string name = "paddock-virsh-test-" + std::to_string(::getpid());
    const std::string volName = name + ".qcow2";
    Cleanup cleanup{c, name, {}};

    char planned[4096];
    OK_CALL(vt().volume_path(c.get(), kPool, volName.c_str(), 0, planned, sizeof planned, &err));
    pdk_volume_spec vs{};
    vs.struct_size = sizeof vs;
    vs.pool = kPool;
    vs.name = volName.c_str();
    vs.backing_path = base.c_str();
    vs.backing_format = "qcow2";
    vs.capacity_bytes = 0;  // the base's size
    char path[4096];
    OK_CALL(vt().create_overlay(c.get(), &vs, 0, path, sizeof path, &err));
    cleanup.volume = path;
    CHECK(std::string(path) == planned);
    Err err;
    CHECK(vt().create_overlay(c.get(), &vs, 0, path, sizeof path, &err) == PDK_ERR_ALREADY_EXISTS);
    CHECK(vt().volume_path(c.get(), kPool, volName.c_str(), 0, planned, sizeof planned, &err) ==
          PDK_ERR_ALREADY_EXISTS);
    const std::string imgInfo = t::commandOutput("qemu-img info -U '" + std::string(path) + "'");
    CHECK(imgInfo.find("16 MiB") != std::string::npos);
    CHECK(imgInfo.find("compat: 1.1") != std::string::npos);

    const uint16_t port = t::freeLoopbackPort();
    pdk_domain_spec s = diskless(name.c_str());
    s.memory_mib = 96;
    s.disk_path = path;
    s.disk_format = "qcow2";
    s.network_mode = PDK_NETWORK_USER;
    s.ssh_forward_port = port;
    pdk_kv md[] = {{"owner", "alice & bob"}};
    s.metadata = md;
    s.metadata_count = 1;
    OK_CALL(vt().define_domain(c.get(), &s, 0, &err));
    CHECK(vt().define_domain(c.get(), &s, 0, &err) == PDK_ERR_ALREADY_EXISTS);
    DomainView v = c.get(name.c_str());
    CHECK(v.state == PDK_DOMAIN_SHUTOFF);
    CHECK(v.id == -1);
    CHECK(v.maxMemoryKib == 96 * 1024);
    CHECK(v.metadata["owner"] == "alice & bob");
    CHECK(v.metadata["ssh_port"] == std::to_string(port));

    // The libvirt-qemu backend reads what this one wrote, and the other way round.
    {
        Conn lvq(kUri, "paddock_libvirt_qemu.so");
        CHECK(lvq.metadata(name.c_str()) == v.metadata);
        const std::string portText = std::to_string(port);
        pdk_kv more[] = {{"owner", "carol"}, {"ssh_port", portText.c_str()}, {"lease", "42"}};
        OK_CALL(lvq.vt().set_metadata(lvq.get(), name.c_str(), more, 3, 0, &err));
        CHECK(c.metadata(name.c_str()) == lvq.metadata(name.c_str()));
        CHECK(c.metadata(name.c_str())["lease"] == "42");
        CHECK(c.metadata(name.c_str())["ssh_port"] == portText);
    }

    OK_CALL(vt().start_domain(c.get(), name.c_str(), 0, &err));
    CHECK(vt().start_domain(c.get(), name.c_str(), 0, &err) == PDK_ERR_CONFLICT);
    CHECK(vt().undefine_domain(c.get(), name.c_str(), 0, &err) == PDK_ERR_CONFLICT);
    v = c.get(name.c_str());
    CHECK(v.state == PDK_DOMAIN_RUNNING);
    CHECK(v.id > 0);
    bool listed = false;
    for (const DomainView& d : c.list(PDK_LIST_WITH_METADATA)) {
        if (d.name != name) continue;
        listed = true;
        CHECK(d.state == PDK_DOMAIN_RUNNING);
        CHECK(d.uuid == v.uuid);
        CHECK(d.vcpus == 1);
        CHECK(d.maxMemoryKib == 96 * 1024);
        CHECK(d.metadata.at("owner") == "carol");
    }
    CHECK(listed);

    pdk_ssh_target target{};
    target.struct_size = sizeof target;
    OK_CALL(vt().ssh_target(c.get(), name.c_str(), 0, &target, &err));
    CHECK(std::string(target.host) == "127.0.0.1");
    CHECK(target.port == port);
    // The domain has the agent's channel but no guest behind it.
    CHECK(vt().guest_ping(c.get(), name.c_str(), 1000, 0, &err) == PDK_ERR_UNAVAILABLE);

    // Memory + disk while running.
    OK_CALL(vt().snapshot_create(c.get(), name.c_str(), "ready", 0, &err));
    CHECK(vt().snapshot_create(c.get(), name.c_str(), "ready", 0, &err) == PDK_ERR_ALREADY_EXISTS);
    pdk_snapshot_spec spec{};
    spec.struct_size = sizeof spec;
    spec.name = "second one";
    spec.description = "with <markup> & spaces";
    OK_CALL(vt().snapshot_create_spec(c.get(), name.c_str(), &spec, 0, &err));
    OK_CALL(vt().snapshot_create(c.get(), name.c_str(), "ready", PDK_SNAPSHOT_REPLACE, &err));
    std::vector<std::string> snaps;
    OK_CALL(vt().snapshot_list(c.get(), name.c_str(), 0, &collectName, &snaps, &err));
    std::sort(snaps.begin(), snaps.end());
    CHECK(snaps == std::vector<std::string>{"ready", "second one"});
    std::vector<SnapshotView> infos;
    OK_CALL(vt().snapshot_list_info(c.get(), name.c_str(), 0, &collectSnapshot, &infos, &err));
    REQUIRE(infos.size() == 2);
    for (const SnapshotView& i : infos) {
        CHECK(i.hasMemory);
        CHECK(i.state == PDK_DOMAIN_RUNNING);
        CHECK(i.isCurrent == (i.name == "ready"));
    }

    // Off, then back to the running snapshot, running.
    OK_CALL(vt().destroy_domain(c.get(), name.c_str(), 0, &err));
    CHECK(vt().destroy_domain(c.get(), name.c_str(), 0, &err) == PDK_ERR_CONFLICT);
    CHECK(vt().shutdown_domain(c.get(), name.c_str(), 0, &err) == PDK_ERR_CONFLICT);
    CHECK(vt().save_domain(c.get(), name.c_str(), 0, &err) == PDK_ERR_CONFLICT);
    OK_CALL(vt().snapshot_revert(c.get(), name.c_str(), "ready", PDK_REVERT_START, &err));
    CHECK(c.get(name.c_str()).state == PDK_DOMAIN_RUNNING);
    CHECK(vt().snapshot_revert(c.get(), name.c_str(), "none", 0, &err) == PDK_ERR_NOT_FOUND);

    // Managed save, seen in the listing, restored by a plain start.
    OK_CALL(vt().save_domain(c.get(), name.c_str(), 0, &err));
    v = c.get(name.c_str());
    CHECK(v.state == PDK_DOMAIN_SHUTOFF);
    CHECK(v.managedSave);
    for (const DomainView& d : c.list())
        if (d.name == name) CHECK(d.managedSave);
    OK_CALL(vt().start_domain(c.get(), name.c_str(), 0, &err));
    v = c.get(name.c_str());
    CHECK(v.state == PDK_DOMAIN_RUNNING);
    CHECK_FALSE(v.managedSave);

    // Revert leaving it off.
    OK_CALL(vt().snapshot_revert(c.get(), name.c_str(), "second one", PDK_REVERT_STOPPED, &err));
    CHECK(c.get(name.c_str()).state == PDK_DOMAIN_SHUTOFF);

    OK_CALL(vt().snapshot_delete(c.get(), name.c_str(), "second one", 0, &err));
    CHECK(vt().snapshot_delete(c.get(), name.c_str(), "second one", 0, &err) == PDK_ERR_NOT_FOUND);
    // Undefine takes the remaining snapshot's metadata and the overlay with it.
    OK_CALL(vt().undefine_domain(c.get(), name.c_str(), PDK_UNDEFINE_REMOVE_STORAGE, &err));
    DomainView gone;
    CHECK(c.get(name.c_str(), gone, err) == PDK_ERR_NOT_FOUND);
    CHECK(vt().delete_volume(c.get(), path, 0, &err) == PDK_ERR_NOT_FOUND);
    CHECK_FALSE(std::ifstream(path).good());
    cleanup.volume.clear();
    WARN("qemu:///system scenario took "
         << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() << " s");
}
