#include "process.hpp"

#include <paddock/cpp/error.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace paddock::lvq {

namespace {

constexpr size_t kStderrKept = 4096;

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

struct SpawnActions {
    posix_spawn_file_actions_t actions;
    SpawnActions() { posix_spawn_file_actions_init(&actions); }
    ~SpawnActions() { posix_spawn_file_actions_destroy(&actions); }
};

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

void runProgram(const std::vector<std::string>& argv, const std::string& what) {
    if (argv.empty()) throw pdk::Error(PDK_ERR_INTERNAL, what + ": no program to run");
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw pdk::Error(PDK_ERR_INTERNAL, what + ": pipe: " + std::strerror(errno));
    Fd readEnd{fds[0]};
    Fd writeEnd{fds[1]};
    SpawnActions sa;
    posix_spawn_file_actions_addopen(&sa.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&sa.actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&sa.actions, writeEnd.fd, STDERR_FILENO);
    posix_spawn_file_actions_addclosefrom_np(&sa.actions, STDERR_FILENO + 1);
    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, args[0], &sa.actions, nullptr, args.data(), environ);
    if (rc != 0) throw pdk::Error(PDK_ERR_UNAVAILABLE, what + ": cannot run " + argv[0] + ": " + std::strerror(rc));
    ::close(writeEnd.fd);
    writeEnd.fd = -1;

    std::string err;
    char buf[1024];
    for (;;) {
        const ssize_t n = ::read(readEnd.fd, buf, sizeof buf);
        if (n > 0) {
            if (err.size() < kStderrKept) err.append(buf, std::min(static_cast<size_t>(n), kStderrKept - err.size()));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        break;
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw pdk::Error(PDK_ERR_INTERNAL, what + ": waitpid: " + std::strerror(errno));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    const std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                              : "was killed by signal " + std::to_string(WTERMSIG(status));
    err = trimmed(err);
    throw pdk::Error(PDK_ERR_INTERNAL, what + ": " + argv[0] + " " + how + (err.empty() ? "" : ": " + err));
}

}  // namespace paddock::lvq
