#include "secret_scan.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

namespace paddock::test {

namespace {

std::string slurp(const std::filesystem::path& path) { return readProcFile(path.string()); }

}  // namespace

std::string readProcFile(const std::string& path) {
    // POSIX reads: a process that ends mid-read is an error code here, where libstdc++'s stream
    // buffers throw from underflow.
    std::string out;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        out.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
}

ProcessScanner::ProcessScanner(std::string secret, std::string watched, int periodMs)
    : secret_(std::move(secret)), watched_(std::move(watched)), periodMs_(periodMs) {
    thread_ = std::thread([this] {
        while (!stop_) {
            scanOnce();
            std::this_thread::sleep_for(std::chrono::milliseconds(periodMs_));
        }
    });
}

ProcessScanner::~ProcessScanner() { stop(); }

void ProcessScanner::stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

std::vector<std::string> ProcessScanner::hits() const {
    std::lock_guard lock(mutex_);
    return hits_;
}

void ProcessScanner::scanOnce() {
    bool sawWatched = false;
    std::error_code ec;
    // Processes come and go while the directory is read: errors end the scan, never throw.
    for (auto it = std::filesystem::directory_iterator("/proc", ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec)) {
        const auto& entry = *it;
        const std::string pid = entry.path().filename().string();
        if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
        // A process may end between listing and reading: an empty read is no finding.
        const std::string cmdline = slurp(entry.path() / "cmdline");
        const std::string environ = slurp(entry.path() / "environ");
        if (!watched_.empty() && cmdline.find(watched_) != std::string::npos) sawWatched = true;
        std::lock_guard lock(mutex_);
        if (cmdline.find(secret_) != std::string::npos) hits_.push_back(pid + " cmdline");
        if (environ.find(secret_) != std::string::npos) hits_.push_back(pid + " environ");
    }
    ++scans_;
    if (sawWatched) ++watchedSeen_;
}

std::vector<std::string> filesContaining(const std::string& dir, const std::string& secret) {
    std::vector<std::string> found;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(
             dir, std::filesystem::directory_options::skip_permission_denied, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (!it->is_regular_file(ec)) continue;
        if (slurp(it->path()).find(secret) != std::string::npos) found.push_back(it->path().string());
    }
    return found;
}

}  // namespace paddock::test
