// The one place an error becomes an HTTP answer. Body: {"error":{"code":..., "message":...}}, or
// on the compatibility routes FastAPI's {"detail": "<message>"} (ErrorStyle::FastApi), as the
// earlier Python services answered (COMPAT.md). Other documents that report an error (an
// operation's outcome) embed the same object.
#pragma once

#include "paddock/core/json_writer.hpp"
#include "paddock/core/result.hpp"
#include "paddock/server/http_types.hpp"

#include <string>
#include <string_view>

namespace paddock::server {

// InvalidArgument 400, Unauthorized 401, Forbidden 403, NotFound 404, AlreadyExists 409,
// Conflict 409, PayloadTooLarge 413, UnsupportedMediaType 415, TooManyRequests 429, Unsupported 501, Unavailable 503, Timeout 504, Internal 500.
int httpStatus(ErrorCode code) noexcept;

// {"code": ..., "message": ...}: the error object of every error body.
void writeErrorObject(JsonWriter& json, std::string_view code, std::string_view message);
void writeErrorObject(JsonWriter& json, const Error& error);

// How a route words its errors: Paddock's error object, or FastAPI's "detail" (the status codes
// are the same either way).
enum class ErrorStyle { Paddock, FastApi };

// The response for `error`; Unauthorized carries WWW-Authenticate: Bearer.
Response errorResponse(const Error& error, ErrorStyle style = ErrorStyle::Paddock);

// 405 with an Allow header (the only error with no ErrorCode: it is about HTTP, not Paddock).
// FastAPI's wording is {"detail": "Method Not Allowed"}.
Response methodNotAllowedResponse(const std::string& method, const std::string& allow,
                                  ErrorStyle style = ErrorStyle::Paddock);

// 500 for an exception that escaped a handler; the message is the exception's what().
Response internalErrorResponse(std::string_view what, ErrorStyle style = ErrorStyle::Paddock);

}  // namespace paddock::server
