#include "paddock/server/vm_requests.hpp"

#include "paddock/core/limits.hpp"
#include "paddock/server/json.hpp"

namespace paddock::server {

Result<CreateBody> parseCreateBody(std::string_view text) {
    auto document = parseJsonObject(text);
    if (!document) return std::move(document).error();
    const rapidjson::Value& body = document.value();
    if (auto known = rejectUnknownFields(body, {"name", "template", "vcpus", "memory_mb", "owner", "start", "site"});
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
    return out;
}

}  // namespace paddock::server
