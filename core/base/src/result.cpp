#include "paddock/core/result.hpp"

namespace paddock {

std::string_view errorCodeId(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::InvalidArgument: return "invalid_argument";
        case ErrorCode::Unauthorized: return "unauthorized";
        case ErrorCode::Forbidden: return "forbidden";
        case ErrorCode::NotFound: return "not_found";
        case ErrorCode::AlreadyExists: return "already_exists";
        case ErrorCode::Conflict: return "conflict";
        case ErrorCode::PayloadTooLarge: return "payload_too_large";
        case ErrorCode::UnsupportedMediaType: return "unsupported_media_type";
        case ErrorCode::TooManyRequests: return "too_many_requests";
        case ErrorCode::Unsupported: return "unsupported";
        case ErrorCode::Unavailable: return "unavailable";
        case ErrorCode::Timeout: return "timeout";
        case ErrorCode::Internal: return "internal";
    }
    return "internal";
}

std::optional<ErrorCode> errorCodeFromId(std::string_view id) noexcept {
    for (int c = static_cast<int>(ErrorCode::InvalidArgument); c <= static_cast<int>(ErrorCode::Internal); ++c) {
        if (errorCodeId(static_cast<ErrorCode>(c)) == id) return static_cast<ErrorCode>(c);
    }
    return std::nullopt;
}

}  // namespace paddock
