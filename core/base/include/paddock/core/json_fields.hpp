// Reading the fields of a JSON record in one of paddockd's own state files (operations.json, a
// backup index). Each reader throws JsonFieldError naming the field and what is wrong with it;
// the file's loader catches it and returns one error for the file (a malformed state file is an
// expected failure there, reported as a value). Client input never comes through here:
// server/json.hpp answers that with Results.
#pragma once

#include "paddock/core/iso_time.hpp"

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>

namespace paddock::json_fields {

struct JsonFieldError {
    std::string what;
};

// The member `key` of `object`; JsonFieldError when `object` is no object or lacks it.
const rapidjson::Value& member(const rapidjson::Value& object, const char* key);
std::string text(const rapidjson::Value& object, const char* key);
uint64_t unsignedNumber(const rapidjson::Value& object, const char* key);
bool boolean(const rapidjson::Value& object, const char* key);
double number(const rapidjson::Value& object, const char* key);
// An ISO 8601 time (iso_time.hpp); optionalTime also takes null.
SystemTime time(const rapidjson::Value& object, const char* key);
std::optional<SystemTime> optionalTime(const rapidjson::Value& object, const char* key);

}  // namespace paddock::json_fields
