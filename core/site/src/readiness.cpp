#include "paddock/core/readiness.hpp"

#include <algorithm>
#include <thread>

namespace paddock {

namespace {
// A refused attempt costs the guest next to nothing (its kernel answers with a reset), so it is
// retried soon: sshd is found listening within this much of starting.
constexpr auto kRetryInterval = std::chrono::milliseconds(100);
// Until the guest's network is up, QEMU's user-mode forward holds each connection open silently
// and retries its own SYN to the guest only seconds later, so a fresh connection every second
// is the quicker way to reach the guest.
constexpr auto kBannerTimeout = std::chrono::seconds(1);
// Once the guest's own TCP stack has refused a connection (closed before any banner), silence
// means its sshd has accepted and is starting the session: wait for that one instead of
// dropping it and making sshd start another.
constexpr auto kBannerTimeoutGuestUp = std::chrono::seconds(5);
constexpr auto kAttemptTimeout = std::chrono::seconds(10);
constexpr unsigned kMaxAllowanceDoublings = 2;
}  // namespace

ProbeAllowance probeAllowance(unsigned attemptsTimedOut) noexcept {
    const int factor = 1 << std::min(attemptsTimedOut, kMaxAllowanceDoublings);
    return ProbeAllowance{std::chrono::milliseconds(kBannerTimeoutGuestUp) * factor,
                          std::chrono::milliseconds(kAttemptTimeout) * factor};
}

std::string_view readinessName(Readiness r) noexcept {
    switch (r) {
        case Readiness::Unknown: return "unknown";
        case Readiness::Stopped: return "stopped";
        case Readiness::Booting: return "booting";
        case Readiness::Ready: return "ready";
        case Readiness::Unreachable: return "unreachable";
    }
    return "unknown";
}

struct ReadinessTracker::Probe {
    std::string vm;
    ProbeKind kind = ProbeKind::Full;
    bool cancelled = false;  // guarded by the tracker's mutex
};

ReadinessTracker::ReadinessTracker(std::string site, EndpointResolver resolver, std::shared_ptr<EventHub> events,
                                   std::chrono::milliseconds timeout)
    : site_(std::move(site)), resolver_(std::move(resolver)), events_(std::move(events)), timeout_(timeout) {}

ReadinessTracker::~ReadinessTracker() {
    std::unique_lock lock(mutex_);
    for (auto& [vm, probe] : probes_) probe->cancelled = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return running_ == 0; });
}

void ReadinessTracker::begin(const std::string& vm, ProbeKind kind) {
    auto probe = std::make_shared<Probe>();
    probe->vm = vm;
    probe->kind = kind;
    {
        std::lock_guard lock(mutex_);
        if (auto it = probes_.find(vm); it != probes_.end()) it->second->cancelled = true;
        probes_[vm] = probe;
        ++running_;
    }
    set(vm, probe, ReadinessInfo{Readiness::Booting, std::chrono::system_clock::now(), 0, {}, {}});
    changed_.notify_all();
    std::thread([this, probe] { run(probe); }).detach();
}

void ReadinessTracker::cancel(const std::string& vm, Readiness state) {
    {
        std::lock_guard lock(mutex_);
        if (auto it = probes_.find(vm); it != probes_.end()) {
            it->second->cancelled = true;
            probes_.erase(it);
        }
        if (state == Readiness::Unknown) {
            ++generation_;
            infos_.erase(vm);
            changed_.notify_all();
            return;
        }
    }
    changed_.notify_all();
    set(vm, nullptr, ReadinessInfo{state, std::chrono::system_clock::now(), 0, {}, {}});
}

ReadinessInfo ReadinessTracker::get(const std::string& vm) const {
    std::lock_guard lock(mutex_);
    const auto it = infos_.find(vm);
    return it == infos_.end() ? ReadinessInfo{} : it->second;
}

uint64_t ReadinessTracker::generation() const {
    std::lock_guard lock(mutex_);
    return generation_;
}

ReadinessInfo ReadinessTracker::waitSettled(const std::string& vm, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] {
        const auto it = infos_.find(vm);
        return it != infos_.end() && it->second.state != Readiness::Booting;
    });
    const auto it = infos_.find(vm);
    return it == infos_.end() ? ReadinessInfo{} : it->second;
}

void ReadinessTracker::set(const std::string& vm, const std::shared_ptr<Probe>& probe, ReadinessInfo info) {
    {
        std::lock_guard lock(mutex_);
        // A probe that was replaced or cancelled must not overwrite the newer truth.
        if (probe != nullptr && probe->cancelled) return;
        auto& slot = infos_[vm];
        // Still booting (a probe attempt every 0.1 s): no event, and a new generation (a new
        // listing) only when the error it shows changed.
        if (slot.state == info.state && info.state == Readiness::Booting) {
            if (slot.error == info.error) return;
            slot.error = info.error;
            ++generation_;
            return;
        }
        ++generation_;
        slot = info;
    }
    changed_.notify_all();
    VmEvent e;
    e.site = site_;
    e.vm = vm;
    e.kind = "readiness";
    e.event = std::string(readinessName(info.state));
    e.readiness = e.event;
    events_->publish(std::move(e));
}

void ReadinessTracker::run(std::shared_ptr<Probe> probe) {
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + timeout_;
    std::string lastError = "no attempt yet";
    bool guestAnswered = false;
    unsigned attemptsTimedOut = 0;  // since the guest answered
    for (;;) {
        {
            std::lock_guard lock(mutex_);
            if (probe->cancelled) break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            set(probe->vm, probe,
                ReadinessInfo{Readiness::Unreachable,
                              std::chrono::system_clock::now(),
                              0,
                              {},
                              "no SSH login within " + std::to_string(timeout_.count() / 1000) + " s: " + lastError});
            break;
        }
        auto endpoint = resolver_(probe->vm);
        // Gone, or not Paddock's to probe: nothing to wait for.
        if (!endpoint && endpoint.error().code == ErrorCode::NotFound) {
            set(probe->vm, probe,
                ReadinessInfo{Readiness::Unknown, std::chrono::system_clock::now(), 0, {}, endpoint.error().message});
            break;
        }
        // One connection per attempt: the banner wait and the login share it. Resumed with its
        // key pinned, the banner is enough: the login was proven before the pause or save, and a
        // new one would cost the TCG guest ~0.7 s of CPU just when its user logs in.
        const auto attempt = [&](const SshEndpoint& ep) -> Result<SshHostKey> {
            if (probe->kind == ProbeKind::Resumed && !ep.pinned_host_key.empty()) {
                if (auto banner = awaitSshBanner(ep.host, ep.port, kBannerTimeout); !banner)
                    return std::move(banner).error();
                SshHostKey pinned;
                pinned.fingerprint = ep.pinned_host_key;
                return pinned;
            }
            if (!guestAnswered) return probeSshOnBanner(ep, kBannerTimeout, kAttemptTimeout);
            // Never past the probe's own deadline: "unreachable" comes when the timeout says.
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            const ProbeAllowance allowance = probeAllowance(attemptsTimedOut);
            const auto attemptLimit = std::clamp(left, std::chrono::milliseconds(1000), allowance.attempt);
            return probeSshOnBanner(ep, std::min(allowance.banner, attemptLimit), attemptLimit);
        };
        auto key = endpoint ? attempt(endpoint.value()) : Result<SshHostKey>(endpoint.error());
        if (!endpoint) {
            lastError = endpoint.error().message;
        } else if (key) {
            const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            set(probe->vm, probe,
                ReadinessInfo{Readiness::Ready, std::chrono::system_clock::now(), secs, key.value(), {}});
            break;
        } else if (key.error().code == ErrorCode::Conflict) {
            // Another host key than the pinned one: not this VM, or a rebuilt one. Say so now.
            set(probe->vm, probe,
                ReadinessInfo{Readiness::Unreachable, std::chrono::system_clock::now(), 0, {}, key.error().message});
            break;
        } else {
            if (guestAnswered && key.error().code == ErrorCode::Timeout) ++attemptsTimedOut;
            guestAnswered = guestAnswered || key.error().code == ErrorCode::Unavailable;
            lastError = key.error().message;
        }
        set(probe->vm, probe, ReadinessInfo{Readiness::Booting, std::chrono::system_clock::now(), 0, {}, lastError});
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, kRetryInterval, [&] { return probe->cancelled; });
    }
    std::lock_guard lock(mutex_);
    if (auto it = probes_.find(probe->vm); it != probes_.end() && it->second == probe) probes_.erase(it);
    --running_;
    changed_.notify_all();
}

}  // namespace paddock
