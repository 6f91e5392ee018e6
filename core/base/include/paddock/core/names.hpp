// Validation of user-supplied identifiers.
#pragma once

#include "paddock/core/result.hpp"

#include <cstddef>
#include <string_view>

namespace paddock {

// VM names (and pool, template, snapshot names): ^[a-z0-9][a-z0-9-]{0,62}$.
// `what` names the field in the error message, e.g. "VM name".
Status validateName(std::string_view name, std::string_view what = "name");

// Free text that names a person or a client (owners, idempotency keys): valid UTF-8, no
// control characters (C0, DEL, C1), at most `maxBytes` bytes; empty only when not `required`.
// `what` names the field in the error message.
Status validateLabel(std::string_view text, std::string_view what, size_t maxBytes, bool required);

// The one rule for owners, wherever an owner is given (VMs, leases, tokens).
inline constexpr size_t kMaxOwnerBytes = 128;
inline Status validateOwner(std::string_view owner, bool required) {
    return validateLabel(owner, "owner", kMaxOwnerBytes, required);
}

}  // namespace paddock
