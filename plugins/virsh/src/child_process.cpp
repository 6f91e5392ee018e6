#include "child_process.hpp"

#include <paddock/cpp/error.hpp>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace paddock::virsh {

namespace {

using Clock = std::chrono::steady_clock;

// How long the pipes may stay open after the child itself has exited: a grandchild (ssh) that
// kept them is killed with the group then.
constexpr std::chrono::milliseconds kDrainAfterExit{500};
// Upper bound of one poll, so the child's exit is noticed while a grandchild holds the pipes.
constexpr std::chrono::milliseconds kPollSlice{100};

struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    void reset() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

struct Pipe {
    Fd read, write;
};

void openPipe(Pipe& p) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw pdk::Error(PDK_ERR_INTERNAL, std::string("pipe: ") + std::strerror(errno));
    p.read.fd = fds[0];
    p.write.fd = fds[1];
}

void setNonBlocking(int fd) {
    const int fl = ::fcntl(fd, F_GETFL);
    if (fl >= 0) ::fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

struct FileActions {
    posix_spawn_file_actions_t a;
    FileActions() { posix_spawn_file_actions_init(&a); }
    ~FileActions() { posix_spawn_file_actions_destroy(&a); }
};

struct SpawnAttr {
    posix_spawnattr_t a;
    SpawnAttr() { posix_spawnattr_init(&a); }
    ~SpawnAttr() { posix_spawnattr_destroy(&a); }
};

// Blocks SIGPIPE on this thread for the scope; a SIGPIPE our writes raised is consumed before
// the old mask comes back, so it is never delivered to the process.
class SigpipeBlock {
public:
    SigpipeBlock() {
        sigemptyset(&pipeSet_);
        sigaddset(&pipeSet_, SIGPIPE);
        sigset_t pending;
        sigemptyset(&pending);
        sigpending(&pending);
        wasPending_ = sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &pipeSet_, &old_);
    }
    ~SigpipeBlock() {
        if (!wasPending_) {
            sigset_t pending;
            sigemptyset(&pending);
            sigpending(&pending);
            if (sigismember(&pending, SIGPIPE) == 1) {
                const timespec zero{0, 0};
                while (sigtimedwait(&pipeSet_, nullptr, &zero) < 0 && errno == EINTR) {
                }
            }
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    SigpipeBlock(const SigpipeBlock&) = delete;
    SigpipeBlock& operator=(const SigpipeBlock&) = delete;

private:
    sigset_t pipeSet_;
    sigset_t old_;
    bool wasPending_ = false;
};

// Reads what is there; false at end of file or on an error (the caller closes the descriptor).
bool drain(int fd, std::string& into, size_t limit) {
    char buf[16384];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            if (into.size() < limit) into.append(buf, std::min(static_cast<size_t>(n), limit - into.size()));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        return false;
    }
}

bool leaderExited(pid_t pid) {
    siginfo_t info{};
    // WNOWAIT: the zombie keeps the process group id reserved until we kill the group and reap.
    return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

}  // namespace

ChildResult runChild(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                     const std::optional<std::string>& input, std::chrono::milliseconds timeout) {
    if (argv.empty() || argv[0].empty() || argv[0][0] != '/')
        throw pdk::Error(PDK_ERR_INTERNAL, "runChild needs an absolute program path");
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    Pipe out, err, in;
    openPipe(out);
    openPipe(err);
    if (input) openPipe(in);

    FileActions fa;
    if (input)
        posix_spawn_file_actions_adddup2(&fa.a, in.read.fd, STDIN_FILENO);
    else
        posix_spawn_file_actions_addopen(&fa.a, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa.a, out.write.fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa.a, err.write.fd, STDERR_FILENO);
    posix_spawn_file_actions_addclosefrom_np(&fa.a, STDERR_FILENO + 1);

    // A session of its own: its own process group (killed as a whole) and no controlling
    // terminal. Signal mask and dispositions are reset: the host may block or ignore SIGPIPE,
    // SIGCHLD or others, and ignored dispositions survive exec.
    SpawnAttr sa;
    sigset_t none;
    sigemptyset(&none);
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setsigmask(&sa.a, &none);
    posix_spawnattr_setsigdefault(&sa.a, &all);
    posix_spawnattr_setflags(&sa.a, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, args[0], &fa.a, &sa.a, args.data(), envp.data());
    if (rc != 0) {
        if (rc == ENOENT) throw pdk::Error(PDK_ERR_UNAVAILABLE, argv[0] + " not found");
        throw pdk::Error(PDK_ERR_UNAVAILABLE, "cannot run " + argv[0] + ": " + std::strerror(rc));
    }
    out.write.reset();
    err.write.reset();
    in.read.reset();
    setNonBlocking(out.read.fd);
    setNonBlocking(err.read.fd);
    if (input) setNonBlocking(in.write.fd);

    ChildResult result;
    const SigpipeBlock sigpipe;
    const Clock::time_point deadline = Clock::now() + timeout;
    std::optional<Clock::time_point> drainUntil;
    size_t written = 0;
    if (input && input->empty()) in.write.reset();

    while (out.read.fd >= 0 || err.read.fd >= 0 || in.write.fd >= 0) {
        const Clock::time_point now = Clock::now();
        if (now >= deadline) {
            result.timedOut = true;
            break;
        }
        if (drainUntil && now >= *drainUntil) break;
        Clock::time_point until = std::min(deadline, now + kPollSlice);
        if (drainUntil) until = std::min(until, *drainUntil);
        const int waitMs = static_cast<int>(
            std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count()));

        pollfd fds[3];
        nfds_t n = 0;
        int outAt = -1, errAt = -1, inAt = -1;
        if (out.read.fd >= 0) outAt = static_cast<int>(n), fds[n++] = pollfd{out.read.fd, POLLIN, 0};
        if (err.read.fd >= 0) errAt = static_cast<int>(n), fds[n++] = pollfd{err.read.fd, POLLIN, 0};
        if (in.write.fd >= 0) inAt = static_cast<int>(n), fds[n++] = pollfd{in.write.fd, POLLOUT, 0};
        const int ready = ::poll(fds, n, waitMs);
        if (ready < 0 && errno != EINTR) break;
        if (ready > 0) {
            if (outAt >= 0 && fds[outAt].revents != 0 && !drain(out.read.fd, result.out, kMaxCapturedOut))
                out.read.reset();
            if (errAt >= 0 && fds[errAt].revents != 0 && !drain(err.read.fd, result.err, kMaxCapturedErr))
                err.read.reset();
            if (inAt >= 0 && (fds[inAt].revents & (POLLERR | POLLHUP)) != 0) {
                in.write.reset();  // the child closed its stdin: it takes no more
            } else if (inAt >= 0 && (fds[inAt].revents & POLLOUT) != 0) {
                const size_t chunk = std::min<size_t>(input->size() - written, 65536);
                const ssize_t w = ::write(in.write.fd, input->data() + written, chunk);
                if (w > 0) written += static_cast<size_t>(w);
                if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input->size()) in.write.reset();
            }
        }
        if (!drainUntil && leaderExited(pid)) {
            drainUntil = Clock::now() + kDrainAfterExit;
            in.write.reset();
        }
    }

    // The leader is not reaped yet, so the group id is still ours: nothing of the call survives.
    ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) {
        result.exitCode = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
    }
    return result;
}

}  // namespace paddock::virsh
