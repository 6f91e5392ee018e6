// Reading the bodies and queries of the watch and guest routes (native /api/v1/vms/{name}/watch,
// .../heartbeat, .../revert-request, .../idle-reset and the exhibition controller's forms).
// Pure functions over bytes; InvalidArgument naming the offending field.
#pragma once

#include "paddock/core/config.hpp"
#include "paddock/core/result.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace paddock::server {

inline constexpr size_t kMaxHeartbeatStatusBytes = 64;
inline constexpr size_t kMaxHeartbeatMessageBytes = 512;
inline constexpr size_t kMaxRevertReasonBytes = 512;
inline constexpr uint32_t kMaxRevertDelaySeconds = 3600;

// POST /api/v1/vms/{name}/watch: {snapshot?, heartbeat_timeout_s?, check_interval_s?,
// startup_grace_s?, startup_max_wait_s?, probe?, auto_revert?, revert_on_start?}; an empty body
// changes nothing (watch with the current, template or default settings). Unknown fields are refused.
Result<WatchPatch> parseWatchBody(std::string_view body);

// A heartbeat's optional status and message: from the query (GET, and POST as the old guest
// scripts send it) or a JSON body {status?, message?} (POST). The body wins where both give one.
struct HeartbeatInput {
    std::string status;
    std::string message;
};
Result<HeartbeatInput> parseHeartbeat(const std::map<std::string, std::string>& query, std::string_view body);

// POST .../revert-request (and the old /api/v1/revert/request): {reason, severity?, delay_s?}.
// The old controller required reason; a missing one is refused as it was (422 on the compat route).
struct RevertRequestInput {
    std::string reason;
    std::string severity;
    uint32_t delay_s = 0;
};
Result<RevertRequestInput> parseRevertRequest(std::string_view body);

// POST .../idle-reset (and the old /api/v1/idle/reset): {idle_duration?} seconds, >= 0.
Result<double> parseIdleReset(std::string_view body);

}  // namespace paddock::server
