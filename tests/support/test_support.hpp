// Helpers shared by all test binaries.
#pragma once

#include <cstdint>
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
void writeFile(const std::string& path, const std::string& text);

// What a shell command prints on stdout (its exit status is not checked). Throws when it cannot run.
std::string commandOutput(const std::string& command);

// PADDOCK_PLUGIN_DIR etc. as std::string.
std::string paddockdPath();   // the paddockd binary of this build
std::string pluginDir();
std::string fixturePluginDir();
std::string sourceDir();
std::string binaryDir();

// True when `uri` (e.g. qemu:///system) answers.
bool libvirtReachable(const std::string& uri);

// The exit code with which a test binary tells ctest that it skipped (its SKIP_RETURN_CODE).
int skipExitCode();

// Returns when `uri` answers. Otherwise fails the test (REQUIRE) naming how to start libvirtd,
// unless PADDOCK_ALLOW_SKIP=1 is set: then the whole binary exits with skipExitCode() at once,
// so ctest reports it as skipped, never as passed. Call it before starting anything.
void requireLibvirt(const std::string& uri);

}  // namespace paddock::test
