#include "process_runner.hpp"

#include "secret_bytes.hpp"

#include <paddock/cpp/error.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace paddock::ansible {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t kReadChunk = 64 * 1024;
constexpr milliseconds kPollStep{100};
constexpr milliseconds kKillWait{2000};   // after SIGKILL, for the kernel to finish the kill
constexpr milliseconds kDrainWait{500};   // after the session is gone, for the pipes' last bytes

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    ~Fd() { reset(); }
    int get() const noexcept { return fd_; }
    void reset() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

// Through syscall(): Debian 12's glibc 2.36 <sys/pidfd.h> lacks extern "C", so its wrappers do not
// link from C++.
int pidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
void pidfdSignal(int pidfd, int sig) { ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0); }

[[noreturn]] void fail(const std::string& what) {
    throw pdk::Error(PDK_ERR_INTERNAL, what + ": " + std::strerror(errno));
}

// Cuts one stream into lines and pieces of at most kMaxLinePiece bytes. Output may carry the
// become secret before redaction, hence the wiped buffer.
class LineSplitter {
public:
    explicit LineSplitter(OutputStream stream) : stream_(stream) { line_.reserve(kMaxLinePiece); }

    void feed(const char* data, size_t n, const LineSink& sink) {
        while (n > 0) {
            const char* newline = static_cast<const char*>(std::memchr(data, '\n', n));
            size_t take = newline != nullptr ? static_cast<size_t>(newline - data) : n;
            n -= take;
            while (take > 0) {
                if (line_.size() == kMaxLinePiece) emit(sink, false);
                const size_t k = std::min(take, kMaxLinePiece - line_.size());
                line_.insert(line_.end(), data, data + k);
                data += k;
                take -= k;
            }
            if (newline != nullptr) {
                emit(sink, true);
                ++data;
                --n;
            }
        }
    }
    void finish(const LineSink& sink) {
        if (!line_.empty() || midLine_) emit(sink, true);
    }

private:
    void emit(const LineSink& sink, bool endOfLine) {
        sink(stream_, view(line_), endOfLine);
        line_.clear();
        midLine_ = !endOfLine;
    }

    OutputStream stream_;
    SecretBytes line_;
    bool midLine_ = false;
};

struct Pipe {
    Fd fd;
    LineSplitter lines;
};

struct ProcStat {
    char state = '?';
    pid_t pgrp = 0;
    pid_t session = 0;
};

bool readStat(pid_t pid, ProcStat& out) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char buf[1024];
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return false;
    buf[n] = '\0';
    // The command name sits in parentheses and may itself hold ')' or spaces: parse after the last.
    const char* close = std::strrchr(buf, ')');
    if (close == nullptr) return false;
    int ppid = 0, pgrp = 0, session = 0;
    if (std::sscanf(close + 1, " %c %d %d %d", &out.state, &ppid, &pgrp, &session) != 4) return false;
    out.pgrp = pgrp;
    out.session = session;
    return true;
}

bool inSession(const ProcStat& s, pid_t sid) { return s.state != 'Z' && (s.session == sid || s.pgrp == sid); }

// Live processes of the session (or process group) `sid`; zombies cannot be signalled usefully.
std::vector<pid_t> sessionMembers(pid_t sid) {
    std::vector<pid_t> members;
    DIR* dir = ::opendir("/proc");
    if (dir == nullptr) return members;
    while (const dirent* e = ::readdir(dir)) {
        char* end = nullptr;
        const long pid = std::strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || pid <= 0) continue;
        ProcStat s;
        if (readStat(static_cast<pid_t>(pid), s) && inSession(s, sid)) members.push_back(static_cast<pid_t>(pid));
    }
    ::closedir(dir);
    return members;
}

// Signals the whole session. The process group first, then every member that moved to a group
// of its own. A member is signalled through a pidfd taken before its session is checked again,
// so a pid that was reused in between is never hit. Safe while the leader is an unreaped zombie:
// until then no other process can get the session's id.
void signalSession(pid_t sid, int sig) {
    ::kill(-sid, sig);
    for (const pid_t pid : sessionMembers(sid)) {
        const int pidfd = pidfdOpen(pid);
        if (pidfd < 0) continue;
        ProcStat s;
        if (readStat(pid, s) && inSession(s, sid)) pidfdSignal(pidfd, sig);
        ::close(pidfd);
    }
}

// True when the child has exited; it stays a zombie (WNOWAIT) and keeps its pid reserved.
bool hasExited(pid_t pid) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
        return errno == ECHILD;  // reaped behind our back (SIGCHLD ignored): gone all the same
    }
    return info.si_pid == pid;
}

class Runner {
public:
    Runner(const ProcessSpec& spec, const LineSink& sink, const CancelCheck& cancelled)
        : spec_(spec), sink_(sink), cancelled_(cancelled) {}

    ~Runner() {
        if (pid_ > 0) {  // an exception left the child running: no survivors, no zombie
            signalSession(pid_, SIGKILL);
            int status = 0;
            while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {}
        }
        ::explicit_bzero(chunk_.data(), chunk_.size());
    }

    ProcessOutcome run() {
        ProcessOutcome out;
        const Clock::time_point start = Clock::now();
        out.spawnErrno = spawn();
        if (out.spawnErrno != 0) return out;
        pidfd_ = Fd(pidfdOpen(pid_));  // wakes the poll when the child exits; optional

        const Clock::time_point deadline = start + spec_.timeout;
        out.end = ProcessEnd::Exited;
        for (;;) {
            if (hasExited(pid_)) break;
            if (cancelled_ && cancelled_()) {
                out.end = ProcessEnd::Cancelled;
                break;
            }
            const Clock::time_point now = Clock::now();
            if (now >= deadline) {
                out.end = ProcessEnd::TimedOut;
                break;
            }
            pumpOnce(std::min<milliseconds>(kPollStep, std::chrono::ceil<milliseconds>(deadline - now)), true);
        }
        // Also after a normal exit: whatever the program left running in its session (a
        // background job, an ssh it forgot) must not outlive the run.
        if (out.end != ProcessEnd::Exited || !sessionMembers(pid_).empty()) stopSession();
        pumpUntil(Clock::now() + kDrainWait, [&] { return stdout_.fd.get() < 0 && stderr_.fd.get() < 0; });
        for (Pipe* p : {&stdout_, &stderr_}) p->lines.finish(sink_);

        int status = 0;
        pid_t reaped = -1;
        while ((reaped = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {}
        pid_ = -1;
        out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        if (out.end != ProcessEnd::Exited || reaped < 0) return out;  // killed by us, or status lost
        if (WIFEXITED(status)) {
            out.exitCode = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
            out.end = ProcessEnd::Signalled;
            out.signal = WTERMSIG(status);
        }
        return out;
    }

private:
    // Returns 0 or the errno of a failed spawn (the program could not be executed).
    int spawn() {
        int minFd = 3;
        for (const auto& [ours, theirs] : spec_.passFds) minFd = std::max(minFd, theirs + 1);

        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) fail("pipe");
        stdout_.fd = Fd(fds[0]);
        Fd outWrite(fds[1]);
        if (::pipe2(fds, O_CLOEXEC) != 0) fail("pipe");
        stderr_.fd = Fd(fds[0]);
        Fd errWrite(fds[1]);
        // Only our ends are non-blocking: O_NONBLOCK belongs to the open file, and the child's
        // ends must block as a terminal or file would.
        for (const Pipe* p : {&stdout_, &stderr_}) ::fcntl(p->fd.get(), F_SETFL, O_NONBLOCK);

        // Every descriptor the child gets is first moved above every number it is dup2'ed to, so
        // no dup2 in the child overwrites a source a later one still needs.
        const auto above = [&](int fd) {
            Fd high(::fcntl(fd, F_DUPFD_CLOEXEC, minFd));
            if (high.get() < 0) fail("fcntl(F_DUPFD_CLOEXEC)");
            return high;
        };
        const Fd outHigh = above(outWrite.get());
        const Fd errHigh = above(errWrite.get());
        std::vector<Fd> passHigh;
        for (const auto& [ours, theirs] : spec_.passFds) passHigh.push_back(above(ours));

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&actions, outHigh.get(), STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, errHigh.get(), STDERR_FILENO);
        for (size_t i = 0; i < passHigh.size(); ++i) {
            // dup2 leaves the new descriptor without close-on-exec: the child keeps it.
            posix_spawn_file_actions_adddup2(&actions, passHigh[i].get(), spec_.passFds[i].second);
        }
        posix_spawn_file_actions_addclosefrom_np(&actions, minFd);
        if (!spec_.workingDirectory.empty()) {
            posix_spawn_file_actions_addchdir_np(&actions, spec_.workingDirectory.c_str());
        }

        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        // A session of its own: one id to kill the program and all it starts with; and no
        // signal mask or ignored signal (SIGPIPE!) of the host process leaks into it.
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);

        std::vector<char*> argv, envp;
        for (const std::string& a : spec_.argv) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        for (const std::string& e : spec_.environment) envp.push_back(const_cast<char*>(e.c_str()));
        envp.push_back(nullptr);

        pid_t pid = -1;
        const int rc = ::posix_spawn(&pid, spec_.program.c_str(), &actions, &attr, argv.data(), envp.data());
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) return rc;
        pid_ = pid;
        return 0;
    }

    // Waits up to `wait` for output (or, with watchExit, for the child's exit) and hands on what
    // arrived.
    void pumpOnce(milliseconds wait, bool watchExit) {
        pollfd fds[3];
        Pipe* pipes[2];
        nfds_t n = 0;
        for (Pipe* p : {&stdout_, &stderr_}) {
            if (p->fd.get() < 0) continue;
            fds[n] = {p->fd.get(), POLLIN, 0};
            pipes[n++] = p;
        }
        const nfds_t pipeCount = n;
        if (watchExit && pidfd_.get() >= 0) fds[n++] = {pidfd_.get(), POLLIN, 0};
        if (n == 0) {
            std::this_thread::sleep_for(wait);
            return;
        }
        const int ready = ::poll(fds, n, static_cast<int>(std::max<milliseconds>(wait, milliseconds(0)).count()));
        if (ready <= 0) return;
        for (nfds_t i = 0; i < pipeCount; ++i) {
            if (fds[i].revents == 0) continue;
            const ssize_t got = ::read(fds[i].fd, chunk_.data(), chunk_.size());
            if (got > 0) {
                pipes[i]->lines.feed(chunk_.data(), static_cast<size_t>(got), sink_);
            } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                pipes[i]->fd.reset();
            }
        }
    }

    template <class Done>
    bool pumpUntil(Clock::time_point until, Done done) {
        for (;;) {
            if (done()) return true;
            const Clock::time_point now = Clock::now();
            if (now >= until) return false;
            pumpOnce(std::min<milliseconds>(milliseconds(50), std::chrono::ceil<milliseconds>(until - now)), false);
        }
    }

    bool sessionGone() { return hasExited(pid_) && sessionMembers(pid_).empty(); }

    // SIGTERM to the session, SIGKILL after the grace period; output keeps flowing meanwhile, so
    // nothing blocks on a full pipe.
    void stopSession() {
        signalSession(pid_, SIGTERM);
        if (pumpUntil(Clock::now() + spec_.killGrace, [&] { return sessionGone(); })) return;
        signalSession(pid_, SIGKILL);
        pumpUntil(Clock::now() + kKillWait, [&] { return sessionGone(); });
    }

    const ProcessSpec& spec_;
    const LineSink& sink_;
    const CancelCheck& cancelled_;
    pid_t pid_ = -1;
    Fd pidfd_;
    Pipe stdout_{Fd(), LineSplitter(OutputStream::Stdout)};
    Pipe stderr_{Fd(), LineSplitter(OutputStream::Stderr)};
    std::vector<char> chunk_ = std::vector<char>(kReadChunk);  // wiped in the destructor
};

}  // namespace

ProcessOutcome runProcess(const ProcessSpec& spec, const LineSink& sink, const CancelCheck& cancelled) {
    Runner runner(spec, sink, cancelled);
    return runner.run();
}

std::string findExecutable(const std::string& name, const std::string& path) {
    if (name.empty()) return {};
    if (name.find('/') != std::string::npos) return name;
    size_t at = 0;
    for (;;) {
        const size_t colon = path.find(':', at);
        const std::string dir = path.substr(at, colon == std::string::npos ? std::string::npos : colon - at);
        // An empty entry means the current directory: never searched, the host's cwd is arbitrary.
        if (!dir.empty()) {
            const std::string candidate = dir + "/" + name;
            struct stat st{};
            if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
                return candidate;
            }
        }
        if (colon == std::string::npos) return {};
        at = colon + 1;
    }
}

}  // namespace paddock::ansible
