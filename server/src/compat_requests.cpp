#include "paddock/server/compat_requests.hpp"

#include "paddock/core/limits.hpp"
#include "paddock/server/json.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace paddock::server {

namespace {

constexpr int64_t kDefaultMemoryMb = 512;
constexpr int64_t kDefaultVcpus = 1;

std::string objectText(const char* key, int64_t value) {
    JsonWriter json;
    json.beginObject().field(key, value).endObject();
    return json.str();
}

// Reads the fields of one body object the way pydantic's lax mode does, collecting issues in
// field order.
class FieldReader {
public:
    FieldReader(const rapidjson::Value& body, std::vector<ValidationIssue>& issues) : body_(body), issues_(issues) {}

    // A str field; `nullable`: str | None. Absent: nullopt (the caller knows whether it is required).
    std::optional<std::string> string(const char* field, bool required, bool nullable) {
        const rapidjson::Value* v = find(field);
        if (v == nullptr) {
            if (required) add("missing", field, "Field required", std::nullopt);
            return std::nullopt;
        }
        if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
        if (!(nullable && v->IsNull())) add("string_type", field, "Input should be a valid string", jsonText(*v));
        return std::nullopt;
    }

    // An int field within [min, max]; absent (or null when `nullable`: int | None): `fallback`.
    // Wrong values add an issue and give nullopt.
    std::optional<int64_t> integer(const char* field, int64_t min, int64_t max, std::optional<int64_t> fallback,
                                   bool nullable = false) {
        const rapidjson::Value* v = find(field);
        if (v == nullptr || (nullable && v->IsNull())) return fallback;
        auto number = laxInteger(*v, field);
        if (!number) return std::nullopt;
        if (*number < min) {
            add("greater_than_equal", field, "Input should be greater than or equal to " + std::to_string(min),
                jsonText(*v), objectText("ge", min));
            return std::nullopt;
        }
        if (*number > max) {
            add("less_than_equal", field, "Input should be less than or equal to " + std::to_string(max), jsonText(*v),
                objectText("le", max));
            return std::nullopt;
        }
        return number;
    }

private:
    const rapidjson::Value* find(const char* field) const {
        const auto it = body_.FindMember(field);
        return it == body_.MemberEnd() ? nullptr : &it->value;
    }

    void add(const char* type, const char* field, std::string msg, std::optional<std::string> input,
             std::optional<std::string> ctx = std::nullopt) {
        issues_.push_back(ValidationIssue{
            type, {std::string("body"), std::string(field)}, std::move(msg), std::move(input), std::move(ctx)});
    }

    // int in lax mode: integers, integral floats, decimal strings and booleans. Values beyond
    // int64 are clamped: any range check refuses them as too large or too small.
    std::optional<int64_t> laxInteger(const rapidjson::Value& v, const char* field) {
        constexpr auto kMax = std::numeric_limits<int64_t>::max();
        constexpr auto kMin = std::numeric_limits<int64_t>::min();
        if (v.IsBool()) return v.GetBool() ? 1 : 0;
        if (v.IsInt64()) return v.GetInt64();
        if (v.IsUint64()) return kMax;
        if (v.IsDouble()) {
            const double d = v.GetDouble();
            if (d != std::floor(d)) {
                add("int_from_float", field, "Input should be a valid integer, got a number with a fractional part",
                    jsonText(v));
                return std::nullopt;
            }
            if (d >= 9.2e18) return kMax;
            if (d <= -9.2e18) return kMin;
            return static_cast<int64_t>(d);
        }
        if (v.IsString()) {
            std::string_view text(v.GetString(), v.GetStringLength());
            const size_t first = text.find_first_not_of(" \t\n");
            text = first == std::string_view::npos ? std::string_view()
                                                   : text.substr(first, text.find_last_not_of(" \t\n") - first + 1);
            const bool negative = !text.empty() && text.front() == '-';
            if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
            // Unsigned: no second sign. Digits beyond uint64 are out of range, and clamped below.
            uint64_t magnitude = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), magnitude);
            if (text.empty() || end != text.data() + text.size() ||
                (ec != std::errc() && ec != std::errc::result_out_of_range)) {
                add("int_parsing", field, "Input should be a valid integer, unable to parse string as an integer",
                    jsonText(v));
                return std::nullopt;
            }
            const int64_t value = ec == std::errc::result_out_of_range || magnitude > static_cast<uint64_t>(kMax)
                                      ? kMax
                                      : static_cast<int64_t>(magnitude);
            return negative ? -value : value;
        }
        add("int_type", field, "Input should be a valid integer", jsonText(v));
        return std::nullopt;
    }

    const rapidjson::Value& body_;
    std::vector<ValidationIssue>& issues_;
};

// The body as an object, or the issue FastAPI reports for it: invalid JSON, a value that is not
// an object, or (when `required`) no body at all. A blank optional body is an empty object.
std::optional<rapidjson::Document> bodyObject(std::string_view text, bool required,
                                              std::vector<ValidationIssue>& issues) {
    rapidjson::Document document;
    if (isBlank(text)) {
        if (required) {
            issues.push_back(ValidationIssue{"missing", {std::string("body")}, "Field required", "null", {}});
            return std::nullopt;
        }
        document.SetObject();
        return document;
    }
    size_t offset = 0;
    auto parsed = parseJsonValue(text, &offset);
    if (!parsed) {
        JsonWriter ctx;
        ctx.beginObject().field("error", parsed.error().message).endObject();
        issues.push_back(
            ValidationIssue{"json_invalid", {std::string("body"), offset}, "JSON decode error", "{}", ctx.str()});
        return std::nullopt;
    }
    if (!parsed->IsObject()) {
        issues.push_back(ValidationIssue{"model_attributes_type",
                                         {std::string("body")},
                                         "Input should be a valid dictionary or object to extract fields from",
                                         jsonText(parsed.value()),
                                         {}});
        return std::nullopt;
    }
    return std::move(parsed.value());
}

}  // namespace

Validated<CreateVmRequest> readCompatCreate(std::string_view text) {
    Validated<CreateVmRequest> out;
    const auto body = bodyObject(text, true, out.issues);
    if (!body) return out;
    FieldReader read(*body, out.issues);
    auto name = read.string("name", true, false);
    auto memory = read.integer("memory_mb", static_cast<int64_t>(limits::kCompatMinMemoryMb),
                               static_cast<int64_t>(limits::kMaxMemoryMb), kDefaultMemoryMb);
    auto vcpus = read.integer("vcpus", limits::kMinVcpus, limits::kMaxVcpus, kDefaultVcpus);
    auto owner = read.string("owner", false, true);
    if (!out.issues.empty()) return out;
    CreateVmRequest request;
    request.name = std::move(*name);
    request.memory_mb = static_cast<uint64_t>(*memory);
    request.vcpus = static_cast<uint32_t>(*vcpus);
    request.owner = std::move(owner);
    request.start = true;
    request.legacy_name = true;
    out.value = std::move(request);
    return out;
}

Validated<CompatAllocateBody> readCompatAllocate(std::string_view text) {
    Validated<CompatAllocateBody> out;
    const auto body = bodyObject(text, false, out.issues);
    if (!body) return out;
    FieldReader read(*body, out.issues);
    auto owner = read.string("owner", false, true);
    auto ttl = read.integer("ttl_s", 1, static_cast<int64_t>(limits::kMaxLeaseTtlSeconds), std::nullopt, true);
    if (!out.issues.empty()) return out;
    CompatAllocateBody allocate;
    allocate.owner = std::move(owner);
    if (ttl) allocate.ttl_s = static_cast<uint64_t>(*ttl);
    out.value = std::move(allocate);
    return out;
}

Response validationErrorResponse(const std::vector<ValidationIssue>& issues) {
    JsonWriter json;
    json.beginObject().key("detail").beginArray();
    for (const auto& issue : issues) {
        json.beginObject().field("type", issue.type).key("loc").beginArray();
        for (const auto& part : issue.loc) {
            if (const auto* name = std::get_if<std::string>(&part))
                json.value(*name);
            else
                json.value(static_cast<uint64_t>(std::get<size_t>(part)));
        }
        json.endArray().field("msg", issue.msg);
        if (issue.input) json.key("input").raw(*issue.input);
        if (issue.ctx) json.key("ctx").raw(*issue.ctx);
        json.endObject();
    }
    json.endArray().endObject();
    return jsonResponse(422, json.str());
}

}  // namespace paddock::server
