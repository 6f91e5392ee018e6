// Reading the native "create a VM" body (POST /api/v1/vms); sizes are checked against core's
// limits (limits.hpp). The earlier VM manager's POST /vms/create reads its body as that
// service's pydantic model did (compat_requests.hpp).
#pragma once

#include "paddock/core/backend.hpp"
#include "paddock/core/domain_plan.hpp"
#include "paddock/core/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paddock::server {

struct CreateBody {
    CreateVmRequest request;
    std::optional<std::string> site;  // Native only
    std::optional<bool> provision;    // Native only; absent: the template's provision.on_create
};

// {name, template?, vcpus?, memory_mb?, owner?, start?, site?, provision?}; unknown fields are refused;
// absent sizes come from the template or the site. InvalidArgument naming the offending field.
Result<CreateBody> parseCreateBody(std::string_view body);

// GET /api/v1/vms?owner=&state=: what a listing keeps. `owner` must be a valid owner (names.hpp);
// `state` is one or more states separated by commas, spelt as the listing spells them
// ("running", "shut off", ...; "shutoff" too). Absent parts keep everything. InvalidArgument
// naming the parameter otherwise.
struct ListingFilter {
    std::optional<std::string> owner;
    std::vector<DomainState> states;

    bool empty() const noexcept { return !owner && states.empty(); }
    bool keeps(std::string_view vmOwner, DomainState state) const noexcept;
};
Result<ListingFilter> parseListingFilter(const std::optional<std::string>& owner,
                                         const std::optional<std::string>& state);

// POST /api/v1/vms/{name}/snapshots: {name, description?, replace?: false}. The name and the
// description are checked by VmService::createSnapshot.
struct SnapshotBody {
    std::string name;
    std::string description;
    bool replace = false;
};
Result<SnapshotBody> parseSnapshotBody(std::string_view body);

// POST .../snapshots/{snap}/revert: empty, {} or {start: bool}; absent: the recorded state.
Result<std::optional<bool>> parseRevertBody(std::string_view body);

// POST .../backups/{id}/restore: {as, start?: true, owner?, template?}; `as` is checked by
// BackupService::restore, the owner here.
struct RestoreBody {
    std::string as;
    bool start = true;
    std::optional<std::string> owner;
    std::optional<std::string> template_name;
};
Result<RestoreBody> parseRestoreBody(std::string_view body);

// POST .../backups: empty or {} (nothing to choose yet; unknown fields are refused).
Status parseBackupBody(std::string_view body);

}  // namespace paddock::server
