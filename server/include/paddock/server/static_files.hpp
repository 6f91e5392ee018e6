// Serving files from a directory (front-end assets from npm). Stateless and thread-safe.
#pragma once

#include "paddock/core/result.hpp"
#include "paddock/server/http_types.hpp"
#include "paddock/server/router.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace paddock::server {

// Content type by file extension; application/octet-stream when unknown.
std::string_view contentTypeFor(std::string_view fileName) noexcept;

// The file `relative` under `root`. NotFound for a missing file and for anything that could
// leave `root`: "..", absolute paths, backslashes, NUL, hidden names, or a symlink pointing out.
Result<Response> serveFile(const std::string& root, std::string_view relative);

// A page whose URL may carry a ticket or token (console, replay): served from `webDir` with
// no-store and no-referrer, so the URL stays out of caches and other sites' Referer headers.
Result<Response> servePrivatePage(const std::string& webDir, std::string_view page);

// GET `<prefix>/{file}`: front-end assets from npm, looked up in each of `dirs` (relative to
// <webDir>/node_modules) in order. A missing file is a 404 that names `package` and says that
// scripts/setup.sh installs it.
void addAssetRoute(Router& router, const std::string& prefix, const std::string& webDir, std::vector<std::string> dirs,
                   const std::string& package);

}  // namespace paddock::server
