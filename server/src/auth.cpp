#include "paddock/server/auth.hpp"

#include "paddock/server/token_store.hpp"

#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/RandomStream.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace paddock::server {

bool constantTimeEquals(std::string_view a, std::string_view b) noexcept {
    // Walk the presented string fully whatever the lengths, so only the length of the input
    // (which the caller knows anyway) influences the time taken.
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (size_t i = 0; i < a.size(); ++i) {
        const unsigned char other = b.empty() ? 0 : static_cast<unsigned char>(b[i % b.size()]);
        diff |= static_cast<unsigned char>(a[i]) ^ other;
    }
    return diff == 0;
}

Result<Authenticator> Authenticator::create(const AuthConfig& auth, std::vector<std::string> publicPaths,
                                            const std::string& generatedAdminToken, const TokenStore* minted) {
    Authenticator result;
    result.minted_ = minted;
    result.enabled_ = auth.mode != AuthMode::None;
    result.publicPaths_ = std::move(publicPaths);
    for (size_t i = 0; i < auth.tokens.size(); ++i) {
        const auto& t = auth.tokens[i];
        const std::string where = "auth.tokens[" + std::to_string(i) + "]";
        if (t.name.empty()) return makeError(ErrorCode::InvalidArgument, where + ".name must not be empty");
        if (t.token.empty()) return makeError(ErrorCode::InvalidArgument, where + ".token must not be empty");
        result.tokens_.push_back({t.name, t.token, t.role, t.owner});
    }
    if (!generatedAdminToken.empty()) result.tokens_.push_back({"admin", generatedAdminToken, Role::Admin, {}});
    return result;
}

bool Authenticator::isPublic(std::string_view path) const {
    for (const auto& p : publicPaths_) {
        if (p.size() >= 2 && p.ends_with("/*")) {
            if (path.starts_with(std::string_view(p).substr(0, p.size() - 1))) return true;
        } else if (path == p) {
            return true;
        }
    }
    return false;
}

const TokenEntry* Authenticator::find(std::string_view token) const {
    const TokenEntry* found = nullptr;
    for (const auto& entry : tokens_)
        if (constantTimeEquals(token, entry.token) && found == nullptr) found = &entry;
    return found;
}

Result<Identity> Authenticator::authenticate(std::string_view path, std::string_view authorization) const {
    if (!enabled_) return Identity{"anonymous", Role::Admin, false, {}};
    const bool isPublicPath = isPublic(path);
    constexpr std::string_view scheme = "Bearer ";
    if (authorization.empty()) {
        if (isPublicPath) return Identity{};
        return makeError(ErrorCode::Unauthorized, "missing bearer token (Authorization: Bearer <token>)");
    }
    bool schemeOk = authorization.size() > scheme.size();
    for (size_t i = 0; schemeOk && i < scheme.size(); ++i)
        schemeOk = std::tolower(static_cast<unsigned char>(authorization[i])) ==
                   std::tolower(static_cast<unsigned char>(scheme[i]));
    if (schemeOk) {
        std::string_view token = authorization.substr(scheme.size());
        while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
        while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
        if (const auto* entry = find(token)) return Identity{entry->name, entry->role, true, entry->owner};
        if (minted_ != nullptr) {
            if (const auto owned = minted_->find(token)) return Identity{owned->name, owned->role, true, owned->owner};
        }
    }
    if (isPublicPath) return Identity{};
    return makeError(ErrorCode::Unauthorized, "invalid bearer token");
}

Status authorize(const Identity& identity, Role required) {
    if (identity.role >= required) return {};
    return makeError(ErrorCode::Forbidden, "'" + identity.name + "' has role " + std::string(roleName(identity.role)) +
                                               "; this needs " + std::string(roleName(required)));
}

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// "host:port" with the scheme's default port added when absent (IPv6 literals keep their brackets).
std::string withPort(std::string authority, std::string_view scheme) {
    const size_t bracket = authority.rfind(']');
    const size_t colon = authority.rfind(':');
    if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket))
        authority += (scheme == "https" || scheme == "wss") ? ":443" : ":80";
    return authority;
}

}  // namespace

bool originAllowed(std::string_view origin, std::string_view host, const std::vector<std::string>& allowed) {
    std::string o = lower(origin);
    while (!o.empty() && o.back() == '/') o.pop_back();
    for (const auto& entry : allowed) {
        std::string a = lower(entry);
        while (!a.empty() && a.back() == '/') a.pop_back();
        if (!a.empty() && a == o) return true;
    }
    const size_t sep = o.find("://");
    if (sep == std::string::npos || host.empty()) return false;  // includes the opaque origin "null"
    const std::string scheme = o.substr(0, sep);
    std::string authority = o.substr(sep + 3);
    if (authority.empty() || authority.find('/') != std::string::npos) return false;
    return withPort(authority, scheme) == withPort(lower(host), scheme);
}

bool hostAllowed(std::string_view host, const std::vector<std::string>& allowed) {
    if (allowed.empty()) return true;
    const std::string h = lower(host);
    // The name without its port; an IPv6 literal keeps its brackets.
    const size_t bracket = h.rfind(']');
    const size_t colon = h.rfind(':');
    const std::string name =
        colon != std::string::npos && (bracket == std::string::npos || colon > bracket) ? h.substr(0, colon) : h;
    if (name.empty()) return false;
    for (const auto& entry : allowed) {
        const std::string e = lower(entry);
        if (e == h || e == name) return true;
    }
    return false;
}

std::string adminTokenPath(const std::string& stateDir) { return stateDir + "/admin.token"; }

namespace {

bool isTokenText(const std::string& text) {
    if (text.size() != 64) return false;
    for (const char c : text)
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

Error fileError(const std::string& what, const std::string& path) {
    return makeError(ErrorCode::Internal, what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Result<std::string> ensureAdminToken(const std::string& stateDir) {
    const std::string path = adminTokenPath(stateDir);
    try {
        Poco::File(stateDir).createDirectories();
    } catch (const Poco::Exception& e) {
        return makeError(ErrorCode::Internal, "cannot create state directory " + stateDir + ": " + e.displayText());
    }
    if (std::ifstream in{path}) {
        std::string token;
        std::getline(in, token);
        if (!isTokenText(token))
            return makeError(ErrorCode::InvalidArgument,
                             path + " does not hold a token (64 hex characters); delete it to generate a new one");
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0 && ::chmod(path.c_str(), 0600) != 0)
            return fileError("cannot restrict permissions of", path);
        return token;
    }

    std::array<unsigned char, 32> bytes{};
    Poco::RandomInputStream random;
    random.read(reinterpret_cast<char*>(bytes.data()), bytes.size());
    static constexpr char kHex[] = "0123456789abcdef";
    std::string token;
    for (const unsigned char b : bytes) {
        token += kHex[b >> 4];
        token += kHex[b & 0xf];
    }
    // O_EXCL + 0600 at creation: the token is never readable by others, not even briefly.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fileError("cannot create", path);
    const std::string line = token + "\n";
    const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::close(fd);
    if (!written) {
        ::unlink(path.c_str());
        return fileError("cannot write", path);
    }
    return token;
}

}  // namespace paddock::server
