// What a site's configuration asks of its backend plugin. Each configured feature needs some
// vtable entries (a template's base image: create_overlay; a watch: snapshot_revert; a saved
// pool: save_domain; a paused pool: suspend_domain, ...); a backend without one of them would
// fail every VM of that template or pool at run time, so paddockd refuses to start instead,
// naming the key. Pure; thread-safe.
#pragma once

#include "paddock/core/backend.hpp"
#include "paddock/core/config.hpp"
#include "paddock/core/result.hpp"

#include <string>
#include <vector>

namespace paddock {

// InvalidArgument "sites[i].templates[j].watch: backend <id> has no snapshot_revert (a watched VM
// is reverted to its snapshot)" for the first feature of `site` that `backend` cannot serve.
// `index` is the site's position in the config (for the key path).
Status requireBackendCovers(const SiteConfig& site, size_t index, const BackendPlugin& backend);

}  // namespace paddock
