// Helpers shared by all test binaries.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace paddock::test {

// A fresh directory under the system temp dir, removed (recursively) on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const noexcept { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
uint16_t freeLoopbackPort();

std::string readFile(const std::string& path);
// What `command` (run by /bin/sh) printed on stdout, all bytes; its exit status is ignored.
// Throws when it cannot run.
std::string commandOutput(const std::string& command);
void writeFile(const std::string& path, const std::string& text);

// PADDOCK_PLUGIN_DIR etc. as std::string.
std::string paddockdPath();  // the paddockd binary of this build
std::string pluginDir();
std::string fixturePluginDir();
std::string sourceDir();
std::string binaryDir();

// Polls `condition` every `interval` until it holds (true) or `timeout` passes (false, after
// one last look).
bool eventually(const std::function<bool()>& condition, std::chrono::seconds timeout = std::chrono::seconds(60),
                std::chrono::milliseconds interval = std::chrono::milliseconds(50));

// True when `uri` (e.g. qemu:///system) answers.
bool libvirtReachable(const std::string& uri);

// The exit code with which a test binary tells ctest that it skipped (its SKIP_RETURN_CODE).
int skipExitCode();

// Returns when `uri` answers. Otherwise fails the test (REQUIRE) naming how to start libvirtd,
// unless PADDOCK_ALLOW_SKIP=1 is set: then the whole binary exits with skipExitCode() at once,
// so ctest reports it as skipped, never as passed. Call it before starting anything.
void requireLibvirt(const std::string& uri);

}  // namespace paddock::test
