#include "paddock/server/public_urls.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>

namespace paddock::server {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The client-facing (first) entry of a forwarded header's comma-separated list.
std::string_view firstEntry(std::string_view value) { return trim(value.substr(0, value.find(','))); }

std::optional<std::string> forwardedScheme(const Request& r) {
    const auto value = r.header("x-forwarded-proto");
    if (!value) return std::nullopt;
    std::string scheme(firstEntry(*value));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
    if (scheme != "http" && scheme != "https") return std::nullopt;
    return scheme;
}

// host[:port] or [v6]:port, nothing that could carry a path, user or another URL.
std::optional<std::string> forwardedHost(const Request& r) {
    const auto value = r.header("x-forwarded-host");
    if (!value) return std::nullopt;
    const std::string_view host = firstEntry(*value);
    if (host.empty() || host.size() > 255) return std::nullopt;
    const bool ok = std::all_of(host.begin(), host.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
    });
    if (!ok) return std::nullopt;
    return std::string(host);
}

bool isWildcard(const std::string& host) { return host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]"; }

std::string websocketScheme(const std::string& httpScheme) { return httpScheme == "https" ? "wss" : "ws"; }

}  // namespace

PublicUrls::PublicUrls(Options options) : options_(std::move(options)) {
    while (!options_.public_url.empty() && options_.public_url.back() == '/') options_.public_url.pop_back();
    const std::string& host = options_.listen_host;
    if (!isWildcard(host)) {
        const bool v6 = host.find(':') != std::string::npos && host.front() != '[';
        listenAuthority_ = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(options_.listen_port);
    }
}

bool PublicUrls::trusted(const std::string& peer) const {
    return std::any_of(options_.trusted_proxies.begin(), options_.trusted_proxies.end(),
                       [&](const IpNetwork& network) { return network.contains(peer); });
}

std::string PublicUrls::base(const Request& r, bool websocket) const {
    if (!options_.public_url.empty()) {
        if (!websocket) return options_.public_url;
        const auto sep = options_.public_url.find("://");
        return websocketScheme(options_.public_url.substr(0, sep)) + options_.public_url.substr(sep);
    }
    std::string scheme = r.secure ? "https" : "http";
    std::string authority = listenAuthority_.empty() ? r.local : listenAuthority_;
    if (trusted(r.peer)) {
        if (auto forwarded = forwardedScheme(r)) scheme = std::move(*forwarded);
        if (auto forwarded = forwardedHost(r)) authority = std::move(*forwarded);
    }
    return (websocket ? websocketScheme(scheme) : scheme) + "://" + authority;
}

}  // namespace paddock::server
