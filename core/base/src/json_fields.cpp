#include "paddock/core/json_fields.hpp"

namespace paddock::json_fields {

namespace {

JsonFieldError wrongType(const char* key, const char* expected) {
    return JsonFieldError{std::string("'") + key + "' is not " + expected};
}

}  // namespace

const rapidjson::Value& member(const rapidjson::Value& object, const char* key) {
    if (!object.IsObject() || !object.HasMember(key)) throw JsonFieldError{std::string("missing '") + key + "'"};
    return object[key];
}

std::string text(const rapidjson::Value& object, const char* key) {
    const auto& v = member(object, key);
    if (!v.IsString()) throw wrongType(key, "a string");
    return std::string(v.GetString(), v.GetStringLength());
}

uint64_t unsignedNumber(const rapidjson::Value& object, const char* key) {
    const auto& v = member(object, key);
    if (!v.IsUint64()) throw wrongType(key, "an unsigned integer");
    return v.GetUint64();
}

bool boolean(const rapidjson::Value& object, const char* key) {
    const auto& v = member(object, key);
    if (!v.IsBool()) throw wrongType(key, "a boolean");
    return v.GetBool();
}

double number(const rapidjson::Value& object, const char* key) {
    const auto& v = member(object, key);
    if (!v.IsNumber()) throw wrongType(key, "a number");
    return v.GetDouble();
}

SystemTime time(const rapidjson::Value& object, const char* key) {
    auto t = parseIsoTime(text(object, key));
    if (!t) throw wrongType(key, "a time");
    return *t;
}

std::optional<SystemTime> optionalTime(const rapidjson::Value& object, const char* key) {
    if (member(object, key).IsNull()) return std::nullopt;
    return time(object, key);
}

}  // namespace paddock::json_fields
