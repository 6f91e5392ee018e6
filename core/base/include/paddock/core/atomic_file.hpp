// Small state files that survive a crash or a power loss whole: a reader (a restarted
// paddockd) finds either the previous content or the new one, never a torn mix.
#pragma once

#include "paddock/core/result.hpp"

#include <sys/types.h>

#include <string>
#include <string_view>

namespace paddock {

// Writes `content` to a temporary file beside `path`, fsyncs it, renames it over `path` and
// fsyncs the directory. `mode` applies to the new file. Unavailable (naming the path and the
// system's reason) on any failure; `path` is then unchanged.
Status writeFileAtomically(const std::string& path, std::string_view content, mode_t mode = 0644);

// The whole file. NotFound when it does not exist; Unavailable when it cannot be read.
Result<std::string> readWholeFile(const std::string& path);

}  // namespace paddock
