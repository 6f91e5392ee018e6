// Looking for a secret where it must never be: every process's command line and environment
// (/proc/*/cmdline, /proc/*/environ, scanned over and over on a thread while something runs),
// and every file under a directory. Root sees every process; another user only its own.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace paddock::test {

class ProcessScanner {
public:
    // Starts scanning for `secret` every `periodMs`; `watched` names a process to count (a
    // substring of its command line), so a test can tell the scan really saw the run.
    ProcessScanner(std::string secret, std::string watched, int periodMs = 20);
    ~ProcessScanner();
    ProcessScanner(const ProcessScanner&) = delete;
    ProcessScanner& operator=(const ProcessScanner&) = delete;

    // Stops scanning (idempotent); the counts are final afterwards.
    void stop();
    // "pid cmdline" or "pid environ" of each process where the secret was seen.
    std::vector<std::string> hits() const;
    // Scans in which a process matching `watched` was alive.
    int watchedSeen() const noexcept { return watchedSeen_; }
    int scans() const noexcept { return scans_; }

private:
    void scanOnce();
    std::string secret_;
    std::string watched_;
    int periodMs_;
    std::atomic<bool> stop_{false};
    std::atomic<int> scans_{0};
    std::atomic<int> watchedSeen_{0};
    mutable std::mutex mutex_;
    std::vector<std::string> hits_;
    std::thread thread_;
};

// The bytes of a /proc file (or any file); "" when it cannot be read (e.g. the process ended).
std::string readProcFile(const std::string& path);

// Regular files under `dir` (recursively) whose bytes contain `secret`.
std::vector<std::string> filesContaining(const std::string& dir, const std::string& secret);

}  // namespace paddock::test
