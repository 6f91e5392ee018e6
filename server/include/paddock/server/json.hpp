// The one way the server reads and writes JSON (RapidJSON underneath).
// JsonWriter: a streaming writer producing compact UTF-8 text; one per response, not shared.
// Readers: parse a request body into an object and read typed fields; every failure is an
// ErrorCode::InvalidArgument whose message names the offending field.
#pragma once

#include "paddock/core/result.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace paddock::server {

class JsonWriter {
public:
    JsonWriter() : writer_(buffer_) {}
    JsonWriter(const JsonWriter&) = delete;
    JsonWriter& operator=(const JsonWriter&) = delete;

    JsonWriter& beginObject() { writer_.StartObject(); return *this; }
    JsonWriter& endObject() { writer_.EndObject(); return *this; }
    JsonWriter& beginArray() { writer_.StartArray(); return *this; }
    JsonWriter& endArray() { writer_.EndArray(); return *this; }
    JsonWriter& key(std::string_view name);
    JsonWriter& null() { writer_.Null(); return *this; }
    JsonWriter& value(std::string_view text);
    JsonWriter& value(const char* text) { return value(std::string_view(text)); }
    JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
    JsonWriter& value(bool flag) { writer_.Bool(flag); return *this; }
    JsonWriter& value(double number) { writer_.Double(number); return *this; }
    template <std::integral T>
        requires(!std::same_as<T, bool>)
    JsonWriter& value(T number) {
        if constexpr (std::is_signed_v<T>) writer_.Int64(static_cast<int64_t>(number));
        else writer_.Uint64(static_cast<uint64_t>(number));
        return *this;
    }
    // A string, or null when `text` is empty.
    JsonWriter& stringOrNull(std::string_view text) { return text.empty() ? null() : value(text); }
    // Inserts already-serialised JSON text verbatim.
    JsonWriter& raw(std::string_view json);

    template <class T>
    JsonWriter& field(std::string_view name, const T& v) { key(name); return value(v); }

    std::string str() const { return std::string(buffer_.GetString(), buffer_.GetSize()); }

private:
    rapidjson::StringBuffer buffer_;
    rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

// Parses `body` as a JSON object. An empty body gives an empty object when `allowEmpty`.
Result<rapidjson::Document> parseJsonObject(std::string_view body, bool allowEmpty = false);

// InvalidArgument naming every member of `object` not in `known`.
Status rejectUnknownFields(const rapidjson::Value& object, std::initializer_list<std::string_view> known);

Result<std::string> requireString(const rapidjson::Value& object, const char* field);
// Absent or null -> nullopt.
Result<std::optional<std::string>> optionalString(const rapidjson::Value& object, const char* field);
// Absent or null -> nullopt; otherwise an integer in [min, max].
Result<std::optional<uint64_t>> optionalUint(const rapidjson::Value& object, const char* field,
                                             uint64_t min, uint64_t max);
Result<std::optional<bool>> optionalBool(const rapidjson::Value& object, const char* field);

}  // namespace paddock::server
