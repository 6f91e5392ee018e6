// The one way the server reads JSON request bodies (RapidJSON underneath); it writes with
// core's JsonWriter (paddock/core/json_writer.hpp). Readers parse a body into an object and
// read typed fields; every failure is an ErrorCode::InvalidArgument naming the field.
#pragma once

#include "paddock/core/json_writer.hpp"
#include "paddock/core/result.hpp"

#include <rapidjson/document.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace paddock::server {

// Arrays and objects nest at most this deep in a request body.
inline constexpr size_t kMaxJsonDepth = 64;

// Parses `body` as a JSON object. An empty body gives an empty object when `allowEmpty`.
// InvalidArgument for invalid JSON or UTF-8, nesting deeper than kMaxJsonDepth, a duplicate key
// in any object, or a value that is not an object.
Result<rapidjson::Document> parseJsonObject(std::string_view body, bool allowEmpty = false);

// Parses `body` as any JSON value, with the checks of parseJsonObject but the last; an empty body
// is invalid JSON. On a syntax error `*errorOffset` (when given) is where it was found, else 0.
Result<rapidjson::Document> parseJsonValue(std::string_view body, size_t* errorOffset = nullptr);

// Whether `body` holds nothing but JSON whitespace.
bool isBlank(std::string_view body) noexcept;

// `value` as compact JSON text.
std::string jsonText(const rapidjson::Value& value);

// InvalidArgument naming every member of `object` not in `known`.
Status rejectUnknownFields(const rapidjson::Value& object, std::initializer_list<std::string_view> known);

Result<std::string> requireString(const rapidjson::Value& object, const char* field);
// Absent or null -> nullopt.
Result<std::optional<std::string>> optionalString(const rapidjson::Value& object, const char* field);
// Absent or null -> nullopt; otherwise an integer in [min, max].
Result<std::optional<uint64_t>> optionalUint(const rapidjson::Value& object, const char* field, uint64_t min,
                                             uint64_t max);
Result<std::optional<bool>> optionalBool(const rapidjson::Value& object, const char* field);

}  // namespace paddock::server
