// Validation of user-supplied identifiers.
#pragma once

#include "paddock/core/result.hpp"

#include <cstddef>
#include <string_view>

namespace paddock {

// Three rules for VM names, each wider than the one before:
//
// New names (VMs made through the native API; pools, templates, snapshots): ^[a-z0-9][a-z0-9-]{0,62}$.
// `what` names the field in the error message, e.g. "VM name".
Status validateName(std::string_view name, std::string_view what = "name");

// New names through the earlier VM manager's POST /vms/create, which its clients generate:
// letters of both cases, digits, '_', '.', '-', 1-63 of them, not starting with '.' or '-'
// (^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$), e.g. "Student_1", "lab.vm".
Status validateLegacyName(std::string_view name, std::string_view what = "VM name");

// The name of a domain that exists already, whatever made it (the lookup of every VM route):
// anything libvirt accepts except what is unsafe to carry around: 1-255 bytes of valid UTF-8,
// no '/', no control characters (C0, DEL, C1), not "." or "..".
Status validateExistingName(std::string_view name, std::string_view what = "VM name");

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
