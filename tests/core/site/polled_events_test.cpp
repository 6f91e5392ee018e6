// The events a polled site derives from two listings, checked against what libvirt sends.
#include "paddock/core/polled_events.hpp"

#include <catch2/catch.hpp>

using namespace paddock;

namespace {
using Events = std::vector<pdk_lifecycle_event>;
}  // namespace

TEST_CASE("polled events: each state change is the event sequence libvirt would send", "[site][poll]") {
    using S = DomainState;
    CHECK(eventsBetween(S::Shutoff, S::Shutoff).empty());
    CHECK(eventsBetween(S::Running, S::Blocked).empty());
    CHECK(eventsBetween(S::Shutoff, S::Running) == Events{PDK_EVENT_STARTED});
    // QEMU starts a domain paused and resumes it: a poll in between sees it paused, and the start
    // must still be reported as a start (found by system_api's virsh site).
    CHECK(eventsBetween(S::Shutoff, S::Paused) == Events{PDK_EVENT_STARTED, PDK_EVENT_SUSPENDED});
    CHECK(eventsBetween(S::Paused, S::Running) == Events{PDK_EVENT_RESUMED});
    CHECK(eventsBetween(S::Running, S::Paused) == Events{PDK_EVENT_SUSPENDED});
    CHECK(eventsBetween(S::PmSuspended, S::Running) == Events{PDK_EVENT_RESUMED});
    CHECK(eventsBetween(S::Running, S::PmSuspended) == Events{PDK_EVENT_PMSUSPENDED});
    CHECK(eventsBetween(S::Running, S::Shutdown) == Events{PDK_EVENT_SHUTDOWN});
    CHECK(eventsBetween(S::Running, S::Shutoff) == Events{PDK_EVENT_STOPPED});
    CHECK(eventsBetween(S::Paused, S::Shutoff) == Events{PDK_EVENT_STOPPED});
    CHECK(eventsBetween(S::Running, S::Crashed) == Events{PDK_EVENT_CRASHED});
    CHECK(eventsBetween(S::Crashed, S::Shutoff) == Events{PDK_EVENT_STOPPED});
    CHECK(eventsBetween(S::Crashed, S::Running) == Events{PDK_EVENT_STARTED});
    CHECK(eventsBetween(S::NoState, S::Running) == Events{PDK_EVENT_STARTED});
    CHECK(eventsBetween(S::Running, S::NoState).empty());
}

TEST_CASE("polled events: listings become defined, state and undefined events per domain", "[site][poll]") {
    using S = DomainState;
    using Changes = std::vector<std::pair<std::string, pdk_lifecycle_event>>;
    const std::map<std::string, S> before{{"kept", S::Running}, {"gone", S::Shutoff}, {"stopping", S::Running}};
    const std::map<std::string, S> now{{"kept", S::Running}, {"new-off", S::Shutoff}, {"new-paused", S::Paused},
                                       {"stopping", S::Shutoff}};
    CHECK(eventsBetweenListings(before, now) == Changes{{"new-off", PDK_EVENT_DEFINED},
                                                        {"new-paused", PDK_EVENT_DEFINED},
                                                        {"new-paused", PDK_EVENT_STARTED},
                                                        {"new-paused", PDK_EVENT_SUSPENDED},
                                                        {"stopping", PDK_EVENT_STOPPED},
                                                        {"gone", PDK_EVENT_UNDEFINED}});
    CHECK(eventsBetweenListings(now, now).empty());
}
