// The one JSON writer of Paddock (RapidJSON underneath): a streaming writer producing compact
// UTF-8 text. Used for API responses, WebSocket frames and the audit log alike. One per
// document; not thread-safe.
#pragma once

#include "paddock/core/enum_names.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>
#include <type_traits>

namespace paddock {

class JsonWriter {
public:
    JsonWriter() : writer_(buffer_) {}
    JsonWriter(const JsonWriter&) = delete;
    JsonWriter& operator=(const JsonWriter&) = delete;

    JsonWriter& beginObject() {
        writer_.StartObject();
        return *this;
    }
    JsonWriter& endObject() {
        writer_.EndObject();
        return *this;
    }
    JsonWriter& beginArray() {
        writer_.StartArray();
        return *this;
    }
    JsonWriter& endArray() {
        writer_.EndArray();
        return *this;
    }
    JsonWriter& key(std::string_view name);
    JsonWriter& null() {
        writer_.Null();
        return *this;
    }
    JsonWriter& value(std::string_view text);
    JsonWriter& value(const char* text) { return value(std::string_view(text)); }
    JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
    JsonWriter& value(bool flag) {
        writer_.Bool(flag);
        return *this;
    }
    JsonWriter& value(double number) {
        writer_.Double(number);
        return *this;
    }
    template <std::integral T>
    requires(!std::same_as<T, bool>) JsonWriter& value(T number) {
        if constexpr (std::is_signed_v<T>)
            writer_.Int64(static_cast<int64_t>(number));
        else
            writer_.Uint64(static_cast<uint64_t>(number));
        return *this;
    }
    // An enum with a table of spellings (enum_names.hpp) is written as its word.
    template <class E>
    requires std::is_enum_v<E> && requires { EnumTable<E>::values; }
    JsonWriter& value(E v) { return value(enumName(v)); }
    // A string, or null when `text` is empty.
    JsonWriter& stringOrNull(std::string_view text) { return text.empty() ? null() : value(text); }
    // An array of strings.
    JsonWriter& values(const std::vector<std::string>& items) {
        beginArray();
        for (const auto& item : items) value(item);
        return endArray();
    }
    // Inserts already-serialised JSON text verbatim.
    JsonWriter& raw(std::string_view json);

    template <class T>
    JsonWriter& field(std::string_view name, const T& v) {
        key(name);
        return value(v);
    }

    std::string str() const { return std::string(buffer_.GetString(), buffer_.GetSize()); }

private:
    JsonWriter& string(std::string_view text, bool isKey);

    rapidjson::StringBuffer buffer_;
    rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

}  // namespace paddock
