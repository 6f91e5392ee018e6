#include "paddock/server/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace paddock::server {

namespace {

std::vector<std::string> splitPath(const std::string& path) {
    std::vector<std::string> parts;
    std::string p = path;
    if (p.size() > 1 && p.back() == '/') p.pop_back();
    if (p.empty() || p.front() != '/') return {std::string(1, '\0')};  // matches no pattern
    size_t start = 1;
    if (p.size() == 1) return parts;
    while (true) {
        const size_t slash = p.find('/', start);
        parts.push_back(p.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return parts;
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler, std::optional<Role> minimumRole) {
    if (pattern.empty() || pattern.front() != '/')
        throw std::invalid_argument("route pattern must start with '/': " + pattern);
    std::vector<Segment> segments;
    for (const auto& part : splitPath(pattern)) {
        if (part.empty()) throw std::invalid_argument("empty segment in route pattern " + pattern);
        const bool isParam = part.front() == '{';
        if (isParam && (part.size() < 3 || part.back() != '}'))
            throw std::invalid_argument("malformed parameter in route pattern " + pattern);
        segments.push_back({isParam ? part.substr(1, part.size() - 2) : part, isParam});
    }
    for (const auto& route : routes_)
        if (route.method == method && route.pattern == pattern)
            throw std::invalid_argument("duplicate route " + method + " " + pattern);
    const Role role = minimumRole.value_or(method == "GET" ? Role::Viewer : Role::Operator);
    routes_.push_back(Route{std::move(method), std::move(pattern), std::move(handler), role});
    segments_.push_back(std::move(segments));
}

void Router::addWebSocket(std::string pattern, Handler handler, std::optional<Role> minimumRole, bool acceptsTicket) {
    add("GET", std::move(pattern), std::move(handler), minimumRole);
    routes_.back().websocket = true;
    routes_.back().acceptsTicket = acceptsTicket;
}

RouteMatch Router::match(const std::string& method, const std::string& path) const {
    const auto parts = splitPath(path);
    RouteMatch result;
    const std::vector<Segment>* best = nullptr;
    // Literal-before-parameter at the first segment where two patterns differ.
    const auto moreSpecific = [](const std::vector<Segment>& a, const std::vector<Segment>& b) {
        for (size_t i = 0; i < a.size(); ++i)
            if (a[i].isParam != b[i].isParam) return !a[i].isParam;
        return false;
    };
    for (size_t r = 0; r < routes_.size(); ++r) {
        const auto& segments = segments_[r];
        if (segments.size() != parts.size()) continue;
        bool matches = true;
        for (size_t i = 0; i < parts.size() && matches; ++i)
            matches = segments[i].isParam ? !parts[i].empty() : segments[i].text == parts[i];
        if (!matches) continue;
        if (routes_[r].method != method) {
            result.allowedMethods.push_back(routes_[r].method);
            if (routes_[r].errorStyle == ErrorStyle::FastApi) result.errorStyle = ErrorStyle::FastApi;
            continue;
        }
        if (best == nullptr || moreSpecific(segments, *best)) {
            best = &segments;
            result.route = &routes_[r];
        }
    }
    if (result.route != nullptr) {
        result.kind = RouteMatch::Kind::Found;
        result.errorStyle = result.route->errorStyle;
        result.allowedMethods.clear();
        for (size_t i = 0; i < parts.size(); ++i)
            if ((*best)[i].isParam) result.params[(*best)[i].text] = parts[i];
        return result;
    }
    if (!result.allowedMethods.empty()) {
        std::sort(result.allowedMethods.begin(), result.allowedMethods.end());
        result.allowedMethods.erase(std::unique(result.allowedMethods.begin(), result.allowedMethods.end()),
                                    result.allowedMethods.end());
        result.kind = RouteMatch::Kind::MethodNotAllowed;
    }
    return result;
}

Route& Router::registered(const std::string& method, const std::string& pattern, std::string_view purpose) {
    for (auto& route : routes_)
        if (route.method == method && route.pattern == pattern) return route;
    throw std::invalid_argument("no route " + method + " " + pattern + " " + std::string(purpose));
}

void Router::permitOwnerTokens(const std::string& method, const std::string& pattern) {
    registered(method, pattern, "to open to owner tokens").ownerTokens = true;
}

void Router::admitGuests(const std::string& method, const std::string& pattern) {
    registered(method, pattern, "to admit guests to").guests = true;
}

void Router::answerErrorsAs(ErrorStyle style, const std::string& method, const std::string& pattern) {
    registered(method, pattern, "to set the error style of").errorStyle = style;
}

std::string joinMethods(const std::vector<std::string>& methods) {
    std::string out;
    for (const auto& m : methods) {
        if (!out.empty()) out += ", ";
        out += m;
    }
    return out;
}

}  // namespace paddock::server
