// server/openapi/openapi.json, embedded at build time so paddockd does not depend on its cwd.
#pragma once

#include <string_view>

namespace paddock::server {

std::string_view openApiDocument() noexcept;

}  // namespace paddock::server
