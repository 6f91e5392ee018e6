// org.paddock.ansible: runs one playbook against one VM with ansible-playbook, the class the
// SDK helper (paddock/cpp/provisioner.hpp) turns into the plugin's vtable.
//
// A run: settings and request checked; a private run directory (run_directory.hpp) with the
// connection inventory, the pinned known_hosts line, the extra variables and an empty
// ansible.cfg (ansible_inputs.hpp); the become secret only in a memfd (secret_file.hpp), the
// second inventory source /dev/fd/3; ansible-playbook started with an environment built from
// nothing (ansible_environment.hpp) and stopped with everything it started at the timeout or on
// cancel (process_runner.hpp); every output line redacted (redactor.hpp) before the host's sink and
// the output parser (ansible_output.hpp) see it. The run directory and the memfd are gone
// when run returns, whatever happened.
//
// Threading: no state is shared between calls; run and check may run concurrently.
#pragma once

#include <paddock/pdk_provisioner.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace paddock::ansible {

struct AnsibleProvisioner {
    static void run(const pdk_provision_request& request, uint32_t flags, pdk_provision_result& result);
    static std::string check(const pdk_kv* settings, size_t count, const char* recipe, uint32_t flags);
};

}  // namespace paddock::ansible
