#include "paddock/core/polled_events.hpp"

namespace paddock {

std::vector<pdk_lifecycle_event> eventsBetween(DomainState before, DomainState after) {
    if (before == after) return {};
    const bool wasActive = domainIsActive(before);
    const bool isActive = domainIsActive(after);
    std::vector<pdk_lifecycle_event> events;
    if (!wasActive && isActive) events.push_back(PDK_EVENT_STARTED);
    switch (after) {
        case DomainState::Running:
        case DomainState::Blocked:
            if (before == DomainState::Paused || before == DomainState::PmSuspended) events.push_back(PDK_EVENT_RESUMED);
            break;
        case DomainState::Paused: events.push_back(PDK_EVENT_SUSPENDED); break;
        case DomainState::Shutdown: events.push_back(PDK_EVENT_SHUTDOWN); break;
        case DomainState::PmSuspended: events.push_back(PDK_EVENT_PMSUSPENDED); break;
        case DomainState::Shutoff: events.push_back(PDK_EVENT_STOPPED); break;
        case DomainState::Crashed: events.push_back(PDK_EVENT_CRASHED); break;
        case DomainState::NoState: break;
    }
    return events;
}

std::vector<std::pair<std::string, pdk_lifecycle_event>> eventsBetweenListings(
    const std::map<std::string, DomainState>& before, const std::map<std::string, DomainState>& now) {
    std::vector<std::pair<std::string, pdk_lifecycle_event>> changes;
    for (const auto& [name, state] : now) {
        const auto was = before.find(name);
        if (was == before.end()) changes.emplace_back(name, PDK_EVENT_DEFINED);
        const DomainState from = was == before.end() ? DomainState::Shutoff : was->second;
        for (const pdk_lifecycle_event e : eventsBetween(from, state)) changes.emplace_back(name, e);
    }
    for (const auto& [name, state] : before)
        if (now.count(name) == 0) changes.emplace_back(name, PDK_EVENT_UNDEFINED);
    return changes;
}

}  // namespace paddock
