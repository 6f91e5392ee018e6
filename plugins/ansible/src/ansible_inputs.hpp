// The three documents ansible-playbook reads in a run, all JSON (ansible reads YAML files and
// inventories as JSON first). Pure; no I/O.
//
//  - The connection inventory (run directory, inventory.yml): one host named after the VM with
//    ansible_host, ansible_port, ansible_user, ansible_ssh_private_key_file and
//    ansible_python_interpreter=auto_silent. No secret.
//  - The extra variables (run directory, variables.json, `--extra-vars @<path>`): the request's
//    variables plus `vm_name`. Extra vars, because they must win over a playbook's own `vars:`
//    defaults (ansible/playbooks/configure_vm.yml relies on it). No secret.
//  - The secret inventory (a memfd, `-i /dev/fd/3`, see secret_file.hpp): the same host with
//    `ansible_become_pass` only, wrapped as {"__ansible_unsafe": "..."} so ansible takes it as a
//    literal and never templates it (a password holding "{{" stays a password). A host variable
//    of a second inventory source joins the host of the first.
#pragma once

#include "secret_bytes.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace paddock::ansible {

struct ConnectionTarget {
    std::string_view vm;
    std::string_view host;
    uint16_t port = 0;
    std::string_view user;
    std::string_view privateKeyPath;
};

// Throws pdk::Error(PDK_ERR_INVALID_ARGUMENT) when a string is not valid UTF-8.
std::string connectionInventory(const ConnectionTarget& target);

// Checks `variablesJson` (empty: none): one JSON object whose member names do not start with
// "ansible_" (ansible's connection and privilege variables: as extra vars they would override
// the pinned host key, the login or the become settings) and are not "vm_name" (set by Paddock).
// Throws pdk::Error(PDK_ERR_INVALID_ARGUMENT) saying what is wrong.
void checkVariables(std::string_view variablesJson);

// Checks the become secret: valid UTF-8 without NUL, CR or LF (sudo reads one line). Throws
// pdk::Error(PDK_ERR_INVALID_ARGUMENT); the message never quotes the secret.
void checkBecomeSecret(std::string_view secret);

// The extra variables: `variablesJson`'s members (checked as above; numbers copied digit for
// digit, never through a double) and vm_name.
std::string extraVariables(std::string_view vm, std::string_view variablesJson);

// The secret inventory for a non-empty `secret` (checked as above). Keep it in SecretBytes only.
SecretBytes secretInventory(std::string_view vm, std::string_view secret);

}  // namespace paddock::ansible
