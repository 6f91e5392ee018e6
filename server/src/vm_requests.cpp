#include "paddock/server/vm_requests.hpp"

#include "paddock/core/limits.hpp"
#include "paddock/core/names.hpp"
#include "paddock/server/json.hpp"

#include <algorithm>
#include <array>

namespace paddock::server {

namespace {

constexpr std::array kDomainStates = {DomainState::NoState, DomainState::Running,  DomainState::Blocked,
                                      DomainState::Paused,  DomainState::Shutdown, DomainState::Shutoff,
                                      DomainState::Crashed, DomainState::PmSuspended};

// "shutoff" as well as the listing's "shut off", which needs escaping in a URL.
std::optional<DomainState> parseDomainState(std::string_view word) {
    if (word == "shutoff") return DomainState::Shutoff;
    for (const DomainState state : kDomainStates)
        if (domainStateName(state) == word) return state;
    return std::nullopt;
}

}  // namespace

bool ListingFilter::keeps(std::string_view vmOwner, DomainState state) const noexcept {
    if (owner && vmOwner != *owner) return false;
    return states.empty() || std::find(states.begin(), states.end(), state) != states.end();
}

Result<ListingFilter> parseListingFilter(const std::optional<std::string>& owner,
                                         const std::optional<std::string>& state) {
    ListingFilter filter;
    if (owner) {
        // An owner token asking for another owner finds none (the route filters by token too),
        // as with leases and sessions.
        if (auto valid = validateOwner(*owner, true); !valid) return std::move(valid).error();
        filter.owner = *owner;
    }
    if (state) {
        std::string_view rest = *state;
        for (;;) {
            const size_t comma = rest.find(',');
            const auto parsed = parseDomainState(rest.substr(0, comma));
            if (!parsed)
                return makeError(ErrorCode::InvalidArgument,
                                 "?state= takes states separated by commas: running, blocked, paused, shutdown, "
                                 "shut off (or shutoff), crashed, pmsuspended, nostate");
            filter.states.push_back(*parsed);
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
    }
    return filter;
}

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
