// Validation of user-supplied identifiers.
#pragma once

#include "paddock/core/result.hpp"

#include <string_view>

namespace paddock {

// VM names (and pool, template, snapshot names): ^[a-z0-9][a-z0-9-]{0,62}$.
// `what` names the field in the error message, e.g. "VM name".
Status validateName(std::string_view name, std::string_view what = "name");

}  // namespace paddock
