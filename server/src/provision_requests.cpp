#include "paddock/server/provision_requests.hpp"

#include "paddock/core/utf8.hpp"

#include <rapidjson/document.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <strings.h>

namespace paddock::server {

namespace {

Result<uint64_t> queryUint(const std::map<std::string, std::string>& query, const char* name, uint64_t min,
                           uint64_t max, uint64_t fallback) {
    const auto it = query.find(name);
    if (it == query.end()) return fallback;
    uint64_t value = 0;
    const std::string& text = it->second;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
        return makeError(ErrorCode::InvalidArgument, std::string("query parameter '") + name +
                                                         "' must be an integer in " + std::to_string(min) + ".." +
                                                         std::to_string(max));
    return value;
}

Result<bool> queryBool(const std::map<std::string, std::string>& query, const char* name, bool fallback) {
    const auto it = query.find(name);
    if (it == query.end()) return fallback;
    if (it->second == "true" || it->second == "1" || it->second.empty()) return true;
    if (it->second == "false" || it->second == "0") return false;
    return makeError(ErrorCode::InvalidArgument, std::string("query parameter '") + name + "' must be true or false");
}

// Bounded, printable: a filter value ends up in an error message at most.
Result<std::string> queryWord(const std::map<std::string, std::string>& query, const char* name) {
    const auto it = query.find(name);
    if (it == query.end()) return std::string();
    if (it->second.size() > 128 || !isValidUtf8(it->second))
        return makeError(ErrorCode::InvalidArgument, std::string("query parameter '") + name + "' is malformed");
    return it->second;
}

}  // namespace

Status withPasswordFromBody(std::string& body, const std::function<Status(std::string_view password)>& use) {
    static const Error kShape =
        makeError(ErrorCode::InvalidArgument, "request body must be a JSON object {\"password\": \"...\"}");
    if (body.empty() || body.find('\0') != std::string::npos) {  // JSON holds no raw NUL
        ::explicit_bzero(body.data(), body.size());
        return kShape;
    }
    // Parsed in place: unescaped strings are written over the buffer itself, so no other buffer
    // ever holds the password. A buffer of our own, because RapidJSON's SIMD whitespace skipping
    // reads the text 16 bytes at a time: it gets that much zero padding past the end.
    constexpr size_t kPadding = 16;
    const size_t size = body.size();
    std::unique_ptr<char[]> text(new char[size + kPadding + 1]());
    std::memcpy(text.get(), body.data(), size);
    ::explicit_bzero(body.data(), size);
    Status result = [&]() -> Status {
        // Iterative: no recursion however deep a hostile body nests.
        rapidjson::Document document;
        document.ParseInsitu<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.get());
        if (document.HasParseError()) return makeError(ErrorCode::InvalidArgument, "request body is not valid JSON");
        if (!document.IsObject() || document.MemberCount() != 1) return kShape;
        const auto member = document.MemberBegin();
        if (std::string_view(member->name.GetString(), member->name.GetStringLength()) != "password")
            return kShape;
        if (!member->value.IsString())
            return makeError(ErrorCode::InvalidArgument, "field 'password' must be a string");
        return use(std::string_view(member->value.GetString(), member->value.GetStringLength()));
    }();
    ::explicit_bzero(text.get(), size + kPadding + 1);
    return result;
}

Result<OperationFilter> parseOperationQuery(const std::map<std::string, std::string>& query) {
    for (const auto& [key, value] : query) {
        if (key != "vm" && key != "state" && key != "kind" && key != "limit")
            return makeError(ErrorCode::InvalidArgument,
                             "unknown query parameter '" + key.substr(0, 64) + "' (known: vm, state, kind, limit)");
    }
    OperationFilter filter;
    auto vm = queryWord(query, "vm");
    if (!vm) return std::move(vm).error();
    auto state = queryWord(query, "state");
    if (!state) return std::move(state).error();
    if (!state->empty() && !isOperationStateName(state.value()))
        return makeError(ErrorCode::InvalidArgument,
                         "query parameter 'state' must be one of queued, running, succeeded, failed, cancelled");
    auto kind = queryWord(query, "kind");
    if (!kind) return std::move(kind).error();
    auto limit = queryUint(query, "limit", 1, kMaxOperationListLimit, 100);
    if (!limit) return std::move(limit).error();
    filter.vm = std::move(vm.value());
    filter.state = std::move(state.value());
    filter.kind = std::move(kind.value());
    filter.limit = static_cast<size_t>(limit.value());
    return filter;
}

Result<OutputQuery> parseOutputQuery(const std::map<std::string, std::string>& query) {
    for (const auto& [key, value] : query) {
        if (key != "offset" && key != "follow")
            return makeError(ErrorCode::InvalidArgument,
                             "unknown query parameter '" + key.substr(0, 64) + "' (known: offset, follow)");
    }
    OutputQuery out;
    auto offset = queryUint(query, "offset", 0, UINT64_MAX / 2, 0);
    if (!offset) return std::move(offset).error();
    auto follow = queryBool(query, "follow", true);
    if (!follow) return std::move(follow).error();
    out.offset = offset.value();
    out.follow = follow.value();
    return out;
}

}  // namespace paddock::server
