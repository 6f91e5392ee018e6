#include "paddock/server/vm_requests.hpp"

#include "paddock/core/limits.hpp"
#include "paddock/core/names.hpp"
#include "paddock/server/json.hpp"

namespace paddock::server {

Result<CreateBody> parseCreateBody(std::string_view text) {
    auto document = parseJsonObject(text);
    if (!document) return std::move(document).error();
    const rapidjson::Value& body = document.value();
    if (auto known = rejectUnknownFields(body, {"name", "template", "vcpus", "memory_mb", "owner", "start", "site", "provision"});
        !known)
        return std::move(known).error();
    CreateBody out;
    CreateVmRequest& request = out.request;
    auto name = requireString(body, "name");
    if (!name) return std::move(name).error();
    request.name = std::move(name.value());
    auto vcpus = optionalUint(body, "vcpus", limits::kMinVcpus, limits::kMaxVcpus);
    if (!vcpus) return std::move(vcpus).error();
    auto memory = optionalUint(body, "memory_mb", limits::kMinMemoryMb, limits::kMaxMemoryMb);
    if (!memory) return std::move(memory).error();
    auto owner = optionalString(body, "owner");
    if (!owner) return std::move(owner).error();
    request.owner = std::move(owner.value());
    if (vcpus.value()) request.vcpus = static_cast<uint32_t>(*vcpus.value());
    request.memory_mb = memory.value();
    auto templateName = optionalString(body, "template");
    if (!templateName) return std::move(templateName).error();
    request.template_name = std::move(templateName.value());
    auto start = optionalBool(body, "start");
    if (!start) return std::move(start).error();
    request.start = start.value().value_or(true);
    auto site = optionalString(body, "site");
    if (!site) return std::move(site).error();
    out.site = std::move(site.value());
    auto provision = optionalBool(body, "provision");
    if (!provision) return std::move(provision).error();
    out.provision = provision.value();
    if (out.provision.value_or(false) && !request.start)
        return makeError(ErrorCode::InvalidArgument, "'provision': true needs a started VM ('start' is false)");
    return out;
}

Result<SnapshotBody> parseSnapshotBody(std::string_view text) {
    auto document = parseJsonObject(text);
    if (!document) return std::move(document).error();
    const rapidjson::Value& body = document.value();
    if (auto known = rejectUnknownFields(body, {"name", "description", "replace"}); !known)
        return std::move(known).error();
    SnapshotBody out;
    auto name = requireString(body, "name");
    if (!name) return std::move(name).error();
    out.name = std::move(name.value());
    auto description = optionalString(body, "description");
    if (!description) return std::move(description).error();
    out.description = description.value().value_or("");
    auto replace = optionalBool(body, "replace");
    if (!replace) return std::move(replace).error();
    out.replace = replace.value().value_or(false);
    return out;
}

Result<std::optional<bool>> parseRevertBody(std::string_view text) {
    auto document = parseJsonObject(text, true);
    if (!document) return std::move(document).error();
    if (auto known = rejectUnknownFields(document.value(), {"start"}); !known) return std::move(known).error();
    return optionalBool(document.value(), "start");
}

Result<RestoreBody> parseRestoreBody(std::string_view text) {
    auto document = parseJsonObject(text);
    if (!document) return std::move(document).error();
    const rapidjson::Value& body = document.value();
    if (auto known = rejectUnknownFields(body, {"as", "start", "owner", "template"}); !known)
        return std::move(known).error();
    RestoreBody out;
    auto as = requireString(body, "as");
    if (!as) return std::move(as).error();
    out.as = std::move(as.value());
    auto start = optionalBool(body, "start");
    if (!start) return std::move(start).error();
    out.start = start.value().value_or(true);
    auto owner = optionalString(body, "owner");
    if (!owner) return std::move(owner).error();
    if (owner.value()) {
        if (auto valid = validateOwner(*owner.value(), false); !valid) return std::move(valid).error();
    }
    out.owner = std::move(owner.value());
    auto tmpl = optionalString(body, "template");
    if (!tmpl) return std::move(tmpl).error();
    out.template_name = std::move(tmpl.value());
    return out;
}

Status parseBackupBody(std::string_view text) {
    auto document = parseJsonObject(text, true);
    if (!document) return std::move(document).error();
    return rejectUnknownFields(document.value(), {});
}

}  // namespace paddock::server
