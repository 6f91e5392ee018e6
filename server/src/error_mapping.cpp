#include "paddock/server/error_mapping.hpp"

#include "paddock/server/json.hpp"

namespace paddock::server {

int httpStatus(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::InvalidArgument: return 400;
        case ErrorCode::Unauthorized: return 401;
        case ErrorCode::Forbidden: return 403;
        case ErrorCode::NotFound: return 404;
        case ErrorCode::AlreadyExists: return 409;
        case ErrorCode::Conflict: return 409;
        case ErrorCode::PayloadTooLarge: return 413;
        case ErrorCode::UnsupportedMediaType: return 415;
        case ErrorCode::TooManyRequests: return 429;
        case ErrorCode::Unsupported: return 501;
        case ErrorCode::Unavailable: return 503;
        case ErrorCode::Timeout: return 504;
        case ErrorCode::Internal: return 500;
    }
    return 500;
}

void writeErrorObject(JsonWriter& json, std::string_view code, std::string_view message) {
    json.beginObject().field("code", code).field("message", message).endObject();
}

void writeErrorObject(JsonWriter& json, const Error& error) {
    writeErrorObject(json, errorCodeId(error.code), error.message);
}

namespace {

Response errorBody(int status, std::string_view code, std::string_view message) {
    JsonWriter json;
    json.beginObject().key("error");
    writeErrorObject(json, code, message);
    json.endObject();
    return jsonResponse(status, json.str());
}

Response detailBody(int status, std::string_view message) {
    JsonWriter json;
    json.beginObject().field("detail", message).endObject();
    return jsonResponse(status, json.str());
}

Response styledBody(ErrorStyle style, int status, std::string_view code, std::string_view message) {
    return style == ErrorStyle::FastApi ? detailBody(status, message) : errorBody(status, code, message);
}

}  // namespace

Response errorResponse(const Error& error, ErrorStyle style) {
    Response response = styledBody(style, httpStatus(error.code), errorCodeId(error.code), error.message);
    if (error.code == ErrorCode::Unauthorized)
        response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"paddock\"");
    return response;
}

Response methodNotAllowedResponse(const std::string& method, const std::string& allow, ErrorStyle style) {
    Response response =
        style == ErrorStyle::FastApi
            ? detailBody(405, "Method Not Allowed")
            : errorBody(405, "method_not_allowed", "method " + method + " is not allowed here; allowed: " + allow);
    response.headers.emplace_back("Allow", allow);
    return response;
}

Response internalErrorResponse(std::string_view what, ErrorStyle style) {
    return styledBody(style, 500, errorCodeId(ErrorCode::Internal), "internal error: " + std::string(what));
}

}  // namespace paddock::server
