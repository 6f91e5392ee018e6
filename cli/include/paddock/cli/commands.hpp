// `paddock`'s commands: parses argv (args.hpp), settles URL and token (--url/PADDOCK_URL,
// --token-file/PADDOCK_TOKEN/--token), calls paddockd and prints tables (default), the API's
// JSON verbatim (-o json) or wider tables (-o wide). Errors go to stderr in plain words; the
// return value is the process's exit code (exit_codes.hpp).
#pragma once

#include <string>
#include <vector>

namespace paddock::cli {

// `args` without the program name.
int runCli(const std::vector<std::string>& args);

}  // namespace paddock::cli
