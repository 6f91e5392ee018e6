// Runs the built `paddock` binary for the CLI tests: argv, extra environment, bytes on stdin;
// collects stdout, stderr and the exit code. The child gets the parent's environment without
// any PADDOCK_* variable (so the caller's cannot change a test), plus `env`.
#pragma once

#include <string>
#include <vector>

namespace paddock::test {

struct CliRun {
    int exit = -1;  // 128 + signal when killed
    std::string out;
    std::string err;
};

// The paddock binary of this build.
std::string paddockCliPath();

CliRun runCli(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
              const std::string& input = {});

// The environment for a child: the current one without PADDOCK_*, plus `env` ("NAME=value").
std::vector<std::string> childEnvironment(const std::vector<std::string>& env);

// `paddock args...` with childEnvironment(env), ready to exec in a forked child (built before
// the fork: nothing is allocated after it).
class CliExec {
public:
    CliExec(const std::vector<std::string>& args, const std::vector<std::string>& env);
    CliExec(const CliExec&) = delete;
    CliExec& operator=(const CliExec&) = delete;
    // In the child: execve, or _exit(127) when it fails.
    [[noreturn]] void exec() const;

private:
    std::vector<std::string> argv_, envp_;
    std::vector<char*> cargv_, cenv_;
};

}  // namespace paddock::test
