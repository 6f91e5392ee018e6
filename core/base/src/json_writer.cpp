#include "paddock/core/json_writer.hpp"

#include "paddock/core/utf8.hpp"

namespace paddock {

// Strings may carry client-chosen bytes (a path, a name): what is written is always valid
// UTF-8, so a response or an audit line never becomes invalid JSON.
JsonWriter& JsonWriter::key(std::string_view name) {
    if (isValidUtf8(name)) {
        writer_.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    } else {
        const std::string valid = toValidUtf8(name);
        writer_.Key(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
    }
    return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
    if (isValidUtf8(text)) {
        writer_.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    } else {
        const std::string valid = toValidUtf8(text);
        writer_.String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
    }
    return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
    writer_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
    return *this;
}

}  // namespace paddock
