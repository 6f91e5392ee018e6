#include "paddock/cli/exit_codes.hpp"

namespace paddock::cli {

ExitCode exitCodeForStatus(int httpStatus) noexcept {
    if (httpStatus >= 200 && httpStatus < 300) return ExitCode::Ok;
    if (httpStatus == 401 || httpStatus == 403) return ExitCode::Auth;
    if (httpStatus == 404) return ExitCode::NotFound;
    if (httpStatus == 409) return ExitCode::Conflict;
    if (httpStatus >= 500 && httpStatus < 600) return ExitCode::Unavailable;
    return ExitCode::Failure;
}

ExitCode exitCodeForError(ErrorCode code) noexcept {
    switch (code) {
    case ErrorCode::Unauthorized:
    case ErrorCode::Forbidden:
        return ExitCode::Auth;
    case ErrorCode::NotFound:
        return ExitCode::NotFound;
    case ErrorCode::AlreadyExists:
    case ErrorCode::Conflict:
        return ExitCode::Conflict;
    case ErrorCode::Unsupported:
    case ErrorCode::Unavailable:
    case ErrorCode::Timeout:
    case ErrorCode::Internal:
        return ExitCode::Unavailable;
    case ErrorCode::InvalidArgument:
    case ErrorCode::PayloadTooLarge:
    case ErrorCode::UnsupportedMediaType:
    case ErrorCode::TooManyRequests:
        return ExitCode::Failure;
    }
    return ExitCode::Failure;
}

ExitCode exitCodeForErrorId(std::string_view code) noexcept {
    const auto known = errorCodeFromId(code);
    return known ? exitCodeForError(*known) : ExitCode::Failure;
}

std::string exitCodeHelp() {
    return "Exit codes:\n"
           "  0  success\n"
           "  1  any other failure (the server refused the input, an unexpected answer)\n"
           "  2  usage error (unknown command or option, missing argument)\n"
           "  3  authentication or permission refused (HTTP 401, 403)\n"
           "  4  not found (HTTP 404)\n"
           "  5  conflict (HTTP 409: exists already, wrong state)\n"
           "  6  server or backend unavailable (HTTP 5xx, connection refused, timeout)\n";
}

}  // namespace paddock::cli
