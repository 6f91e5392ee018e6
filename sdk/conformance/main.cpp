// paddock-conformance: runs the Paddock backend contract against a backend plugin.
#include "kit.hpp"
#include "options.hpp"

#include <cstdio>

int main(int argc, char** argv) {
    using namespace paddock::conformance;
    const ParsedOptions parsed = parseOptions(argc, argv);
    if (!parsed.options) {
        if (parsed.error.empty()) {
            std::fputs(usageText(), stdout);
            return 0;
        }
        std::fprintf(stderr, "paddock-conformance: %s\n%s", parsed.error.c_str(), usageText());
        return 2;
    }
    return runKit(*parsed.options);
}
