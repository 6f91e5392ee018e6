// The fixture of the tests that drive a VmService: one site on a fresh test:///default
// connection (the driver's state is per connection) through the real libvirt-qemu plugin.
#pragma once

#include "paddock/core/plugin_host.hpp"
#include "paddock/core/vm_service.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <memory>

namespace paddock::test {

struct TestSite {
    explicit TestSite(SiteConfig cfg = {}) {
        auto loaded = host.loadFile(test::pluginDir() + "/paddock_libvirt_qemu.so");
        REQUIRE(loaded.ok());
        auto plugin = host.backend("org.paddock.libvirt-qemu");
        REQUIRE(plugin.ok());
        cfg.name = "test";
        cfg.uri = "test:///default";
        if (cfg.storage_pool == SiteConfig{}.storage_pool) cfg.storage_pool = "default-pool";
        site = std::make_unique<Site>(cfg, plugin.value(), events, SshIdentity{}, metrics);
        REQUIRE(site->connect().ok());
        service = std::make_unique<VmService>(*site, audit, metrics);
        connection = site->connection().value();
    }
    PluginHost host;
    AuditLog audit{""};
    CoreMetrics metrics;
    std::shared_ptr<EventHub> events = EventHub::create();
    std::unique_ptr<Site> site;
    std::unique_ptr<VmService> service;  // declared after the site it uses: destroyed first
    std::shared_ptr<BackendConnection> connection;
};

// A template on the test driver's base image, and a site config with it.
inline TemplateConfig baseTemplate() {
    TemplateConfig t;
    t.name = "base";
    t.base_image = "/var/lib/paddock/test/base.qcow2";
    return t;
}

inline SiteConfig withTemplate(const TemplateConfig& t) {
    SiteConfig cfg;
    cfg.templates.push_back(t);
    return cfg;
}

}  // namespace paddock::test
