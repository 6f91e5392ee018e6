// The libvirt-qemu backend's tests: the shared plugin helpers (tests/plugins/support) with
// paddock_libvirt_qemu.so as the backend.
#pragma once

#include "../support/backend_plugin.hpp"

#include <string>

namespace lvqtest {

using pdktest::collectDomain;
using pdktest::collectKv;
using pdktest::collectName;
using pdktest::diskless;
using pdktest::DomainView;
using pdktest::Err;

inline const pdk_plugin_descriptor& descriptor() { return pdktest::descriptorOf("paddock_libvirt_qemu.so"); }
inline const pdk_backend_vtable& vt() { return *static_cast<const pdk_backend_vtable*>(descriptor().vtable); }

class Conn : public pdktest::Conn {
public:
    explicit Conn(const char* uri) : pdktest::Conn(uri, "paddock_libvirt_qemu.so") {}
};

}  // namespace lvqtest
