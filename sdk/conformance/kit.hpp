// One run of paddock-conformance: load, handshake, open, the groups, clean-up, summary.
#pragma once

#include "options.hpp"

namespace paddock::conformance {

// The exit status: 0 when no check failed, 1 otherwise (or --unavailable-exit's code).
int runKit(const Options& options);

}  // namespace paddock::conformance
