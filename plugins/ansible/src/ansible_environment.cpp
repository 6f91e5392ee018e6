#include "ansible_environment.hpp"

namespace paddock::ansible {

RunPaths runPaths(const std::string& directory) {
    return {directory, directory + "/ansible.cfg", directory + "/known_hosts", directory + "/tmp", directory + "/cm"};
}

// Every task of a run is one ssh connection without a master; under TCG each handshake costs
// seconds, so the run shares one (a third of the run time in the e2e test). The master belongs
// to the run: its socket is in the private run directory and the run ends it.
std::string sshArgs(const RunPaths& paths) {
    return "-o ControlMaster=auto -o ControlPath=" + paths.controlPath +
           " -o ControlPersist=" + std::to_string(kControlPersistSeconds) +
           " -o UserKnownHostsFile=" + paths.knownHosts +
           " -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes";
}

std::vector<std::string> controlExitArgv(const std::string& ssh, const RunPaths& paths) {
    // The host name is required by the syntax and unused: the socket names the connection.
    return {ssh, "-o", "ControlPath=" + paths.controlPath, "-O", "exit", "paddock-run"};
}

std::vector<std::string> ansibleEnvironment(const RunPaths& paths, const std::string& path) {
    return {
        "PATH=" + path,
        "LANG=C.UTF-8",
        "HOME=" + paths.directory,
        "TMPDIR=" + paths.temp,
        "ANSIBLE_CONFIG=" + paths.config,
        "ANSIBLE_HOST_KEY_CHECKING=True",
        "ANSIBLE_SSH_ARGS=" + sshArgs(paths),
        "ANSIBLE_PIPELINING=True",
        "ANSIBLE_LOCAL_TEMP=" + paths.temp,
        "ANSIBLE_RETRY_FILES_ENABLED=False",
        "ANSIBLE_NOCOLOR=1",
        "ANSIBLE_FORCE_COLOR=0",
        "ANSIBLE_TIMEOUT=10",
        "PYTHONUNBUFFERED=1",
        "ANSIBLE_DEPRECATION_WARNINGS=False",
        // The output parser reads the default callback's format.
        "ANSIBLE_STDOUT_CALLBACK=default",
        // host_list for check's "-i localhost,"; yaml for both inventories of a run (JSON).
        "ANSIBLE_INVENTORY_ENABLED=host_list,yaml",
    };
}

}  // namespace paddock::ansible
