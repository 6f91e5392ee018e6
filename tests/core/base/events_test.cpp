#include "paddock/core/events.hpp"

#include <catch2/catch.hpp>

#include <atomic>

using paddock::EventHub;
using paddock::VmEvent;

TEST_CASE("subscribers receive events until their subscription ends", "[events]") {
    auto hub = EventHub::create();
    std::atomic<int> a{0}, b{0};
    auto subA = hub->subscribe([&](const VmEvent&) { ++a; });
    {
        auto subB = hub->subscribe([&](const VmEvent& e) {
            ++b;
            CHECK(e.time_ms > 0);
        });
        hub->publish({"s", "vm", "lifecycle", "started", 1, "booting", 0, "", ""});
    }
    hub->publish({"s", "vm", "lifecycle", "stopped", 5, "stopped", 0, "", ""});
    CHECK(a == 2);
    CHECK(b == 1);
}

TEST_CASE("a throwing subscriber does not silence the others; subscriptions may outlive the hub", "[events]") {
    auto hub = EventHub::create();
    int ok = 0;
    auto bad = hub->subscribe([](const VmEvent&) { throw std::runtime_error("boom"); });
    auto good = hub->subscribe([&](const VmEvent&) { ++ok; });
    hub->publish({});
    CHECK(ok == 1);
    hub.reset();
    good.reset();  // must not crash
}
