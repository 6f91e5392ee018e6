// For backends without an event stream: the lifecycle events a backend would have sent, derived
// from two listings of a site's domains. Pure; reentrant.
#pragma once

#include "paddock/core/backend.hpp"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace paddock {

// The events for one domain going from `before` to `after`, in the order libvirt sends them:
// leaving an inactive state for an active one is STARTED, followed by SUSPENDED, SHUTDOWN or
// PMSUSPENDED when it is not running yet (QEMU starts domains paused, so a listing often catches
// one paused right after its start); PAUSED → RUNNING is RESUMED; reaching shut off is STOPPED,
// crashed CRASHED.
std::vector<pdk_lifecycle_event> eventsBetween(DomainState before, DomainState after);

// The events that turn listing `before` into listing `now` (domain name → state): a new domain
// is DEFINED (off) and then whatever its state says, a vanished one UNDEFINED.
std::vector<std::pair<std::string, pdk_lifecycle_event>> eventsBetweenListings(
    const std::map<std::string, DomainState>& before, const std::map<std::string, DomainState>& now);

}  // namespace paddock
