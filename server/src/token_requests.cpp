#include "paddock/server/token_requests.hpp"

#include "paddock/core/names.hpp"
#include "paddock/server/json.hpp"
#include "paddock/server/token_store.hpp"

namespace paddock::server {

Result<MintTokenBody> parseMintTokenBody(std::string_view text) {
    auto document = parseJsonObject(text);
    if (!document) return std::move(document).error();
    const rapidjson::Value& body = document.value();
    if (auto known = rejectUnknownFields(body, {"owner", "name", "ttl_s", "role"}); !known)
        return std::move(known).error();
    MintTokenBody out;
    auto owner = requireString(body, "owner");
    if (!owner) return std::move(owner).error();
    if (auto valid = validateOwner(owner.value(), true); !valid) return std::move(valid).error();
    out.owner = std::move(owner.value());
    auto name = optionalString(body, "name");
    if (!name) return std::move(name).error();
    out.name = name.value().value_or("");
    if (auto valid = validateLabel(out.name, "name", kMaxOwnerBytes, false); !valid) return std::move(valid).error();
    auto ttl = optionalUint(body, "ttl_s", TokenStore::kMinTtl.count(), TokenStore::kMaxTtl.count());
    if (!ttl) return std::move(ttl).error();
    out.ttl = ttl.value() ? std::chrono::seconds(*ttl.value()) : TokenStore::kDefaultTtl;
    auto role = optionalString(body, "role");
    if (!role) return std::move(role).error();
    if (role.value()) {
        const auto parsed = parseRole(*role.value());
        if (!parsed || *parsed == Role::Admin)
            return makeError(ErrorCode::InvalidArgument, "field 'role' must be 'operator' or 'viewer'");
        out.role = *parsed;
    }
    return out;
}

}  // namespace paddock::server
