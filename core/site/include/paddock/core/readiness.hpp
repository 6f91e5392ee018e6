// Tracks whether each started VM answers SSH with Paddock's key. begin() starts a probe on
// its own thread that retries until the guest answers, the VM is cancelled, or the timeout
// passes; changes are published on the EventHub. Thread-safe; begin() and cancel() never
// block on a probe, so they may be called from a backend's event thread.
#pragma once

#include "paddock/core/events.hpp"
#include "paddock/core/result.hpp"
#include "paddock/core/ssh_client.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace paddock {

enum class Readiness { Unknown, Stopped, Booting, Ready, Unreachable };
// How a probe decides. Full: an SSH login with Paddock's key. Resumed: for a VM resumed from a
// pause or restored from a memory image taken after it had answered a login (a pool's paused and
// saved VMs): with its host key pinned since, its sshd sending the banner again is enough; a
// VM without a pinned key gets the full login.
enum class ProbeKind { Full, Resumed };
std::string_view readinessName(Readiness r) noexcept;

struct ReadinessInfo {
    Readiness state = Readiness::Unknown;
    std::chrono::system_clock::time_point since{};
    double seconds_to_ready = 0;  // from begin() to the first successful login
    SshHostKey host_key;          // as seen at the first successful login
    std::string error;            // the last probe error while Booting/Unreachable
};

// How long a probe attempt may wait for sshd's banner and for the whole login once the guest's
// own TCP stack has answered: 5 s and 10 s, doubled after each attempt that ran out (a guest
// starved of CPU, e.g. many booting on few cores, would otherwise lose every half-done login
// and start the next from nothing), up to 20 s and 40 s; never past the probe's own timeout.
// (A probe thread finishes its attempt before it ends, so the cap also bounds how long the
// tracker's destructor may wait for a starved guest.)
struct ProbeAllowance {
    std::chrono::milliseconds banner;
    std::chrono::milliseconds attempt;
};
ProbeAllowance probeAllowance(unsigned attemptsTimedOut) noexcept;

class ReadinessTracker {
public:
    // Resolves where and how to log into a VM (may fail while the VM is still being set up).
    using EndpointResolver = std::function<Result<SshEndpoint>(const std::string& vm)>;

    ReadinessTracker(std::string site, EndpointResolver resolver, std::shared_ptr<EventHub> events,
                     std::chrono::milliseconds timeout);
    // Cancels every probe and waits for their threads to finish.
    ~ReadinessTracker();
    ReadinessTracker(const ReadinessTracker&) = delete;
    ReadinessTracker& operator=(const ReadinessTracker&) = delete;

    // (Re)starts probing `vm`; a probe already running for it is cancelled.
    void begin(const std::string& vm, ProbeKind kind = ProbeKind::Full);
    // Stops probing and records `state` (Stopped when the VM went off, Unknown when deleted).
    void cancel(const std::string& vm, Readiness state = Readiness::Stopped);
    ReadinessInfo get(const std::string& vm) const;
    // Waits until `vm` is Ready or Unreachable or the wait times out; returns the info then.
    ReadinessInfo waitSettled(const std::string& vm, std::chrono::milliseconds timeout) const;
    // A number that changes whenever what get() answers for any VM may have changed.
    uint64_t generation() const;

private:
    struct Probe;
    void run(std::shared_ptr<Probe> probe);
    void set(const std::string& vm, const std::shared_ptr<Probe>& probe, ReadinessInfo info);

    std::string site_;
    EndpointResolver resolver_;
    std::shared_ptr<EventHub> events_;
    std::chrono::milliseconds timeout_;
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::map<std::string, ReadinessInfo> infos_;
    std::map<std::string, std::shared_ptr<Probe>> probes_;
    int running_ = 0;
    uint64_t generation_ = 0;  // bumped by every change of infos_ (generation())
};

}  // namespace paddock
