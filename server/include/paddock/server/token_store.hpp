// Owner tokens minted by admins (POST /api/v1/tokens): short-lived bearer tokens bound to one
// owner, for handing to that owner's browser. Only a SHA-256 of each secret is kept, in memory
// and in <state_dir>/tokens.json (0600, rewritten atomically on every change), so neither the
// file nor a listing can give a secret back; the secret is shown once, in mint()'s answer.
// Expired tokens stop authenticating at once and are dropped from the file at the next change.
// Thread-safe: every member may be called from any thread.
#pragma once

#include "paddock/core/iso_time.hpp"
#include "paddock/core/result.hpp"
#include "paddock/core/role.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paddock::server {

struct MintedToken {
    std::string id;     // "tok-" + 16 hex: names the token in listings and DELETE, no secret
    std::string name;   // a label; the audit actor is "<name>"
    std::string owner;  // what it may reach
    Role role = Role::Operator;
    std::string created_by;  // the admin who minted it
    SystemTime created_at{};
    SystemTime expires_at{};
};

class TokenStore {
public:
    static constexpr std::chrono::seconds kDefaultTtl{3600};
    static constexpr std::chrono::seconds kMinTtl{60};
    static constexpr std::chrono::seconds kMaxTtl{7 * 24 * 3600};
    static constexpr size_t kMaxTokens = 10000;  // live ones; beyond: TooManyRequests

    // Reads `path` when it exists (expired entries are dropped); InvalidArgument naming the
    // file when it is not a token file. The directory must exist.
    static Result<std::unique_ptr<TokenStore>> open(std::string path);

    struct Minted {
        MintedToken token;
        std::string secret;  // the bearer token itself: give it to the owner, it is not kept
    };
    // InvalidArgument for a bad owner, name or ttl (kMinTtl..kMaxTtl); TooManyRequests past
    // kMaxTokens; Unavailable when the file cannot be written (nothing is minted then).
    Result<Minted> mint(const std::string& owner, const std::string& name, Role role, std::chrono::seconds ttl,
                        const std::string& createdBy);

    // The live token whose secret this is.
    std::optional<MintedToken> find(std::string_view secret) const;
    // Live tokens, oldest first; `owner` filters when non-empty.
    std::vector<MintedToken> list(const std::string& owner = {}) const;
    // NotFound for an unknown (or already expired) id; Unavailable when the file cannot be
    // written (the token is then still revoked in memory: it stops working at once).
    Result<MintedToken> revoke(const std::string& id);

    const std::string& path() const noexcept { return path_; }

private:
    explicit TokenStore(std::string path) : path_(std::move(path)) {}
    struct Entry {
        MintedToken token;
        std::string hash;  // hex SHA-256 of the secret
    };
    void dropExpiredLocked(SystemTime now);
    Status saveLocked() const;
    static std::string hashOf(std::string_view secret);

    std::string path_;
    mutable std::mutex mutex_;
    std::map<std::string, Entry> byId_;
    std::map<std::string, std::string> idByHash_;
};

}  // namespace paddock::server
