// The command line of paddock-conformance.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace paddock::conformance {

// Every group, in the order they run.
inline const std::vector<std::string> kGroups = {"abi",       "args",  "lifecycle", "structs",
                                                 "ownership", "sinks", "threads",   "events"};

struct Options {
    std::string plugin;  // path of the library
    std::string uri;
    std::string id;                 // empty: the only or first backend of the library
    std::vector<std::string> only;  // empty: every group
    std::string baseImage;          // with pool: overlays in lifecycle and structs
    std::string pool;
    bool expectUnavailable = false;      // open must fail with PDK_ERR_UNAVAILABLE
    std::vector<std::string> waived;     // --waive CHECK: its FAIL is reported as WAIVED
    std::optional<int> unavailableExit;  // open failing with PDK_ERR_UNAVAILABLE: SKIP and exit with it

    bool runs(const std::string& group) const;
};

struct ParsedOptions {
    std::optional<Options> options;  // empty: usage error or --help
    std::string error;               // empty with --help
};

ParsedOptions parseOptions(int argc, char** argv);
const char* usageText();

}  // namespace paddock::conformance
