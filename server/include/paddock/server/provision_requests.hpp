// Reading the bodies and queries of the provisioning and operation routes: the become password
// (POST /api/v1/provisioner/secret, the old POST /ansible/auth), the operations listing's filter
// and the output's position. Pure functions over bytes; InvalidArgument naming the offending field.
#pragma once

#include "paddock/core/operations.hpp"
#include "paddock/core/result.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace paddock::server {

inline constexpr size_t kMaxOperationListLimit = 1000;

// Reads {"password": "<string>"} from `body` without leaving a copy of the password anywhere:
// `body` is moved into a private buffer and overwritten with zero bytes at once, the JSON is
// parsed in place there, `use` gets a view into that buffer, which is zeroed afterwards whatever
// happened. `use` must copy what it keeps. InvalidArgument (naming no byte of the password) for anything but one object with one
// string member "password"; otherwise what `use` returns.
Status withPasswordFromBody(std::string& body, const std::function<Status(std::string_view password)>& use);

// GET /api/v1/operations: ?vm= ?state= (queued, running, succeeded, failed, cancelled) ?kind=
// ?limit= (1..kMaxOperationListLimit, default 100).
Result<OperationFilter> parseOperationQuery(const std::map<std::string, std::string>& query);

// GET /api/v1/operations/{id}/output: ?offset= (bytes already read, default 0) ?follow= (keep
// the answer open while the operation runs; default true).
struct OutputQuery {
    uint64_t offset = 0;
    bool follow = true;
};
Result<OutputQuery> parseOutputQuery(const std::map<std::string, std::string>& query);

}  // namespace paddock::server
