// events: a subscription delivers lifecycle changes; after unsubscribing (and after close) the
// old sink is never called again.
#include "groups.hpp"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace paddock::conformance {

namespace {

using namespace std::chrono_literals;

// The `user` of the kit's event sink. Lives until the process ends (a late call stays safe).
class EventProbe {
public:
    static void sink(void* user, const char* name, pdk_lifecycle_event event) {
        auto* self = static_cast<EventProbe*>(user);
        if (self->inside_.fetch_add(1) > 0) ++self->overlapping_;
        if (self->retired_) ++self->afterRetired_;
        {
            std::lock_guard lock(self->mutex_);
            self->seen_.emplace_back(name != nullptr ? name : "", event);
        }
        self->changed_.notify_all();
        --self->inside_;
    }
    // Whether `event` for `name` arrived within `limit`.
    bool waitFor(const std::string& name, pdk_lifecycle_event event, std::chrono::milliseconds limit) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, limit, [&] {
            for (const auto& [n, e] : seen_) {
                if (n == name && e == event) return true;
            }
            return false;
        });
    }
    void retire() { retired_ = true; }  // after the call that removed the sink returned
    int afterRetired() const { return afterRetired_; }
    int overlapping() const { return overlapping_; }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::pair<std::string, pdk_lifecycle_event>> seen_;
    std::atomic<int> inside_{0};
    std::atomic<int> overlapping_{0};
    std::atomic<bool> retired_{false};
    std::atomic<int> afterRetired_{0};
};

// Event probes are never freed (a late call must land in live memory); kept reachable so that
// LeakSanitizer does not count them.
EventProbe* keptProbe() {
    static auto* kept = new std::vector<std::unique_ptr<EventProbe>>;
    kept->push_back(std::make_unique<EventProbe>());
    return kept->back().get();
}

// Causes lifecycle changes on `name`: define, start, destroy, undefine (as far as supported).
void churn(Session& s, const std::string& name) {
    ErrorRecord err;
    pdk_domain_spec spec = minimalSpec(name.c_str());
    defineTracked(s, spec, err);
    if (s.vt.start_domain != nullptr) s.vt.start_domain(s.conn, name.c_str(), 0, err.reset());
    if (s.vt.destroy_domain != nullptr) s.vt.destroy_domain(s.conn, name.c_str(), 0, err.reset());
    if (s.vt.undefine_domain != nullptr) s.vt.undefine_domain(s.conn, name.c_str(), 0, err.reset());
}

void checkDelivery(Session& s, EventProbe& probe) {
    const std::string name = s.domainName("events");
    ErrorRecord err;
    pdk_domain_spec spec = minimalSpec(name.c_str());
    const pdk_status st = defineTracked(s, spec, err);
    if (!expectStatus(s.report, "events/define", st, err, {PDK_OK})) return;
    s.report.expect(probe.waitFor(name, PDK_EVENT_DEFINED, 5000ms), "events/defined",
                    "no PDK_EVENT_DEFINED for " + name + " within 5 s");
    if (s.vt.start_domain != nullptr && s.vt.destroy_domain != nullptr &&
        s.vt.start_domain(s.conn, name.c_str(), 0, err.reset()) == PDK_OK) {
        s.report.expect(probe.waitFor(name, PDK_EVENT_STARTED, 5000ms), "events/started",
                        "no PDK_EVENT_STARTED within 5 s");
        s.vt.destroy_domain(s.conn, name.c_str(), 0, err.reset());
        s.report.expect(probe.waitFor(name, PDK_EVENT_STOPPED, 5000ms), "events/stopped",
                        "no PDK_EVENT_STOPPED within 5 s");
    }
}

void checkUnsubscribe(Session& s, EventProbe& probe) {
    ErrorRecord err;
    const pdk_status st = s.vt.subscribe_events(s.conn, nullptr, nullptr, 0, err.reset());
    probe.retire();
    if (!expectStatus(s.report, "events/unsubscribe", st, err, {PDK_OK})) return;
    churn(s, s.domainName("events-after"));
    std::this_thread::sleep_for(1000ms);
    s.report.expect(probe.afterRetired() == 0, "events/silent-after-unsubscribe",
                    std::to_string(probe.afterRetired()) + " sink call(s) after subscribe_events(NULL) returned");
}

// The same guarantee for close: a second connection subscribes and closes; changes made through
// the first must not reach its sink.
void checkClose(Session& s) {
    ErrorRecord err;
    pdk_backend_connection* other = nullptr;
    if (s.vt.open(s.options.uri.c_str(), 0, &other, err.reset()) != PDK_OK || other == nullptr) {
        s.report.skip("events/silent-after-close", "cannot open a second connection: " + err.message());
        return;
    }
    EventProbe* probe = keptProbe();
    const pdk_status st = s.vt.subscribe_events(other, &EventProbe::sink, probe, 0, err.reset());
    s.vt.close(other);
    probe->retire();
    if (st != PDK_OK) {
        s.report.fail("events/silent-after-close", "subscribe on a second connection returned " + err.describe(st));
        return;
    }
    churn(s, s.domainName("events-closed"));
    std::this_thread::sleep_for(1000ms);
    s.report.expect(probe->afterRetired() == 0, "events/silent-after-close",
                    std::to_string(probe->afterRetired()) + " sink call(s) after close returned");
}

}  // namespace

void runEventsGroup(Session& s) {
    if (s.vt.subscribe_events == nullptr) {
        s.report.skip("events", "subscribe_events is NULL");
        return;
    }
    if (s.vt.define_domain == nullptr) {
        s.report.skip("events", "define_domain is NULL: the kit cannot cause a change");
        return;
    }
    EventProbe* probe = keptProbe();
    ErrorRecord err;
    const pdk_status st = s.vt.subscribe_events(s.conn, &EventProbe::sink, probe, 0, err.reset());
    if (!expectStatus(s.report, "events/subscribe", st, err, {PDK_OK})) return;
    checkDelivery(s, *probe);
    checkUnsubscribe(s, *probe);
    s.report.expect(probe->overlapping() == 0, "events/not-concurrent",
                    "the sink ran concurrently with itself " + std::to_string(probe->overlapping()) + " time(s)");
    checkClose(s);
}

}  // namespace paddock::conformance
