#include "paddock/server/http_types.hpp"

namespace paddock::server {

std::optional<std::string> Request::queryValue(const std::string& name) const {
    const auto it = query.find(name);
    if (it == query.end()) return std::nullopt;
    return it->second;
}

bool preferHeaderNames(std::string_view header, std::string_view token) noexcept {
    const auto isSpace = [](char c) { return c == ' ' || c == '\t'; };
    while (!header.empty()) {
        const size_t comma = header.find(',');
        std::string_view item = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
        item = item.substr(0, item.find_first_of(";="));
        while (!item.empty() && isSpace(item.front())) item.remove_prefix(1);
        while (!item.empty() && isSpace(item.back())) item.remove_suffix(1);
        if (item.size() != token.size()) continue;
        bool same = true;
        for (size_t i = 0; i < item.size() && same; ++i) {
            const char c = item[i] >= 'A' && item[i] <= 'Z' ? static_cast<char>(item[i] - 'A' + 'a') : item[i];
            same = c == token[i];
        }
        if (same) return true;
    }
    return false;
}

bool Request::prefers(std::string_view preference) const {
    const auto it = headers.find("prefer");
    return it != headers.end() && preferHeaderNames(it->second, preference);
}

Result<bool> Request::queryFlag(const std::string& name) const {
    const auto value = queryValue(name);
    if (!value || *value == "false" || *value == "0") return false;
    if (*value == "true" || *value == "1" || value->empty()) return true;
    return makeError(ErrorCode::InvalidArgument, "query parameter '" + name + "' must be true or false");
}

Response jsonResponse(int status, std::string body) {
    Response response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

std::string webSocketOwner(const Request& request) {
    return request.identity.token && !request.grant ? request.identity.name : std::string();
}

Response upgradeResponse(UpgradeHandOver handOver) {
    Response response;
    response.status = 101;
    response.upgrade = std::move(handOver);
    return response;
}

}  // namespace paddock::server
