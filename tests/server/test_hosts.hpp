// Hypervisors for tests that need several independent sites: libvirt's test driver opened on a
// node XML file (test:///path/host.xml) is a host of its own, empty but for the storage pool
// "default-pool" (/default-pool), and gone when paddockd exits.
#pragma once

#include "test_support.hpp"

#include <string>

namespace paddock::test {

inline constexpr const char* kEmptyTestHost = R"(<?xml version="1.0"?>
<node>
  <pool type="dir">
    <name>default-pool</name>
    <target>
      <path>/default-pool</path>
    </target>
  </pool>
</node>
)";

// Writes an empty host as `dir`/host-<name>.xml and returns its URI.
inline std::string emptyTestHost(const TempDir& dir, const std::string& name) {
    const std::string node = dir.file("host-" + name + ".xml");
    writeFile(node, kEmptyTestHost);
    return "test://" + node;
}

}  // namespace paddock::test
