// Runs one program to its end, streaming its output line by line, with a deadline and a cancel
// check, and leaves nothing it started behind.
//
// The program runs from an argv array (no shell) with exactly the environment given, in a new
// session (so it and everything it starts form one process group, with the child's pid as both
// ids), stdin on /dev/null, stdout and stderr on pipes, and no other file descriptor but those
// passed explicitly. When the program exits, whatever is still alive in its session is
// killed; on timeout or cancel the whole session is killed (SIGTERM, SIGKILL after the grace
// period). The program is always reaped before runProcess returns, also when it throws.
//
// Threading: runProcess blocks its caller; the callbacks run on that thread, during the call.
// Several runProcess calls may run concurrently on different threads (nothing is shared; every
// descriptor is opened close-on-exec, so another thread's child never inherits one). The host
// process must neither ignore SIGCHLD nor reap children it did not start (waitpid(-1)): the
// child's zombie is what keeps its session id from being reused until everything is killed.
//
// Limit: a process that makes a session of its own (setsid, as a daemon does) leaves the run's
// session and is not found. With the settings of ansible_environment.hpp one does: the ssh
// connection master (ControlPersist), which the provisioner ends itself with `ssh -O exit` after
// every run, however it ended, and which would end on its own after ControlPersist idle seconds.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace paddock::ansible {

// The longest piece of output handed over at once: a longer line arrives in pieces.
constexpr size_t kMaxLinePiece = 4096;

enum class OutputStream { Stdout = 1, Stderr = 2 };

struct ProcessSpec {
    std::string program;                     // path to execute, as is (no PATH search)
    std::vector<std::string> argv;           // argv[0] included
    std::vector<std::string> environment;    // "NAME=value", the child's whole environment
    std::string workingDirectory;            // empty: the caller's
    std::vector<std::pair<int, int>> passFds;  // {our descriptor, its number in the child (>= 3)}
    std::chrono::milliseconds timeout{60000};  // from the start; > 0
    std::chrono::milliseconds killGrace{2000};  // between SIGTERM and SIGKILL
};

enum class ProcessEnd {
    NotStarted,  // could not be executed (spawnErrno says why)
    Exited,      // exitCode holds its status
    Signalled,   // killed by a signal we did not send (signal)
    TimedOut,    // killed by us: the timeout passed
    Cancelled,   // killed by us: the cancel check said so
};

struct ProcessOutcome {
    ProcessEnd end = ProcessEnd::NotStarted;
    int exitCode = -1;
    int signal = 0;
    int spawnErrno = 0;
    double seconds = 0;  // from spawn to reaped
};

// Receives output: a whole line without its '\n' (endOfLine true), or a piece of a line longer
// than kMaxLinePiece (endOfLine false; the rest follows). Output that ends without a line
// break is delivered as a last line. Must not throw (a throw kills the run and propagates).
using LineSink = std::function<void(OutputStream stream, std::string_view piece, bool endOfLine)>;
// Polled at least every 100 ms while the program runs; true: stop it now. May be empty.
using CancelCheck = std::function<bool()>;

// Throws pdk::Error(PDK_ERR_INTERNAL) when a pipe cannot be made; every other failure is in
// the outcome.
ProcessOutcome runProcess(const ProcessSpec& spec, const LineSink& sink, const CancelCheck& cancelled);

// `name` looked up in the directories of `path` ("a:b:c") as execvp would, or returned as is
// when it contains a '/'. Empty when no executable file of that name is found.
std::string findExecutable(const std::string& name, const std::string& path);

}  // namespace paddock::ansible
