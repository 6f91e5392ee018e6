#include "paddock/server/json.hpp"

#include "paddock/core/utf8.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <set>

namespace paddock::server {

namespace {

// The deepest nesting of arrays and objects outside strings, counted without recursion.
// Stops counting once past `limit`.
size_t nestingDepth(std::string_view text, size_t limit) {
    size_t depth = 0, deepest = 0;
    bool inString = false, escaped = false;
    for (const char c : text) {
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
            continue;
        }
        if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > limit) return deepest;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

// The first member name that appears twice in one object, anywhere in `value` (whose depth
// is already bounded).
std::optional<std::string> duplicateKey(const rapidjson::Value& value) {
    if (value.IsObject()) {
        std::set<std::string_view> seen;
        for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it) {
            const std::string_view name(it->name.GetString(), it->name.GetStringLength());
            if (!seen.insert(name).second) return std::string(name);
            if (auto inner = duplicateKey(it->value)) return inner;
        }
    } else if (value.IsArray()) {
        for (const auto& item : value.GetArray())
            if (auto inner = duplicateKey(item)) return inner;
    }
    return std::nullopt;
}

// Whether every member name and string in `value` (depth already bounded) is valid UTF-8.
// RapidJSON 1.1.0 validates the raw bytes but decodes an escaped lone low surrogate ("\udc00")
// into the three bytes of a surrogate, which UTF-8 does not allow.
bool allValidUtf8(const rapidjson::Value& value) {
    if (value.IsString()) return isValidUtf8({value.GetString(), value.GetStringLength()});
    if (value.IsObject()) {
        for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it) {
            if (!isValidUtf8({it->name.GetString(), it->name.GetStringLength()}) || !allValidUtf8(it->value))
                return false;
        }
    } else if (value.IsArray()) {
        for (const auto& item : value.GetArray())
            if (!allValidUtf8(item)) return false;
    }
    return true;
}

}  // namespace

Result<rapidjson::Document> parseJsonValue(std::string_view body, size_t* errorOffset) {
    rapidjson::Document document;
    if (errorOffset != nullptr) *errorOffset = 0;
    if (nestingDepth(body, kMaxJsonDepth) > kMaxJsonDepth)
        return makeError(ErrorCode::InvalidArgument,
                         "request body nests arrays/objects deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    // Iterative: the parser's own stack is on the heap, whatever the input. Encoding checked:
    // invalid UTF-8 would otherwise end up in names and the audit log.
    document.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(body.data(), body.size());
    if (document.HasParseError()) {
        if (errorOffset != nullptr) *errorOffset = document.GetErrorOffset();
        return makeError(ErrorCode::InvalidArgument, std::string("request body is not valid JSON: ") +
                                                         rapidjson::GetParseError_En(document.GetParseError()) +
                                                         " (at offset " + std::to_string(document.GetErrorOffset()) +
                                                         ")");
    }
    if (!allValidUtf8(document))
        return makeError(ErrorCode::InvalidArgument,
                         "request body is not valid UTF-8 (a \\u escape stands for a lone surrogate)");
    // Two values for one key would let the first or the last win unseen.
    if (auto key = duplicateKey(document))
        return makeError(ErrorCode::InvalidArgument, "duplicate key '" + key->substr(0, 64) + "' in request body");
    return document;
}

bool isBlank(std::string_view body) noexcept { return body.find_first_not_of(" \t\r\n") == std::string_view::npos; }

Result<rapidjson::Document> parseJsonObject(std::string_view body, bool allowEmpty) {
    if (isBlank(body)) {
        if (!allowEmpty)
            return makeError(ErrorCode::InvalidArgument, "request body is empty; a JSON object is required");
        rapidjson::Document document;
        document.SetObject();
        return document;
    }
    auto document = parseJsonValue(body);
    if (document && !document->IsObject())
        return makeError(ErrorCode::InvalidArgument, "request body must be a JSON object");
    return document;
}

std::string jsonText(const rapidjson::Value& value) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    value.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize());
}

Status rejectUnknownFields(const rapidjson::Value& object, std::initializer_list<std::string_view> known) {
    std::string unknown;
    for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
        const std::string_view name(it->name.GetString(), it->name.GetStringLength());
        bool isKnown = false;
        for (const auto k : known) isKnown = isKnown || k == name;
        if (isKnown) continue;
        if (!unknown.empty()) unknown += ", ";
        unknown.append("'").append(name).append("'");  // (operator+ here trips GCC 12's -Wrestrict)
    }
    if (unknown.empty()) return {};
    return makeError(ErrorCode::InvalidArgument, "unknown field(s) in request body: " + unknown);
}

Result<std::string> requireString(const rapidjson::Value& object, const char* field) {
    const auto it = object.FindMember(field);
    if (it == object.MemberEnd() || it->value.IsNull())
        return makeError(ErrorCode::InvalidArgument, std::string("field '") + field + "' is required");
    if (!it->value.IsString())
        return makeError(ErrorCode::InvalidArgument, std::string("field '") + field + "' must be a string");
    return std::string(it->value.GetString(), it->value.GetStringLength());
}

Result<std::optional<std::string>> optionalString(const rapidjson::Value& object, const char* field) {
    const auto it = object.FindMember(field);
    if (it == object.MemberEnd() || it->value.IsNull()) return std::optional<std::string>{};
    if (!it->value.IsString())
        return makeError(ErrorCode::InvalidArgument, std::string("field '") + field + "' must be a string or null");
    return std::optional<std::string>(std::string(it->value.GetString(), it->value.GetStringLength()));
}

Result<std::optional<uint64_t>> optionalUint(const rapidjson::Value& object, const char* field, uint64_t min,
                                             uint64_t max) {
    const auto it = object.FindMember(field);
    if (it == object.MemberEnd() || it->value.IsNull()) return std::optional<uint64_t>{};
    const auto& v = it->value;
    // 2.0 is accepted as 2 (some clients send all numbers as doubles); 2.5 is not.
    bool integral = v.IsUint64();
    uint64_t number = integral ? v.GetUint64() : 0;
    if (!integral && v.IsDouble()) {
        const double d = v.GetDouble();
        if (d >= 0 && d <= static_cast<double>(std::numeric_limits<uint32_t>::max()) &&
            d == static_cast<double>(static_cast<uint64_t>(d))) {
            integral = true;
            number = static_cast<uint64_t>(d);
        }
    }
    if (!integral || number < min || number > max)
        return makeError(ErrorCode::InvalidArgument, std::string("field '") + field + "' must be an integer between " +
                                                         std::to_string(min) + " and " + std::to_string(max));
    return std::optional<uint64_t>(number);
}

Result<std::optional<bool>> optionalBool(const rapidjson::Value& object, const char* field) {
    const auto it = object.FindMember(field);
    if (it == object.MemberEnd() || it->value.IsNull()) return std::optional<bool>{};
    if (!it->value.IsBool())
        return makeError(ErrorCode::InvalidArgument, std::string("field '") + field + "' must be true or false");
    return std::optional<bool>(it->value.GetBool());
}

}  // namespace paddock::server
