// What ansible-playbook is started with: its environment, built from nothing rather than
// inherited (the host process's variables, ANSIBLE_* settings or an ssh agent never reach it;
// only PATH is kept), and its command line. Pure; no I/O.
#pragma once

#include <string>
#include <vector>

namespace paddock::ansible {

// Paths of one run (run_directory.hpp).
struct RunPaths {
    std::string directory;    // HOME and working directory
    std::string config;       // <directory>/ansible.cfg, empty: no user's or system configuration
    std::string knownHosts;   // <directory>/known_hosts: the pinned key, nothing else
    std::string temp;         // <directory>/tmp: TMPDIR and ansible's local temp
    std::string controlPath;  // <directory>/cm: the run's one ssh master connection
};

RunPaths runPaths(const std::string& directory);

// The environment: PATH (`path`), LANG=C.UTF-8, HOME, TMPDIR and the ANSIBLE_* settings that pin
// ssh to the known_hosts file (StrictHostKeyChecking=yes, no global file, no agent keys, no
// password prompts), one ssh master connection shared by the run's tasks (ControlPath in the
// run directory; the run ends it with `ssh -O exit`, and ControlPersist bounds a master
// whose run was killed with paddockd), pipelining, no retry
// files, no colour, unbuffered Python (lines stream as they come), a 10 s connect timeout and
// the two inventory plugins the run uses.
std::vector<std::string> ansibleEnvironment(const RunPaths& paths, const std::string& path);

// ANSIBLE_SSH_ARGS alone (the paths are safe for ssh: run_directory.hpp).
std::string sshArgs(const RunPaths& paths);

// How long an idle master connection outlives its last use when nobody ends it.
inline constexpr int kControlPersistSeconds = 30;

// The command line that ends the run's master connection (`ssh -O exit`), `ssh` being the
// path of the ssh client.
std::vector<std::string> controlExitArgv(const std::string& ssh, const RunPaths& paths);

}  // namespace paddock::ansible
