#include "terminal_site.hpp"

#include <stdexcept>

namespace paddock::test {

DaemonOptions TerminalSite::options(uint16_t sshPort, bool tls) {
    DaemonOptions options;
    options.tls = tls;
    options.threads = 8;
    // Test clients read their WebSockets only while a test waits on them, so unlike browsers they
    // leave pings unanswered for long stretches; keep-alive is tested on its own (hub tests).
    options.server_yaml = "  websocket_idle_timeout_s: 3600\n";
    options.tokens = {{"teacher-app", "terminal-admin-token-0123456789", "admin"},
                      {"watcher", "terminal-viewer-token-0123456789", "viewer"}};
    options.adopt = {"test"};  // a second VM for "ticket of another VM" checks
    SiteOptions& site = options.sites.front();
    site.backend = "org.paddock.libvirt-qemu";
    site.storage_pool = "default-pool";
    site.network_mode = "user";
    site.stop_timeout_s = 5;
    site.ready_timeout_s = 600;
    site.ssh_user = SshdFixture::currentUser();
    site.ssh_port_min = sshPort;
    site.ssh_port_max = sshPort;
    return options;
}

TerminalSite::TerminalSite(uint16_t sshPort, bool tls) : PaddockdFixture(options(sshPort, tls)), sshPort_(sshPort) {
    // The VM takes the only forward port of the range, which the sshd then listens on.
    const auto created = call("POST", "/api/v1/vms", std::string(R"({"name":"term","start":true})"));
    if (created.status != 201) throw std::runtime_error("cannot create the VM: " + created.body);
    sshd_ = std::make_unique<SshdFixture>(sshPort_);
    sshd_->authorize(stateDir() + "/ssh/id_ed25519.pub");
}

rapidjson::Document TerminalSite::console(const std::string& vm) const {
    const auto reply = call("POST", "/api/v1/vms/" + vm + "/console");
    if (reply.status != 201) throw std::runtime_error("console ticket refused: " + reply.body);
    return reply.json();
}

}  // namespace paddock::test
