#include "paddock/server/watch_requests.hpp"

#include "paddock/core/enum_names.hpp"
#include "paddock/core/names.hpp"
#include "paddock/server/json.hpp"

#include <cmath>

namespace paddock::server {

namespace {

Status invalid(const std::string& what) { return makeError(ErrorCode::InvalidArgument, what); }

// Seconds as a JSON number (decimals allowed), kept as whole milliseconds in [minMs, maxMs].
Result<std::optional<uint32_t>> optionalSeconds(const rapidjson::Value& object, const char* field, uint32_t minMs,
                                                uint32_t maxMs) {
    const auto it = object.FindMember(field);
    if (it == object.MemberEnd() || it->value.IsNull()) return std::optional<uint32_t>();
    if (!it->value.IsNumber())
        return makeError(ErrorCode::InvalidArgument, std::string("'") + field + "' must be a number of seconds");
    const double ms = std::round(it->value.GetDouble() * 1000.0);
    if (!(ms >= minMs && ms <= maxMs))
        return makeError(ErrorCode::InvalidArgument, std::string("'") + field + "' must be between " +
                                                         std::to_string(minMs / 1000.0).substr(0, 5) + " and " +
                                                         std::to_string(maxMs / 1000) + " seconds");
    return std::optional<uint32_t>(static_cast<uint32_t>(ms));
}

}  // namespace

Result<WatchPatch> parseWatchBody(std::string_view text) {
    auto document = parseJsonObject(text, true);
    if (!document) return std::move(document).error();
    const rapidjson::Value& body = document.value();
    if (auto known = rejectUnknownFields(body, {"snapshot", "heartbeat_timeout_s", "check_interval_s", "startup_grace_s",
                                                "startup_max_wait_s", "probe", "auto_revert", "revert_on_start"});
        !known)
        return std::move(known).error();
    WatchPatch patch;
    auto snapshot = optionalString(body, "snapshot");
    if (!snapshot) return std::move(snapshot).error();
    if (snapshot.value()) {
        if (auto valid = validateName(*snapshot.value(), "snapshot name"); !valid) return std::move(valid).error();
        patch.snapshot = std::move(snapshot.value());
    }
    const struct {
        const char* field;
        std::optional<uint32_t>* out;
        uint32_t min;
        uint32_t max;
    } durations[] = {{"heartbeat_timeout_s", &patch.heartbeat_timeout_ms, 1000, 86400000},
                     {"check_interval_s", &patch.check_interval_ms, 100, 60000},
                     {"startup_grace_s", &patch.startup_grace_ms, 0, 3600000},
                     {"startup_max_wait_s", &patch.startup_max_wait_ms, 1000, 86400000}};
    for (const auto& d : durations) {
        auto value = optionalSeconds(body, d.field, d.min, d.max);
        if (!value) return std::move(value).error();
        *d.out = value.value();
    }
    auto probe = optionalString(body, "probe");
    if (!probe) return std::move(probe).error();
    if (probe.value()) {
        patch.probe = parseEnum<WatchProbeKind>(*probe.value());
        if (!patch.probe) return invalid("'probe' must be one of: " + enumChoices<WatchProbeKind>()).error();
    }
    for (auto [field, out] : {std::pair{"auto_revert", &patch.auto_revert},
                              std::pair{"revert_on_start", &patch.revert_on_start}}) {
        auto value = optionalBool(body, field);
        if (!value) return std::move(value).error();
        *out = value.value();
    }
    return patch;
}

Result<HeartbeatInput> parseHeartbeat(const std::map<std::string, std::string>& query, std::string_view text) {
    HeartbeatInput in;
    if (const auto it = query.find("status"); it != query.end()) in.status = it->second;
    if (const auto it = query.find("message"); it != query.end()) in.message = it->second;
    if (!isBlank(text)) {
        auto document = parseJsonObject(text);
        if (!document) return std::move(document).error();
        const rapidjson::Value& body = document.value();
        if (auto known = rejectUnknownFields(body, {"status", "message"}); !known) return std::move(known).error();
        for (auto [field, out] : {std::pair{"status", &in.status}, std::pair{"message", &in.message}}) {
            auto value = optionalString(body, field);
            if (!value) return std::move(value).error();
            if (value.value()) *out = std::move(*value.value());
        }
    }
    if (auto valid = validateLabel(in.status, "status", kMaxHeartbeatStatusBytes, false); !valid)
        return std::move(valid).error();
    if (auto valid = validateLabel(in.message, "message", kMaxHeartbeatMessageBytes, false); !valid)
        return std::move(valid).error();
    return in;
}

Result<RevertRequestInput> parseRevertRequest(std::string_view text) {
    auto document = parseJsonObject(text);
    if (!document) return std::move(document).error();
    const rapidjson::Value& body = document.value();
    if (auto known = rejectUnknownFields(body, {"reason", "severity", "delay_s"}); !known)
        return std::move(known).error();
    RevertRequestInput in;
    auto reason = requireString(body, "reason");
    if (!reason) return std::move(reason).error();
    in.reason = std::move(reason.value());
    if (auto valid = validateLabel(in.reason, "reason", kMaxRevertReasonBytes, false); !valid)
        return std::move(valid).error();
    auto severity = optionalString(body, "severity");
    if (!severity) return std::move(severity).error();
    in.severity = severity.value().value_or("");
    if (auto valid = validateLabel(in.severity, "severity", kMaxHeartbeatStatusBytes, false); !valid)
        return std::move(valid).error();
    auto delay = optionalUint(body, "delay_s", 0, kMaxRevertDelaySeconds);
    if (!delay) return std::move(delay).error();
    in.delay_s = static_cast<uint32_t>(delay.value().value_or(0));
    return in;
}

Result<double> parseIdleReset(std::string_view text) {
    auto document = parseJsonObject(text, true);
    if (!document) return std::move(document).error();
    const rapidjson::Value& body = document.value();
    if (auto known = rejectUnknownFields(body, {"idle_duration"}); !known) return std::move(known).error();
    const auto it = body.FindMember("idle_duration");
    if (it == body.MemberEnd() || it->value.IsNull()) return 0.0;
    if (!it->value.IsNumber() || !(it->value.GetDouble() >= 0) || it->value.GetDouble() > 1e9)
        return invalid("'idle_duration' must be a number of seconds, 0 or more").error();
    return it->value.GetDouble();
}

}  // namespace paddock::server
