#include "paddock/server/http_types.hpp"

#include "paddock/server/http_wire.hpp"

namespace paddock::server {

std::optional<std::string> Request::queryValue(const std::string& name) const {
    const auto it = query.find(name);
    if (it == query.end()) return std::nullopt;
    return it->second;
}

bool Request::prefers(std::string_view preference) const {
    const auto it = headers.find("prefer");
    return it != headers.end() && wire::preferHeaderNames(it->second, preference);
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
