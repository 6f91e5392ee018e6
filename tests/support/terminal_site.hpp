// A paddockd (PaddockdFixture) on test:///default whose VM "term" has its SSH target (user-mode
// forward port in the VM's metadata) pointing at a private sshd (SshdFixture) that accepts
// Paddock's own key, so browser terminals reach a real shell as the current user. Tokens: admin
// (token()) and viewer (tokenFor("viewer")). With `tls`, paddockd serves HTTPS and WSS (see
// DaemonOptions::tls). Single-threaded use; everything is stopped and removed on destruction.
#pragma once

#include "paddockd_fixture.hpp"
#include "sshd_fixture.hpp"

#include <rapidjson/document.h>

#include <memory>
#include <string>

namespace paddock::test {

class TerminalSite : public PaddockdFixture {
public:
    explicit TerminalSite(bool tls = false) : TerminalSite(freeLoopbackPort(), tls) {}

    uint16_t sshPort() const noexcept { return sshPort_; }
    SshdFixture& sshd() noexcept { return *sshd_; }

    // POST /api/v1/vms/{vm}/console: the reply's JSON (ticket, websocket_url, console_url, ...).
    rapidjson::Document console(const std::string& vm = "term") const;
    std::string ticket(const std::string& vm = "term") const { return console(vm)["ticket"].GetString(); }

private:
    TerminalSite(uint16_t sshPort, bool tls);
    static DaemonOptions options(uint16_t sshPort, bool tls);

    uint16_t sshPort_;
    std::unique_ptr<SshdFixture> sshd_;
};

}  // namespace paddock::test
