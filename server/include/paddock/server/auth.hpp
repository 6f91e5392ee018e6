// Bearer-token authentication and role checks.
// Tokens come from the config (auth.tokens) plus the generated admin token, if any. With
// auth.mode "none" every caller is the admin "anonymous". Paths in `publicPaths` (exact, or a
// prefix when the entry ends in "/*") need no token. Immutable after construction, so one
// instance serves all request threads.
#pragma once

#include "paddock/core/config.hpp"
#include "paddock/core/result.hpp"
#include "paddock/server/http_types.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace paddock::server {

struct TokenEntry {
    std::string name;
    std::string token;
    Role role = Role::Viewer;
    std::string owner;  // non-empty: owner-scoped
};

class TokenStore;

class Authenticator {
public:
    // InvalidArgument naming the entry for an empty name/token (roles are parsed with the config).
    // `minted`, when given, also authenticates the owner tokens it holds; it must outlive the
    // Authenticator.
    static Result<Authenticator> create(const AuthConfig& auth, std::vector<std::string> publicPaths,
                                        const std::string& generatedAdminToken = {},
                                        const TokenStore* minted = nullptr);

    bool isPublic(std::string_view path) const;

    // `authorization` is the Authorization header value, empty when absent. Public paths
    // accept anyone (a valid token still names the caller); others need a valid token:
    // Unauthorized otherwise. The message never contains the presented token.
    Result<Identity> authenticate(std::string_view path, std::string_view authorization) const;

    bool enabled() const noexcept { return enabled_; }

private:
    Authenticator() = default;
    const TokenEntry* find(std::string_view token) const;

    bool enabled_ = true;
    std::vector<TokenEntry> tokens_;
    std::vector<std::string> publicPaths_;
    const TokenStore* minted_ = nullptr;
};

// Forbidden when `identity.role` is below `required`.
Status authorize(const Identity& identity, Role required);

// Whether a browser page from `origin` (the Origin header) may open a WebSocket on the server
// addressed as `host` (the Host header): same origin (scheme default ports filled in), or
// listed in `allowed` (server.allowed_origins; compared without case and trailing '/').
bool originAllowed(std::string_view origin, std::string_view host, const std::vector<std::string>& allowed);

// Whether `host` (the Host header) is one of `allowed` (server.allowed_hosts): an entry with a
// port must equal host:port, one without matches the name whatever the port; no case. An empty
// list allows every host, a missing Host none of a non-empty list.
bool hostAllowed(std::string_view host, const std::vector<std::string>& allowed);

// Compares without an early exit so timing does not reveal how much of a token matched.
bool constantTimeEquals(std::string_view a, std::string_view b) noexcept;

// The token stored in <stateDir>/admin.token, created (64 hex chars from 32 random bytes,
// mode 0600, directory created when missing) on first use and reused afterwards. A reused
// file with wider permissions is narrowed to 0600.
Result<std::string> ensureAdminToken(const std::string& stateDir);
std::string adminTokenPath(const std::string& stateDir);

}  // namespace paddock::server
