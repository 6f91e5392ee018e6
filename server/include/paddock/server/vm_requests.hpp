// Reading a "create a VM" body, once for both routes that take one: the native POST /api/v1/vms
// and the earlier VM manager's POST /vms/create (COMPAT.md). They differ only in the rules
// below; sizes are checked against core's limits (limits.hpp) in both.
#pragma once

#include "paddock/core/domain_plan.hpp"
#include "paddock/core/result.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace paddock::server {

enum class CreateDialect {
    // {name, template?, vcpus?, memory_mb?, owner?, start?, site?}; unknown fields are refused;
    // absent sizes come from the template or the site.
    Native,
    // {name, memory_mb? (>= 256, default 512), vcpus? (default 1), owner?}; unknown fields are
    // ignored, as the old service did; the VM is always started.
    Compat,
};

struct CreateBody {
    CreateVmRequest request;
    std::optional<std::string> site;  // Native only
};

// InvalidArgument naming the offending field.
Result<CreateBody> parseCreateBody(std::string_view body, CreateDialect dialect);

}  // namespace paddock::server
