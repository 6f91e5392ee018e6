// One real VM on qemu:///system (TCG here): define a diskless domain, start it, see it run,
// destroy and undefine it. Run with the "[system]" tag (ctest: libvirt_qemu_system).
#include "plugin_fixture.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>
#include <fstream>

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

    REQUIRE(vt().destroy_domain(c.get(), name.c_str(), 0, &err) == PDK_OK);
    CHECK(c.get(name.c_str()).state == PDK_DOMAIN_SHUTOFF);
    REQUIRE(vt().undefine_domain(c.get(), name.c_str(), 0, &err) == PDK_OK);
    DomainView gone;
    CHECK(c.get(name.c_str(), gone, err) == PDK_ERR_NOT_FOUND);
}
