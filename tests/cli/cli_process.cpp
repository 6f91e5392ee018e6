#include "cli_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <stdexcept>

extern char** environ;

namespace paddock::test {

std::string paddockCliPath() { return PADDOCK_CLI_PATH; }

std::vector<std::string> childEnvironment(const std::vector<std::string>& env) {
    std::vector<std::string> result;
    for (char** e = environ; *e; ++e)
        if (std::string(*e).rfind("PADDOCK_", 0) != 0) result.emplace_back(*e);
    result.insert(result.end(), env.begin(), env.end());
    return result;
}

CliExec::CliExec(const std::vector<std::string>& args, const std::vector<std::string>& env)
    : argv_{paddockCliPath()}, envp_(childEnvironment(env)) {
    argv_.insert(argv_.end(), args.begin(), args.end());
    for (auto& a : argv_) cargv_.push_back(a.data());
    cargv_.push_back(nullptr);
    for (auto& e : envp_) cenv_.push_back(e.data());
    cenv_.push_back(nullptr);
}

void CliExec::exec() const {
    ::execve(cargv_[0], cargv_.data(), cenv_.data());
    ::_exit(127);
}

CliRun runCli(const std::vector<std::string>& args, const std::vector<std::string>& env, const std::string& input) {
    // A child that exits before reading all its input must not kill the test with SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe failed");
    const CliExec command(args, env);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        command.exec();
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    CliRun run;
    size_t written = 0;
    int inFd = in[1];
    if (input.empty()) {
        ::close(inFd);
        inFd = -1;
    } else {
        ::fcntl(inFd, F_SETFL, O_NONBLOCK);
    }
    bool outOpen = true, errOpen = true;
    constexpr int kHangS = 300;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kHangS);
    char buffer[65536];
    while (outOpen || errOpen) {
        pollfd fds[3] = {{outOpen ? out[0] : -1, POLLIN, 0}, {errOpen ? err[0] : -1, POLLIN, 0}, {inFd, POLLOUT, 0}};
        // A hung child is killed after kHangS rather than hanging the test binary (the exit
        // code then says so: 128 + 9).
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            ::kill(pid, SIGKILL);
            break;
        }
        if (::poll(fds, 3, static_cast<int>(left.count())) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n <= 0) {
                (i == 0 ? outOpen : errOpen) = false;
                continue;
            }
            (i == 0 ? run.out : run.err).append(buffer, static_cast<size_t>(n));
        }
        if (inFd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            const ssize_t n = ::write(inFd, input.data() + written, input.size() - written);
            if (n > 0) written += static_cast<size_t>(n);
            if (n < 0 || written == input.size()) {
                ::close(inFd);
                inFd = -1;
            }
        }
    }
    if (inFd >= 0) ::close(inFd);
    ::close(out[0]);
    ::close(err[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    run.exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return run;
}

}  // namespace paddock::test
