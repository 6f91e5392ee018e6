#include "daemon_process.hpp"

#include "test_support.hpp"

#include <Poco/Net/StreamSocket.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace paddock::test {

namespace {

pid_t spawn(const std::vector<std::string>& args, const std::string& outputFile,
            const std::vector<std::string>& env = {}) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (char** e = environ; *e != nullptr; ++e)
        if (std::strncmp(*e, "PADDOCK_", 8) != 0) envp.push_back(*e);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        const int fd = ::open(outputFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            ::close(fd);
        }
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    return pid;
}

int exitCode(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

// Waits up to `timeoutS`; -1 when still running.
int waitFor(pid_t pid, int timeoutS) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutS);
    while (true) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return exitCode(status);
        if (r < 0) return -1;
        if (std::chrono::steady_clock::now() > deadline) return -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

}  // namespace

int runToCompletion(const std::vector<std::string>& args, std::string& output, const std::string& outputFile) {
    const pid_t pid = spawn(args, outputFile);
    const int code = waitFor(pid, 60);
    if (code < 0) {
        ::kill(pid, SIGKILL);
        waitFor(pid, 10);
    }
    output = readFile(outputFile);
    return code;
}

DaemonProcess::DaemonProcess(const std::vector<std::string>& args, std::string logFile, uint16_t port,
                             int startTimeoutS, const std::vector<std::string>& env)
    : logFile_(std::move(logFile)) {
    pid_ = spawn(args, logFile_, env);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(startTimeoutS);
    while (true) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("paddockd exited with code " + std::to_string(exitCode(status)) +
                                     " before answering; its log:\n" + log());
        }
        try {
            Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
            return;  // listening; /healthz is served from the moment the socket accepts
        } catch (const Poco::Exception&) {}
        if (std::chrono::steady_clock::now() > deadline) {
            stop(5);
            throw std::runtime_error("paddockd did not listen on port " + std::to_string(port) + "; its log:\n" +
                                     log());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

DaemonProcess::~DaemonProcess() { stop(); }

int DaemonProcess::stop(int graceS) {
    if (pid_ < 0) return -1;
    ::kill(pid_, SIGTERM);
    int code = waitFor(pid_, graceS);
    if (code < 0) {
        ::kill(pid_, SIGKILL);
        code = waitFor(pid_, 10);
    }
    pid_ = -1;
    return code;
}

int DaemonProcess::waitExit(int timeoutS) {
    if (pid_ < 0) return -1;
    const int code = waitFor(pid_, timeoutS);
    if (code >= 0) pid_ = -1;
    return code;
}

std::string DaemonProcess::log() const {
    try {
        return readFile(logFile_);
    } catch (const std::exception&) {
        return {};
    }
}

}  // namespace paddock::test
