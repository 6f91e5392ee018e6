// Every vtable entry that acts on one domain named by the caller, as one uniform call
// (name, flags) with valid other arguments: sinks through probes, outputs in locals. The args
// and sinks groups run the same checks over all of them.
#pragma once

#include "session.hpp"

#include <functional>
#include <string>
#include <vector>

namespace paddock::conformance {

struct NameOp {
    std::string entry;  // the vtable field's name
    bool takesSink = false;
    std::function<pdk_status(Session&, const char* name, uint32_t flags, ErrorRecord& err)> call;
};

// The non-NULL ones of the plugin, in vtable order.
std::vector<NameOp> nameOps(const pdk_backend_vtable& vt);

}  // namespace paddock::conformance
