// Runs `virsh -c <uri> --quiet <command> <args...>` for one connection: the virsh binary, the
// child's environment and the timeouts are fixed when the runner is made.
//
// Configuration (read by VirshSettings::fromEnvironment when a connection opens; a host
// passes nothing else to a backend):
//   PADDOCK_VIRSH             the virsh to run: an absolute path, or a name looked up in PATH
//                             (default "virsh")
//   PADDOCK_VIRSH_TIMEOUT_MS  the deadline of one virsh run that changes state (start,
//                             managedsave, snapshot-create, ...; default 120000, at least 100);
//                             queries (list, dominfo, metadata, ...) get min(30000, this) and
//                             is_alive min(5000, this), so a hung host answers a poll soon
// The child's environment is built from scratch: LC_ALL=C and LANG=C (virsh's words and numbers
// in the C locale, which the parsers expect), PATH (the host's, else a standard one), and HOME,
// USER, LOGNAME, SSH_AUTH_SOCK, XDG_RUNTIME_DIR when the host has them (ssh for qemu+ssh:// URIs
// needs its keys, agent and known_hosts; qemu:///session needs the runtime directory). Nothing
// else is passed: no LIBVIRT_DEFAULT_URI, no LD_PRELOAD.
//
// Ownership: a runner owns copies of everything it was given. Threading: const members may be
// called from several threads at once; each call is its own process.
// Errors: pdk::Error; see run().
#pragma once

#include "child_process.hpp"

#include <paddock/cpp/error.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace paddock::virsh {

struct VirshSettings {
    std::string virshPath;  // absolute
    std::chrono::milliseconds callTimeout{120000};   // commands that change state
    std::chrono::milliseconds queryTimeout{30000};   // read-only commands
    std::chrono::milliseconds aliveTimeout{5000};
    std::vector<std::string> childEnv;  // "NAME=value"

    // PDK_ERR_UNAVAILABLE "virsh not found ..." when no executable virsh is found;
    // PDK_ERR_INVALID_ARGUMENT for a malformed PADDOCK_VIRSH_TIMEOUT_MS.
    static VirshSettings fromEnvironment();
};

class VirshRunner {
public:
    // `uri` must have passed checkArg (it goes to virsh as the value of -c); empty: no -c.
    VirshRunner(VirshSettings settings, std::string uri);

    const VirshSettings& settings() const noexcept { return settings_; }
    const std::string& uri() const noexcept { return uri_; }

    // Runs virsh with `args` after the global options. `input`: bytes on its stdin (for
    // "/dev/stdin" file arguments); `timeout`: this call's deadline (default: callTimeout).
    // Returns whatever virsh did; throws PDK_ERR_TIMEOUT (the process group was killed) and
    // PDK_ERR_UNAVAILABLE "virsh not found" (the binary went away) only.
    ChildResult tryRun(const std::vector<std::string>& args, const std::optional<std::string>& input = std::nullopt,
                       std::optional<std::chrono::milliseconds> timeout = std::nullopt) const;

    // tryRun, then stdout when virsh exited with 0; else the failure (mapped from its stderr by
    // classifyVirshError) as "<context>: <virsh's error lines>".
    std::string run(const std::vector<std::string>& args, const std::string& context,
                    const std::optional<std::string>& input = std::nullopt,
                    std::optional<std::chrono::milliseconds> timeout = std::nullopt) const;

    // True for the virsh commands that change state and may take long (start, managedsave,
    // snapshot-create, ...): they get callTimeout by default.
    static bool isStateChanging(const std::string& command);

    // The pdk::Error for a virsh that did not exit with 0.
    static pdk::Error failure(const ChildResult& result, const std::string& context);

private:
    VirshSettings settings_;
    std::string uri_;
};

}  // namespace paddock::virsh
