#include "options.hpp"

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace paddock::conformance {

bool Options::runs(const std::string& group) const {
    return only.empty() || std::find(only.begin(), only.end(), group) != only.end();
}

const char* usageText() {
    return "usage: paddock-conformance --plugin PATH --uri URI [--only GROUP[,GROUP...]] [--id PLUGIN_ID]\n"
           "                           [--base-image PATH --pool NAME] [--expect-unavailable]\n"
           "                           [--unavailable-exit CODE] [--waive GROUP/CHECK]...\n"
           "Runs the Paddock backend contract (SDK 1.6) against a backend plugin and prints one line per\n"
           "check: PASS group/check, FAIL group/check: why, SKIP group/check: why.\n"
           "groups: abi args lifecycle structs ownership sinks threads events (--only may repeat)\n"
           "  --id ID                 the plugin of a multi-plugin library (default: the only/first backend)\n"
           "  --base-image, --pool    base image and storage pool: lifecycle and structs also create overlays\n"
           "  --expect-unavailable    the URI cannot be served here: open must fail with PDK_ERR_UNAVAILABLE\n"
           "                          and a reason (printed); the groups that need a connection are skipped\n"
           "  --unavailable-exit CODE when open fails with PDK_ERR_UNAVAILABLE, SKIP and exit with CODE\n"
           "  --waive GROUP/CHECK     a known violation: its FAIL prints as WAIVED and does not fail the run\n"
           "exit status: 0 no check failed, 1 a check failed, 2 usage error\n";
}

namespace {

bool splitGroups(std::string_view list, std::vector<std::string>& out, std::string& error) {
    while (!list.empty()) {
        const size_t comma = list.find(',');
        const std::string group(list.substr(0, comma));
        if (std::find(kGroups.begin(), kGroups.end(), group) == kGroups.end()) {
            error = "unknown group '" + group + "'";
            return false;
        }
        out.push_back(group);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return true;
}

}  // namespace

ParsedOptions parseOptions(int argc, char** argv) {
    Options o;
    ParsedOptions result;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") return result;
        if (arg == "--expect-unavailable") {
            o.expectUnavailable = true;
            continue;
        }
        if (i + 1 >= argc) {
            result.error = std::string(arg) + " needs a value";
            return result;
        }
        const std::string value = argv[++i];
        if (arg == "--plugin") {
            o.plugin = value;
        } else if (arg == "--uri") {
            o.uri = value;
        } else if (arg == "--id") {
            o.id = value;
        } else if (arg == "--only") {
            if (!splitGroups(value, o.only, result.error)) return result;
        } else if (arg == "--base-image") {
            o.baseImage = value;
        } else if (arg == "--waive") {
            o.waived.push_back(value);
        } else if (arg == "--pool") {
            o.pool = value;
        } else if (arg == "--unavailable-exit") {
            char* end = nullptr;
            const long code = std::strtol(value.c_str(), &end, 10);
            if (value.empty() || *end != '\0' || code < 0 || code > 255) {
                result.error = "--unavailable-exit needs an exit code 0-255";
                return result;
            }
            o.unavailableExit = static_cast<int>(code);
        } else {
            result.error = "unknown option " + std::string(arg);
            return result;
        }
    }
    if (o.plugin.empty() || o.uri.empty()) {
        result.error = "--plugin and --uri are required";
        return result;
    }
    if (o.baseImage.empty() != o.pool.empty()) {
        result.error = "--base-image and --pool go together";
        return result;
    }
    result.options = std::move(o);
    return result;
}

}  // namespace paddock::conformance
