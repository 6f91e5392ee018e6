// The exit codes of `paddock`, one per error class, as `paddock --help` documents them.
#pragma once

#include "paddock/core/result.hpp"

#include <string>
#include <string_view>

namespace paddock::cli {

enum class ExitCode : int {
    Ok = 0,
    Failure = 1,      // anything else: bad input the server refused (400/413/415), a broken answer
    Usage = 2,        // wrong verb, flag or argument count
    Auth = 3,         // 401, 403
    NotFound = 4,     // 404
    Conflict = 5,     // 409
    Unavailable = 6,  // 5xx, connection refused or lost, timeouts
};

// The exit code for an HTTP status the server answered with (2xx: Ok).
ExitCode exitCodeForStatus(int httpStatus) noexcept;
// The exit code for an error code of the API's {"error":{"code"}} (e.g. "not_found"), for
// failures that arrive without an HTTP status (the terminal's error frame); unknown: Failure.
ExitCode exitCodeForErrorId(std::string_view code) noexcept;
// The exit code for a client-side failure (ErrorCode as core spells it): Unavailable for
// connection failures and timeouts, Usage for InvalidArgument, and so on.
ExitCode exitCodeForError(ErrorCode code) noexcept;

// The "Exit codes:" block of `paddock --help`.
std::string exitCodeHelp();

}  // namespace paddock::cli
