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
};

RunPaths runPaths(const std::string& directory);

// The environment: PATH (`path`), LANG=C.UTF-8, HOME, TMPDIR and the ANSIBLE_* settings that pin
// ssh to the known_hosts file (StrictHostKeyChecking=yes, no global file, no agent keys, no
// password prompts, no ControlPersist master that would outlive the run), pipelining, no retry
// files, no colour, unbuffered Python (lines stream as they come), a 10 s connect timeout and
// the two inventory plugins the run uses.
std::vector<std::string> ansibleEnvironment(const RunPaths& paths, const std::string& path);

// ANSIBLE_SSH_ARGS alone (the paths are safe for ssh: run_directory.hpp).
std::string sshArgs(const RunPaths& paths);

}  // namespace paddock::ansible
