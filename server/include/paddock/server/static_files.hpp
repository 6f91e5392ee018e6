// Serving files from a directory (front-end assets from npm). Stateless and thread-safe.
#pragma once

#include "paddock/core/result.hpp"
#include "paddock/server/http_types.hpp"

#include <string>
#include <string_view>

namespace paddock::server {

// Content type by file extension; application/octet-stream when unknown.
std::string_view contentTypeFor(std::string_view fileName) noexcept;

// The file `relative` under `root`. NotFound for a missing file and for anything that could
// leave `root`: "..", absolute paths, backslashes, NUL, hidden names, or a symlink pointing out.
Result<Response> serveFile(const std::string& root, std::string_view relative);

}  // namespace paddock::server
