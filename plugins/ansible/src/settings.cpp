#include "settings.hpp"

#include <paddock/cpp/error.hpp>

#include <string_view>

namespace paddock::ansible {

AnsibleSettings parseSettings(const pdk_kv* pairs, size_t count) {
    AnsibleSettings s;
    for (size_t i = 0; i < count; ++i) {
        const std::string_view key = pairs[i].key;
        const std::string_view value = pairs[i].value;
        if (key == "command") {
            if (value.empty()) throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "setting command is empty");
            s.command = value;
        } else if (key == "verbosity") {
            if (value.size() != 1 || value[0] < '0' || value[0] > '4') {
                throw pdk::Error(PDK_ERR_INVALID_ARGUMENT,
                                 "setting verbosity must be 0 to 4, not \"" + std::string(value) + "\"");
            }
            s.verbosity = value[0] - '0';
        } else {
            throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "unknown setting \"" + std::string(key) +
                                                           "\" for org.paddock.ansible (known: command, verbosity)");
        }
    }
    return s;
}

}  // namespace paddock::ansible
