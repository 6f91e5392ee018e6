// Paddock's own SSH key pair, the one it logs into guests with: <state_dir>/ssh/id_ed25519
// (0600) and its .pub, generated with ssh-keygen on first use and reused afterwards.
#pragma once

#include "paddock/core/result.hpp"

#include <string>

namespace paddock {

struct SshIdentity {
    std::string private_key_path;
    std::string public_key_path;
    std::string public_key;  // the one-line OpenSSH public key, without newline
};

// Creates the key pair when missing. Thread-safe only against other processes by the
// atomic rename; call it once at startup.
Result<SshIdentity> ensureSshIdentity(const std::string& stateDir);

// Standard base64 (with padding), for passing the public key on a kernel command line.
std::string base64Encode(const std::string& data);

}  // namespace paddock
