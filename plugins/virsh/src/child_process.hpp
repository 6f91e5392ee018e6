// Runs one program to completion with a deadline: the only way the virsh backend starts
// anything. posix_spawn with an argv array (never a shell), an environment given whole by the
// caller (nothing is inherited), stdin from /dev/null or from a pipe fed with the caller's bytes,
// stdout and stderr captured. The child runs in a session and process group of its own (no
// controlling terminal, so an ssh started by virsh cannot prompt on one); when the deadline
// passes, the whole group is killed with SIGKILL and reaped before the call returns, so no
// process of the call outlives it.
//
// Ownership: inputs are borrowed for the call; the result is returned by value.
// Threading: reentrant; concurrent calls from several threads are independent. SIGPIPE is
// blocked on the calling thread while it writes the child's stdin (and a SIGPIPE raised there
// is consumed), so a child that exits early never kills the host process.
// The host must not set SIGCHLD to SIG_IGN (children would be reaped behind our back; paddockd
// does not).
// Errors: PDK_ERR_UNAVAILABLE when the program cannot be started (the message says whether it is
// missing), PDK_ERR_INTERNAL when the system refuses a pipe; a timeout is not an exception but
// ChildResult::timedOut.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace paddock::virsh {

struct ChildResult {
    int exitCode = -1;     // the exit status, or -1 when it was killed by a signal
    int signal = 0;        // the signal that ended it, 0 when it exited
    bool timedOut = false; // the deadline passed and the process group was killed
    std::string out;       // stdout, at most kMaxCapturedOut bytes (the rest is read and dropped)
    std::string err;       // stderr, at most kMaxCapturedErr bytes
};

inline constexpr size_t kMaxCapturedOut = 32u << 20;
inline constexpr size_t kMaxCapturedErr = 64u << 10;

// Runs argv[0], which must be an absolute path (no PATH search here), with exactly `env` as its
// environment ("NAME=value" entries). `input`: bytes written to its stdin, which is closed after
// them; std::nullopt: stdin is /dev/null.
ChildResult runChild(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     const std::optional<std::string>& input, std::chrono::milliseconds timeout);

}  // namespace paddock::virsh
