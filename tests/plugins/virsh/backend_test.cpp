// The virsh backend through its real shared object and the real virsh, against libvirt's test
// driver (test:///default). Note: every virsh run starts a fresh test driver (its state lives in
// the virsh process), so these tests are stateless: each call sees the stock domain "test"
// (running) and pool "default-pool", and what one call defines the next does not see. The
// stateful path is the [system] test on qemu:///system.
#include "plugin_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

using namespace virshtest;

namespace {

constexpr const char* kUri = "test:///default";

}  // namespace

TEST_CASE("the descriptor: id, ABI, capabilities matching the vtable", "[backend]") {
    const pdk_plugin_descriptor& d = descriptor();
    CHECK(std::string(d.id) == "org.paddock.virsh");
    CHECK(d.abi_major == PDK_ABI_VERSION_MAJOR);
    CHECK(d.kind == PDK_PLUGIN_KIND_BACKEND);
    pdktest::checkCapabilitiesMatchVtable(d);
    CHECK(vt().subscribe_events == nullptr);
    CHECK(vt().backup_create == nullptr);
    CHECK(vt().is_alive != nullptr);
    CHECK(vt().guest_ping != nullptr);
}

TEST_CASE("test:///default through virsh: host, listing, one domain", "[backend]") {
    Conn c(kUri);
    CHECK(vt().is_alive(c.get()) == 1);
    pdk_host_info info{};
    info.struct_size = sizeof info;
    OK_CALL(vt().host_info(c.get(), 0, &info, &err));
    CHECK(std::string(info.hypervisor) == "TEST");
    CHECK(std::string(info.auto_domain_type) == "qemu");
    CHECK(std::string(info.hostname).size() > 0);
    CHECK(info.library_version >= 9000000);

    // ABI 1.7: `nodeinfo` and (not on the test driver) `freecell`; a file by `vol-info`, else stat().
    pdk_host_resources resources{};
    resources.struct_size = sizeof resources;
    OK_CALL(vt().host_resources(c.get(), 0, &resources, &err));
    CHECK(resources.cpus == 16);
    CHECK(resources.memory_total_bytes == 3221225472ull);
    CHECK(resources.memory_free_bytes == resources.memory_total_bytes);
    pdk_volume_info volume{};
    volume.struct_size = sizeof volume;
    OK_CALL(vt().volume_info(c.get(), "/proc/self/exe", 0, &volume, &err));
    CHECK(volume.in_pool == 0);
    {
        Err missing;
        CHECK(vt().volume_info(c.get(), "/nonexistent-pdk/base.qcow2", 0, &volume, &missing) == PDK_ERR_NOT_FOUND);
        CHECK(std::string(missing.message).find("no storage pool holds it") != std::string::npos);
        CHECK(vt().volume_info(c.get(), "base.qcow2", 0, &volume, &missing) == PDK_ERR_INVALID_ARGUMENT);
    }

    const auto all = c.list();
    REQUIRE(all.size() == 1);
    CHECK(all[0].name == "test");
    CHECK(all[0].uuid == "6695eb01-f6a4-8304-79aa-97f2502e193f");
    CHECK(all[0].id == 1);
    CHECK(all[0].state == PDK_DOMAIN_RUNNING);
    CHECK(all[0].vcpus == 2);
    CHECK(all[0].maxMemoryKib == 8388608);
    CHECK_FALSE(all[0].managedSave);
    CHECK(c.list(PDK_LIST_WITH_METADATA)[0].metadata.empty());

    const DomainView one = c.get("test");
    CHECK(one.uuid == all[0].uuid);
    CHECK(one.memoryKib == 2097152);
    Err err;
    DomainView none;
    CHECK(c.get("paddock-virsh-test-missing", none, err) == PDK_ERR_NOT_FOUND);
    CHECK(err.text().find("paddock-virsh-test-missing") != std::string::npos);
    // An all-digit name is looked up by name, never as domain id 1 ("test").
    CHECK(c.get("1", none, err) == PDK_ERR_NOT_FOUND);
    CHECK(c.get("6695eb01-f6a4-8304-79aa-97f2502e193f", none, err) == PDK_ERR_NOT_FOUND);
    CHECK(vt().destroy_domain(c.get(), "1", 0, &err) == PDK_ERR_NOT_FOUND);
}

TEST_CASE("test:///default through virsh: lifecycle answers", "[backend]") {
    Conn c(kUri);
    Err err;
    // "test" runs in every fresh test driver.
    CHECK(vt().start_domain(c.get(), "test", 0, &err) == PDK_ERR_CONFLICT);
    CHECK(vt().undefine_domain(c.get(), "test", 0, &err) == PDK_ERR_CONFLICT);
    OK_CALL(vt().destroy_domain(c.get(), "test", 0, &err));
    OK_CALL(vt().shutdown_domain(c.get(), "test", 0, &err));
    // No successful managedsave here: virsh 9.0's job watcher hangs now and then on the test
    // driver (seen here about once in fifteen runs; the deadline would catch it, slowly). The
    // [system] test saves for real.
    CHECK(vt().start_domain(c.get(), "paddock-virsh-test-none", 0, &err) == PDK_ERR_NOT_FOUND);
    CHECK(vt().destroy_domain(c.get(), "paddock-virsh-test-none", 0, &err) == PDK_ERR_NOT_FOUND);
    CHECK(vt().save_domain(c.get(), "paddock-virsh-test-none", 0, &err) == PDK_ERR_NOT_FOUND);
    CHECK(vt().suspend_domain(c.get(), "paddock-virsh-test-none", 0, &err) == PDK_ERR_NOT_FOUND);

    pdk_domain_spec s = diskless("paddock-virsh-test-define");
    pdk_kv md[] = {{"owner", "alice"}};
    s.metadata = md;
    s.metadata_count = 1;
    OK_CALL(vt().define_domain(c.get(), &s, 0, &err));
    pdk_domain_spec taken = diskless("test");
    CHECK(vt().define_domain(c.get(), &taken, 0, &err) == PDK_ERR_ALREADY_EXISTS);
    pdk_domain_spec bad = diskless("paddock-virsh-test-bad");
    bad.domain_type = "xen";
    CHECK(vt().define_domain(c.get(), &bad, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().define_domain(c.get(), &s, 1, &err) == PDK_ERR_BAD_FLAGS);
}

TEST_CASE("test:///default through virsh: metadata, snapshots, volumes, ssh, agent", "[backend]") {
    Conn c(kUri);
    Err err;
    CHECK(c.metadata("test").empty());
    pdk_kv pairs[] = {{"owner", "bob <b>"}, {"ssh_port", "2222"}};
    OK_CALL(vt().set_metadata(c.get(), "test", pairs, 2, PDK_METADATA_LIVE, &err));
    CHECK(vt().set_metadata(c.get(), "paddock-virsh-test-none", pairs, 2, 0, &err) == PDK_ERR_NOT_FOUND);

    std::vector<std::string> names;
    OK_CALL(vt().snapshot_list(c.get(), "test", 0, &collectName, &names, &err));
    CHECK(names.empty());
    OK_CALL(vt().snapshot_create(c.get(), "test", "paddock-virsh-test-snap", 0, &err));
    CHECK(vt().snapshot_revert(c.get(), "test", "nosnap", 0, &err) == PDK_ERR_NOT_FOUND);
    CHECK(vt().snapshot_delete(c.get(), "test", "nosnap", 0, &err) == PDK_ERR_NOT_FOUND);
    CHECK(vt().snapshot_list(c.get(), "paddock-virsh-test-none", 0, &collectName, &names, &err) == PDK_ERR_NOT_FOUND);
    CHECK(vt().snapshot_revert(c.get(), "test", "s", PDK_REVERT_START | PDK_REVERT_STOPPED, &err) ==
          PDK_ERR_INVALID_ARGUMENT);

    char path[4096];
    OK_CALL(vt().volume_path(c.get(), "default-pool", "paddock-virsh-test.qcow2", 0, path, sizeof path, &err));
    CHECK(std::string(path) == "/default-pool/paddock-virsh-test.qcow2");
    CHECK(vt().volume_path(c.get(), "no-such-pool", "v.qcow2", 0, path, sizeof path, &err) == PDK_ERR_NOT_FOUND);
    CHECK(vt().volume_path(c.get(), "default-pool", "../v.qcow2", 0, path, sizeof path, &err) ==
          PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt().delete_volume(c.get(), "/default-pool/none.qcow2", 0, &err) == PDK_ERR_NOT_FOUND);

    // No ssh_port entry (each run is a fresh driver): the network's lease for the domain.
    pdk_ssh_target target{};
    target.struct_size = sizeof target;
    OK_CALL(vt().ssh_target(c.get(), "test", 0, &target, &err));
    CHECK(std::string(target.host) == "192.168.122.3");
    CHECK(target.port == 22);

    CHECK(vt().guest_ping(c.get(), "test", 1000, 0, &err) == PDK_ERR_UNSUPPORTED);
}

TEST_CASE("one connection serves several threads at once", "[backend]") {
    Conn c(kUri);
    std::vector<std::thread> threads;
    std::vector<int> ok(6, 0);
    for (size_t i = 0; i < ok.size(); ++i) {
        threads.emplace_back([&, i] {
            std::vector<DomainView> v;
            Err err;
            ok[i] = vt().get_domain(c.get(), "test", 0, &collectDomain, &v, &err) == PDK_OK && v.size() == 1 &&
                    vt().is_alive(c.get()) == 1;
        });
    }
    for (auto& t : threads) t.join();
    CHECK(std::count(ok.begin(), ok.end(), 1) == static_cast<long>(ok.size()));
}

TEST_CASE("an unreachable URI answers UNAVAILABLE at open", "[backend]") {
    pdk_backend_connection* c = nullptr;
    Err err;
    CHECK(vt().open("xen:///system", 0, &c, &err) == PDK_ERR_UNAVAILABLE);
    CHECK(err.text().find("no connection driver available") != std::string::npos);
    // virsh does the ssh for a remote login; nothing listens on loopback port 1.
    Err sshErr;
    CHECK(vt().open("qemu+ssh://nobody@127.0.0.1:1/system", 0, &c, &sshErr) == PDK_ERR_UNAVAILABLE);
    CHECK(sshErr.text().find("127.0.0.1") != std::string::npos);
}
