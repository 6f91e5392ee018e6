#include "paddock/server/pool_requests.hpp"

#include "paddock/core/limits.hpp"
#include "paddock/server/json.hpp"

namespace paddock::server {

Result<AllocateBody> parseAllocateBody(std::string_view text) {
    auto document = parseJsonObject(text, true);
    if (!document) return std::move(document).error();
    const rapidjson::Value& body = document.value();
    if (auto known = rejectUnknownFields(body, {"owner", "ttl_s"}); !known) return std::move(known).error();
    AllocateBody out;
    auto owner = optionalString(body, "owner");
    if (!owner) return std::move(owner).error();
    out.owner = std::move(owner.value());
    auto ttl = optionalUint(body, "ttl_s", 1, limits::kMaxLeaseTtlSeconds);
    if (!ttl) return std::move(ttl).error();
    out.ttl_s = ttl.value();
    return out;
}

Result<uint64_t> parseExtendBody(std::string_view text) {
    auto document = parseJsonObject(text);
    if (!document) return std::move(document).error();
    if (auto known = rejectUnknownFields(document.value(), {"ttl_s"}); !known) return std::move(known).error();
    auto ttl = optionalUint(document.value(), "ttl_s", 1, limits::kMaxLeaseTtlSeconds);
    if (!ttl) return std::move(ttl).error();
    if (!ttl.value()) return makeError(ErrorCode::InvalidArgument, "field 'ttl_s' is required");
    return *ttl.value();
}

}  // namespace paddock::server
