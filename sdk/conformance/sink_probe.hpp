// The `user` of every sink the kit hands a plugin. A probe records whether each sink call ran
// inside the call that was given the sink, on the calling thread (the ABI's rule for every sink
// but event sinks), and copies what it receives (pointers given to a sink are borrowed for that
// sink call only). Probes live in an arena until the process ends, so a plugin that calls a
// sink after its call returned is recorded instead of touching freed memory.
#pragma once

#include <paddock/pdk_backend.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace paddock::conformance {

class SinkProbe {
public:
    virtual ~SinkProbe() = default;
    void openWindow();   // just before the call, on the calling thread
    void closeWindow();  // just after it returned

    int calls() const { return calls_; }
    int lateCalls() const { return late_; }        // outside the call
    int foreignCalls() const { return foreign_; }  // inside it, on another thread
    // The first malformed thing a sink received (NULL struct, short struct_size, NULL name...).
    std::string problem() const;

protected:
    // Start of every sink call; false when it is outside the window (then touch nothing).
    bool enter();
    void invalid(const std::string& why);

private:
    std::atomic<bool> open_{false};
    std::thread::id caller_;
    std::atomic<int> calls_{0};
    std::atomic<int> late_{0};
    std::atomic<int> foreign_{0};
    mutable std::mutex mutex_;
    std::string problem_;
};

using Metadata = std::map<std::string, std::string>;

struct SeenDomain {
    std::string name;
    std::string uuid;
    int32_t id = -1;
    pdk_domain_state state = PDK_DOMAIN_NOSTATE;
    uint32_t vcpus = 0;
    uint64_t maxMemoryKib = 0;
    Metadata metadata;
};

class DomainProbe : public SinkProbe {
public:
    static void sink(void* user, const pdk_domain_info* info);
    std::vector<SeenDomain> domains;
    const SeenDomain* find(const std::string& name) const;
};

class KvProbe : public SinkProbe {
public:
    static void sink(void* user, const char* key, const char* value);
    Metadata pairs;
};

class NameProbe : public SinkProbe {
public:
    static void sink(void* user, const char* name);
    std::vector<std::string> names;
};

struct SeenSnapshot {
    std::string name;
    std::string description;
    bool isCurrent = false;
};

class SnapshotProbe : public SinkProbe {
public:
    static void sink(void* user, const pdk_snapshot_info* info);
    std::vector<SeenSnapshot> snapshots;
};

// Owns every probe until the process ends.
class ProbeArena {
public:
    template <class P>
    P& make() {
        auto probe = std::make_unique<P>();
        P& ref = *probe;
        std::lock_guard lock(mutex_);
        probes_.push_back(std::move(probe));
        return ref;
    }
    // Probes made so far (pointers stay valid).
    std::vector<const SinkProbe*> all() const;

private:
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<SinkProbe>> probes_;
};

// Calls `call` with the probe's window open.
template <class F>
auto inWindow(SinkProbe& probe, F&& call) {
    probe.openWindow();
    auto result = call();
    probe.closeWindow();
    return result;
}

}  // namespace paddock::conformance
