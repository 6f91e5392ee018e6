// planDomain is pure: every rule of turning a request + template + site facts into a plan is
// checked here case by case, without a hypervisor.
#include "paddock/core/domain_plan.hpp"

#include "paddock/core/limits.hpp"
#include "paddock/core/ssh_identity.hpp"
#include "paddock/core/vm_metadata.hpp"
#include "result_checks.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace paddock;

namespace {

const SystemTime kNow = std::chrono::system_clock::from_time_t(1714564800);  // 2024-05-01T12:00:00Z

SiteFacts userSite() {
    SiteFacts f;
    f.site = "lab";
    f.domain_type = DomainType::Qemu;
    f.network_mode = NetworkMode::User;
    f.network_name = "default";
    f.storage_pool = "paddock";
    f.default_vcpus = 1;
    f.default_memory_mb = 512;
    f.public_key = "ssh-ed25519 AAAAC3Nza paddock@host";
    return f;
}

TemplateConfig kernelTemplate() {
    TemplateConfig t;
    t.name = "debian";
    t.base_image = "/images/debian.qcow2";
    t.base_format = "qcow2";
    t.kernel = "/images/vmlinux";
    t.initrd = "/images/initrd";
    t.cmdline = "console=ttyS0";
    t.vcpus = 2;
    t.memory_mb = 1024;
    return t;
}

CreateVmRequest named(const std::string& name) {
    CreateVmRequest r;
    r.name = name;
    return r;
}

}  // namespace

TEST_CASE("plan: sizes come from the request, else the template, else the site", "[domain_plan]") {
    struct Case {
        const char* what;
        std::optional<uint32_t> vcpus;
        std::optional<uint64_t> memory;
        bool withTemplate;
        uint32_t templateVcpus;
        uint64_t templateMemory;
        uint32_t wantVcpus;
        uint64_t wantMemory;
    };
    const std::vector<Case> cases = {
        {"request wins", 4, 2048, true, 2, 1024, 4, 2048},
        {"template when the request says nothing", std::nullopt, std::nullopt, true, 2, 1024, 2, 1024},
        {"template 0 means the site's default", std::nullopt, std::nullopt, true, 0, 0, 1, 512},
        {"no template: the site's default", std::nullopt, std::nullopt, false, 0, 0, 1, 512},
        {"mixed", 3, std::nullopt, true, 2, 1024, 3, 1024},
        {"the limits themselves", limits::kMaxVcpus, limits::kMinMemoryMb, false, 0, 0, limits::kMaxVcpus,
         limits::kMinMemoryMb},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        auto request = named("vm-1");
        request.vcpus = c.vcpus;
        request.memory_mb = c.memory;
        TemplateConfig t = kernelTemplate();
        t.vcpus = c.templateVcpus;
        t.memory_mb = c.templateMemory;
        auto plan = planDomain(request, c.withTemplate ? &t : nullptr, userSite(), 22001, "tester", kNow);
        REQUIRE(plan.ok());
        CHECK(plan->spec.vcpus == c.wantVcpus);
        CHECK(plan->spec.memory_mib == c.wantMemory);
    }
}

TEST_CASE("plan: bad names and sizes are refused with the field named", "[domain_plan]") {
    struct Case {
        const char* name;
        std::optional<uint32_t> vcpus;
        std::optional<uint64_t> memory;
        const char* message;
    };
    const std::vector<Case> cases = {
        {"", std::nullopt, std::nullopt, "VM name must not be empty"},
        {"Upper", std::nullopt, std::nullopt, "VM name 'Upper' is invalid"},
        {"a/b", std::nullopt, std::nullopt, "VM name 'a/b' is invalid"},
        {"vm", 0u, std::nullopt, "vcpus must be between 1 and 64"},
        {"vm", limits::kMaxVcpus + 1, std::nullopt, "vcpus must be between 1 and 64"},
        {"vm", std::nullopt, limits::kMinMemoryMb - 1, "memory_mb must be between 64 and 262144"},
        {"vm", std::nullopt, limits::kMaxMemoryMb + 1, "memory_mb must be between 64 and 262144"},
    };
    for (const auto& c : cases) {
        INFO(c.name << " " << c.message);
        auto request = named(c.name);
        request.vcpus = c.vcpus;
        request.memory_mb = c.memory;
        const Error e = failure(planDomain(request, nullptr, userSite(), 22001, "tester", kNow));
        CHECK(e.code == ErrorCode::InvalidArgument);
        CHECK_THAT(e.message, Catch::Contains(c.message));
    }
}

TEST_CASE("plan: the SSH forward follows the site's network mode", "[domain_plan]") {
    struct Case {
        NetworkMode mode;
        std::optional<uint16_t> port;
        bool ok;
        pdk_network_mode wantMode;
        uint16_t wantPort;
        const char* wantMetadata;  // ssh_port entry, "" when none
    };
    const std::vector<Case> cases = {
        {NetworkMode::User, 22007, true, PDK_NETWORK_USER, 22007, "22007"},
        {NetworkMode::User, std::nullopt, false, PDK_NETWORK_USER, 0, ""},
        {NetworkMode::None, std::nullopt, true, PDK_NETWORK_NONE, 0, ""},
        {NetworkMode::None, 22007, true, PDK_NETWORK_NONE, 0, ""},  // a port without user mode is ignored
        {NetworkMode::Network, std::nullopt, true, PDK_NETWORK_LIBVIRT, 0, ""},
    };
    for (const auto& c : cases) {
        INFO(enumName(c.mode) << " port " << c.port.value_or(0));
        SiteFacts site = userSite();
        site.network_mode = c.mode;
        auto plan = planDomain(named("vm"), nullptr, site, c.port, "tester", kNow);
        REQUIRE(plan.ok() == c.ok);
        if (!c.ok) {
            CHECK(failure(plan).code == ErrorCode::Internal);
            continue;
        }
        CHECK(plan->spec.network_mode == c.wantMode);
        CHECK(plan->spec.network_name == "default");
        CHECK(plan->spec.ssh_forward_port == c.wantPort);
        CHECK(metaValue(plan->spec.metadata, meta::kSshPort) == c.wantMetadata);
    }
}

TEST_CASE("plan: templates bring the kernel, Paddock's key and the overlay", "[domain_plan]") {
    const TemplateConfig t = kernelTemplate();
    auto plan = planDomain(named("vm-7"), &t, userSite(), 22001, "alice", kNow);
    REQUIRE(plan.ok());
    const DomainSpec& spec = plan->spec;
    CHECK(spec.name == "vm-7");
    CHECK(spec.domain_type == "qemu");
    CHECK(spec.kernel_path == "/images/vmlinux");
    CHECK(spec.initrd_path == "/images/initrd");
    CHECK(spec.kernel_cmdline == "console=ttyS0 paddock.authorized_key=" + base64Encode(userSite().public_key));
    REQUIRE(plan->overlay.has_value());
    CHECK(plan->overlay->pool == "paddock");
    CHECK(plan->overlay->name == "vm-7.qcow2");
    CHECK(plan->overlay->backing_path == "/images/debian.qcow2");
    CHECK(plan->overlay->backing_format == "qcow2");
    CHECK(spec.disk_path.empty());  // until the overlay exists
    CHECK(metaValue(spec.metadata, meta::kTemplate) == "debian");
    CHECK(metaValue(spec.metadata, meta::kImage) == "/images/debian.qcow2");
    CHECK(metaValue(spec.metadata, meta::kCreatedAt) == "2024-05-01T12:00:00Z");
    CHECK(metaValue(spec.metadata, meta::kCreatedBy) == "alice");
    CHECK(metaValue(spec.metadata, meta::kDisk).empty());

    plan->attachDisk("/pool/vm-7.qcow2");
    CHECK(plan->spec.disk_path == "/pool/vm-7.qcow2");
    CHECK(plan->spec.disk_format == "qcow2");
    CHECK(metaValue(plan->spec.metadata, meta::kDisk) == "/pool/vm-7.qcow2");
}

TEST_CASE("plan: edge cases of templates, keys and metadata", "[domain_plan]") {
    SECTION("no kernel: no key on a command line, the disk boots itself") {
        TemplateConfig t = kernelTemplate();
        t.kernel.clear();
        t.initrd.clear();
        t.cmdline.clear();
        auto plan = planDomain(named("cloud"), &t, userSite(), 22001, "x", kNow);
        REQUIRE(plan.ok());
        CHECK(plan->spec.kernel_cmdline.empty());
        CHECK(plan->overlay.has_value());
    }
    SECTION("no SSH key: the command line stays the template's") {
        SiteFacts site = userSite();
        site.public_key.clear();
        const TemplateConfig t = kernelTemplate();
        auto plan = planDomain(named("vm"), &t, site, 22001, "x", kNow);
        REQUIRE(plan.ok());
        CHECK(plan->spec.kernel_cmdline == "console=ttyS0");
    }
    SECTION("an empty template command line gets the key alone") {
        TemplateConfig t = kernelTemplate();
        t.cmdline.clear();
        auto plan = planDomain(named("vm"), &t, userSite(), 22001, "x", kNow);
        REQUIRE(plan.ok());
        CHECK(plan->spec.kernel_cmdline.rfind("paddock.authorized_key=", 0) == 0);
    }
    SECTION("no base image: diskless, no overlay") {
        TemplateConfig t = kernelTemplate();
        t.base_image.clear();
        auto plan = planDomain(named("vm"), &t, userSite(), 22001, "x", kNow);
        REQUIRE(plan.ok());
        CHECK_FALSE(plan->overlay.has_value());
        CHECK(metaValue(plan->spec.metadata, meta::kImage).empty());
    }
    SECTION("owner: set when given, absent when empty") {
        auto request = named("vm");
        request.owner = "bob";
        CHECK(metaValue(planDomain(request, nullptr, userSite(), 22001, "x", kNow)->spec.metadata, meta::kOwner) ==
              "bob");
        request.owner = "";
        CHECK(planDomain(request, nullptr, userSite(), 22001, "x", kNow)->spec.metadata.count(meta::kOwner) == 0);
    }
    SECTION("extra metadata never replaces Paddock's own keys") {
        auto request = named("vm");
        request.owner = "bob";
        request.metadata = {
            {meta::kPool, "lab"}, {meta::kOwner, "mallory"}, {meta::kSshPort, "1"}, {meta::kCreatedBy, "eve"}};
        const TemplateConfig t = kernelTemplate();
        auto plan = planDomain(request, &t, userSite(), 22001, "alice", kNow);
        REQUIRE(plan.ok());
        CHECK(metaValue(plan->spec.metadata, meta::kPool) == "lab");
        CHECK(metaValue(plan->spec.metadata, meta::kOwner) == "bob");
        CHECK(metaValue(plan->spec.metadata, meta::kSshPort) == "22001");
        CHECK(metaValue(plan->spec.metadata, meta::kCreatedBy) == "alice");
    }
    SECTION("domain type auto is passed on for the backend to resolve") {
        SiteFacts site = userSite();
        site.domain_type = DomainType::Auto;
        CHECK(planDomain(named("vm"), nullptr, site, 22001, "x", kNow)->spec.domain_type == "auto");
    }
    SECTION("equal inputs give equal plans") {
        const TemplateConfig t = kernelTemplate();
        auto a = planDomain(named("vm"), &t, userSite(), 22001, "x", kNow);
        auto b = planDomain(named("vm"), &t, userSite(), 22001, "x", kNow);
        REQUIRE((a.ok() && b.ok()));
        CHECK(a->spec.metadata == b->spec.metadata);
        CHECK(a->spec.kernel_cmdline == b->spec.kernel_cmdline);
    }
}

TEST_CASE("SiteFacts come from the site's configuration", "[domain_plan]") {
    SiteConfig cfg;
    cfg.name = "east";
    cfg.domain_type = DomainType::Kvm;
    cfg.network_mode = NetworkMode::Network;
    cfg.network_name = "lab-net";
    cfg.storage_pool = "fast";
    cfg.default_vcpus = 3;
    cfg.default_memory_mb = 768;
    const SiteFacts f = SiteFacts::of(cfg, "key");
    CHECK(f.site == "east");
    CHECK(f.domain_type == DomainType::Kvm);
    CHECK(f.network_mode == NetworkMode::Network);
    CHECK(f.network_name == "lab-net");
    CHECK(f.storage_pool == "fast");
    CHECK(f.default_vcpus == 3);
    CHECK(f.default_memory_mb == 768);
    CHECK(f.public_key == "key");
}
