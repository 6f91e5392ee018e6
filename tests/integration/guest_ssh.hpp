// Logging into a test guest as Paddock does (its key in the fixture's state directory), for the
// e2e tests that check what happened inside a guest.
#pragma once

#include "paddockd_fixture.hpp"

#include "paddock/core/ssh_client.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace paddock::test {

// The "ssh" object of a VM or lease answer ({host, port, user}) with Paddock's key.
inline SshEndpoint guestEndpoint(PaddockdFixture& paddockd, const rapidjson::Value& ssh) {
    REQUIRE(ssh.IsObject());
    return {ssh["host"].GetString(),
            static_cast<uint16_t>(ssh["port"].GetUint()),
            ssh["user"].GetString(),
            paddockd.stateDir() + "/ssh/id_ed25519",
            paddockd.stateDir() + "/ssh/id_ed25519.pub",
            {}};
}

// Runs `command` in the guest; REQUIREs that it ran and exited 0; its output.
inline std::string runInGuest(const SshEndpoint& endpoint, const std::string& command) {
    auto out = runSshCommand(endpoint, command, std::chrono::seconds(120));
    INFO(command);
    REQUIRE(out.ok());
    INFO(out->output);
    REQUIRE(out->exit_status == 0);
    return out->output;
}

}  // namespace paddock::test
