// The virsh backend's tests: the shared plugin helpers (tests/plugins/support) with the virsh
// backend as default, and helpers for fake virsh scripts.
#pragma once

#include "../support/backend_plugin.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <string>

namespace virshtest {

using pdktest::collectDomain;
using pdktest::collectKv;
using pdktest::collectName;
using pdktest::descriptorOf;
using pdktest::diskless;
using pdktest::DomainView;
using pdktest::Err;

inline const pdk_plugin_descriptor& descriptor() { return descriptorOf("paddock_virsh.so"); }
inline const pdk_backend_vtable& vt() { return *static_cast<const pdk_backend_vtable*>(descriptor().vtable); }

// A connection of the backend in `file` (default: the virsh backend).
class Conn : public pdktest::Conn {
public:
    explicit Conn(const char* uri, const std::string& file = "paddock_virsh.so") : pdktest::Conn(uri, file) {}
};

// Sets an environment variable for a scope (the backend reads its settings at open).
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        ::setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (old_.empty())
            ::unsetenv(name_);
        else
            ::setenv(name_, old_.c_str(), 1);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    std::string old_;
};

// Writes an executable /bin/sh script `body` as `path`.
inline void writeScript(const std::string& path, const std::string& body) {
    paddock::test::writeFile(path, "#!/bin/sh\n" + body);
    ::chmod(path.c_str(), 0755);
}

// What `virsh version` prints, for fake virsh scripts.
inline const char* kFakeVersion =
    "Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\nUsing API: QEMU 9.0.0\n"
    "Running hypervisor: QEMU 7.2.0\n";

}  // namespace virshtest
