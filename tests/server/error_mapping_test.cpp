#include "paddock/server/error_mapping.hpp"
#include "paddock/server/json.hpp"

#include <catch2/catch.hpp>

using namespace paddock;
using namespace paddock::server;

namespace {

std::string header(const Response& response, const std::string& name) {
    for (const auto& [n, v] : response.headers)
        if (n == name) return v;
    return {};
}

}  // namespace

TEST_CASE("every ErrorCode maps to its HTTP status", "[error_mapping]") {
    CHECK(httpStatus(ErrorCode::InvalidArgument) == 400);
    CHECK(httpStatus(ErrorCode::Unauthorized) == 401);
    CHECK(httpStatus(ErrorCode::Forbidden) == 403);
    CHECK(httpStatus(ErrorCode::NotFound) == 404);
    CHECK(httpStatus(ErrorCode::AlreadyExists) == 409);
    CHECK(httpStatus(ErrorCode::Conflict) == 409);
    CHECK(httpStatus(ErrorCode::PayloadTooLarge) == 413);
    CHECK(httpStatus(ErrorCode::Unsupported) == 501);
    CHECK(httpStatus(ErrorCode::Unavailable) == 503);
    CHECK(httpStatus(ErrorCode::Timeout) == 504);
    CHECK(httpStatus(ErrorCode::Internal) == 500);
}

TEST_CASE("error responses have the {error:{code,message}} body", "[error_mapping]") {
    const auto response = errorResponse(makeError(ErrorCode::NotFound, "VM \"x\" not found"));
    CHECK(response.status == 404);
    CHECK(response.contentType == "application/json");
    auto doc = parseJsonObject(response.body);
    REQUIRE(doc.ok());
    const auto& error = doc.value()["error"];
    CHECK(std::string(error["code"].GetString()) == errorCodeId(ErrorCode::NotFound));
    CHECK(std::string(error["message"].GetString()) == "VM \"x\" not found");
    CHECK(header(response, "WWW-Authenticate").empty());
}

TEST_CASE("401 carries WWW-Authenticate: Bearer", "[error_mapping]") {
    const auto response = errorResponse(makeError(ErrorCode::Unauthorized, "missing token"));
    CHECK(response.status == 401);
    CHECK_THAT(header(response, "WWW-Authenticate"), Catch::StartsWith("Bearer"));
}

TEST_CASE("405 carries Allow and the method_not_allowed code", "[error_mapping]") {
    const auto response = methodNotAllowedResponse("PUT", "GET, POST");
    CHECK(response.status == 405);
    CHECK(header(response, "Allow") == "GET, POST");
    auto doc = parseJsonObject(response.body);
    REQUIRE(doc.ok());
    CHECK(std::string(doc.value()["error"]["code"].GetString()) == "method_not_allowed");
}

TEST_CASE("internal errors answer 500 with the exception's message", "[error_mapping]") {
    const auto response = internalErrorResponse("boom");
    CHECK(response.status == 500);
    auto doc = parseJsonObject(response.body);
    REQUIRE(doc.ok());
    CHECK(std::string(doc.value()["error"]["code"].GetString()) == errorCodeId(ErrorCode::Internal));
    CHECK_THAT(std::string(doc.value()["error"]["message"].GetString()), Catch::Contains("boom"));
}
