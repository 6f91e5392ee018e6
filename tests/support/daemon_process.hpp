// Runs the real paddockd binary for integration tests: a child process with its output in a
// file, a PADDOCK_*-free environment (so the caller's variables cannot change the config), and
// SIGTERM + wait on destruction. Single-threaded use.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace paddock::test {

// The command's exit code (128 + signal when killed), its combined stdout/stderr in `output`.
int runToCompletion(const std::vector<std::string>& args, std::string& output, const std::string& outputFile);

class DaemonProcess {
public:
    // Starts `args[0]` with the given arguments, output to `logFile`, and waits until
    // http://127.0.0.1:<port>/healthz answers (any status). Throws (with the log) when the
    // process exits first or does not answer within `startTimeoutS`.
    // `env` ("NAME=value") is added to the environment, from which every other PADDOCK_* is dropped.
    DaemonProcess(const std::vector<std::string>& args, std::string logFile, uint16_t port, int startTimeoutS = 30,
                  const std::vector<std::string>& env = {});
    ~DaemonProcess();
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    // SIGTERM and wait; the exit code (128 + signal when killed after the grace period).
    int stop(int graceS = 20);
    // Waits up to `timeoutS` for the process to end by itself: its exit code (128 + signal), or
    // -1 when it still runs.
    int waitExit(int timeoutS);
    std::string log() const;
    pid_t pid() const noexcept { return pid_; }

private:
    pid_t pid_ = -1;
    std::string logFile_;
};

}  // namespace paddock::test
