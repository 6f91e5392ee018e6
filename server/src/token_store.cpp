#include "paddock/server/token_store.hpp"

#include "paddock/core/atomic_file.hpp"
#include "paddock/core/ids.hpp"
#include "paddock/core/json_writer.hpp"
#include "paddock/core/names.hpp"
#include "paddock/server/json.hpp"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

#include <algorithm>

namespace paddock::server {

namespace {

// Owner tokens carry a recognisable prefix so that secret scanners and people can tell them
// from the 64-hex admin token.
constexpr std::string_view kSecretPrefix = "pdko_";

std::string fileError(const std::string& path, const std::string& why) {
    return path + " is not a Paddock token file (" + why + "); move it away to start with no minted tokens";
}

}  // namespace

std::string TokenStore::hashOf(std::string_view secret) {
    Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
    engine.update(secret.data(), static_cast<unsigned>(secret.size()));
    return Poco::DigestEngine::digestToHex(engine.digest());
}

Result<std::unique_ptr<TokenStore>> TokenStore::open(std::string path) {
    std::unique_ptr<TokenStore> store(new TokenStore(std::move(path)));
    auto text = readWholeFile(store->path_);
    if (!text) {
        if (text.error().code == ErrorCode::NotFound) return store;
        return std::move(text).error();
    }
    auto document = parseJsonObject(text.value());
    if (!document) return makeError(ErrorCode::InvalidArgument, fileError(store->path_, document.error().message));
    const rapidjson::Value& root = document.value();
    const auto tokens = root.FindMember("tokens");
    if (tokens == root.MemberEnd() || !tokens->value.IsArray())
        return makeError(ErrorCode::InvalidArgument, fileError(store->path_, "no 'tokens' array"));
    const auto now = std::chrono::system_clock::now();
    for (const auto& item : tokens->value.GetArray()) {
        // MemberEnd() of a value that is no object is undefined (found by fuzzing: "tokens":[2]).
        if (!item.IsObject())
            return makeError(ErrorCode::InvalidArgument, fileError(store->path_, "an entry is not an object"));
        const auto text = [&](const char* field) -> std::string {
            const auto it = item.FindMember(field);
            return it != item.MemberEnd() && it->value.IsString() ? it->value.GetString() : std::string();
        };
        Entry e;
        e.token.id = text("id");
        e.token.name = text("name");
        e.token.owner = text("owner");
        e.token.created_by = text("created_by");
        e.hash = text("sha256");
        const auto role = parseRole(text("role"));
        const auto created = parseIsoTime(text("created_at"));
        const auto expires = parseIsoTime(text("expires_at"));
        if (e.token.id.empty() || e.token.owner.empty() || e.hash.size() != 64 || !role || !created || !expires)
            return makeError(ErrorCode::InvalidArgument,
                             fileError(store->path_, "an entry lacks id, owner, sha256, role or times"));
        e.token.role = *role;
        e.token.created_at = *created;
        e.token.expires_at = *expires;
        if (e.token.expires_at <= now) continue;
        store->idByHash_[e.hash] = e.token.id;
        store->byId_[e.token.id] = std::move(e);
    }
    return store;
}

Result<TokenStore::Minted> TokenStore::mint(const std::string& owner, const std::string& name, Role role,
                                            std::chrono::seconds ttl, const std::string& createdBy) {
    if (auto valid = validateOwner(owner, true); !valid) return std::move(valid).error();
    if (auto valid = validateLabel(name, "name", kMaxOwnerBytes, false); !valid) return std::move(valid).error();
    if (ttl < kMinTtl || ttl > kMaxTtl)
        return makeError(ErrorCode::InvalidArgument, "ttl_s must be from " + std::to_string(kMinTtl.count()) + " to " +
                                                         std::to_string(kMaxTtl.count()));
    Minted minted;
    minted.secret = std::string(kSecretPrefix) + randomId("", 64);
    MintedToken& t = minted.token;
    t.id = randomId("tok-", 16);
    t.owner = owner;
    t.name = name.empty() ? "owner:" + owner : name;
    t.role = role;
    t.created_by = createdBy;
    // Whole seconds, as the file keeps them: what mint() answers is what a reload reads back.
    t.created_at = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    t.expires_at = t.created_at + ttl;

    std::lock_guard lock(mutex_);
    dropExpiredLocked(t.created_at);
    if (byId_.size() >= kMaxTokens)
        return makeError(ErrorCode::TooManyRequests,
                         std::to_string(kMaxTokens) + " owner tokens are live; revoke some first");
    const std::string hash = hashOf(minted.secret);
    byId_[t.id] = Entry{t, hash};
    idByHash_[hash] = t.id;
    if (auto saved = saveLocked(); !saved) {
        byId_.erase(t.id);
        idByHash_.erase(hash);
        return std::move(saved).error();
    }
    return minted;
}

std::optional<MintedToken> TokenStore::find(std::string_view secret) const {
    if (!secret.starts_with(kSecretPrefix)) return std::nullopt;
    const std::string hash = hashOf(secret);
    std::lock_guard lock(mutex_);
    const auto id = idByHash_.find(hash);
    if (id == idByHash_.end()) return std::nullopt;
    const MintedToken& token = byId_.at(id->second).token;
    if (token.expires_at <= std::chrono::system_clock::now()) return std::nullopt;
    return token;
}

std::vector<MintedToken> TokenStore::list(const std::string& owner) const {
    const auto now = std::chrono::system_clock::now();
    std::vector<MintedToken> out;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, e] : byId_)
            if (e.token.expires_at > now && (owner.empty() || e.token.owner == owner)) out.push_back(e.token);
    }
    std::sort(out.begin(), out.end(), [](const MintedToken& a, const MintedToken& b) {
        return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
    });
    return out;
}

Result<MintedToken> TokenStore::revoke(const std::string& id) {
    std::lock_guard lock(mutex_);
    dropExpiredLocked(std::chrono::system_clock::now());
    const auto it = byId_.find(id);
    if (it == byId_.end()) return makeError(ErrorCode::NotFound, "unknown token '" + id + "'");
    MintedToken revoked = it->second.token;
    idByHash_.erase(it->second.hash);
    byId_.erase(it);
    if (auto saved = saveLocked(); !saved) return std::move(saved).error();
    return revoked;
}

void TokenStore::dropExpiredLocked(SystemTime now) {
    for (auto it = byId_.begin(); it != byId_.end();) {
        if (it->second.token.expires_at <= now) {
            idByHash_.erase(it->second.hash);
            it = byId_.erase(it);
        } else {
            ++it;
        }
    }
}

Status TokenStore::saveLocked() const {
    JsonWriter json;
    json.beginObject().field("version", 1).key("tokens").beginArray();
    for (const auto& [id, e] : byId_) {
        json.beginObject()
            .field("id", e.token.id)
            .field("name", e.token.name)
            .field("owner", e.token.owner)
            .field("role", roleName(e.token.role))
            .field("created_by", e.token.created_by)
            .field("created_at", isoTime(e.token.created_at))
            .field("expires_at", isoTime(e.token.expires_at))
            .field("sha256", e.hash)
            .endObject();
    }
    json.endArray().endObject();
    return writeFileAtomically(path_, json.str() + "\n", 0600);
}

}  // namespace paddock::server
