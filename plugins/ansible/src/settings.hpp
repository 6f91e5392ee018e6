// The plugin's settings (provisioning.settings in Paddock's configuration, pdk_kv pairs):
//   command    the ansible-playbook to run: a name looked up in PATH (default
//              "ansible-playbook"), or a path used as is
//   verbosity  "0".."4": ansible-playbook's -v count (default 0)
// Any other key is refused. Pure; no I/O.
#pragma once

#include <paddock/pdk_plugin.h>

#include <cstddef>
#include <string>

namespace paddock::ansible {

struct AnsibleSettings {
    std::string command = "ansible-playbook";
    int verbosity = 0;
};

// Throws pdk::Error(PDK_ERR_INVALID_ARGUMENT) naming an unknown key or a bad value. `pairs` may
// be NULL when `count` is 0; keys and values are not NULL (the SDK helper checked).
AnsibleSettings parseSettings(const pdk_kv* pairs, size_t count);

}  // namespace paddock::ansible
