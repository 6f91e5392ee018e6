// Reading the native "create a VM" body (POST /api/v1/vms); sizes are checked against core's
// limits (limits.hpp). The earlier VM manager's POST /vms/create reads its body as that
// service's pydantic model did (compat_requests.hpp).
#pragma once

#include "paddock/core/domain_plan.hpp"
#include "paddock/core/result.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace paddock::server {

struct CreateBody {
    CreateVmRequest request;
    std::optional<std::string> site;  // Native only
};

// {name, template?, vcpus?, memory_mb?, owner?, start?, site?}; unknown fields are refused;
// absent sizes come from the template or the site. InvalidArgument naming the offending field.
Result<CreateBody> parseCreateBody(std::string_view body);

}  // namespace paddock::server
