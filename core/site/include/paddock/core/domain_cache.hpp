// Paddock's in-memory view of one site's domains, so that listings cost no hypervisor round
// trip. Kept current three ways: a refresher thread re-lists everything in one bulk call every
// `interval` (counters such as cpu_time move on their own); a lifecycle event schedules an
// immediate re-read of that one domain; and Paddock's own operations put() or erase() the
// result synchronously, so a client that created a VM sees it in the next listing.
// Thread-safe. The fetch functions run on the refresher thread only.
#pragma once

#include "paddock/core/backend.hpp"
#include "paddock/core/result.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace paddock {

class DomainCache {
public:
    using ListAll = std::function<Result<std::vector<DomainInfo>>()>;
    using GetOne = std::function<Result<DomainInfo>(const std::string& name)>;
    // Called on the refresher thread after every successful full listing.
    using Listed = std::function<void(const std::vector<DomainInfo>&)>;

    explicit DomainCache(std::chrono::milliseconds interval) : interval_(interval) {}
    ~DomainCache() { stop(); }
    DomainCache(const DomainCache&) = delete;
    DomainCache& operator=(const DomainCache&) = delete;

    void start(ListAll listAll, GetOne getOne, Listed listed);
    void stop();

    // All domains sorted by name, or nullopt while the view is not valid (never filled, or
    // invalidated because the connection was lost).
    std::optional<std::vector<DomainInfo>> snapshot() const;

    // One domain of the view, whatever its validity; nullopt when the view does not have it.
    std::optional<DomainInfo> find(const std::string& name) const;

    void put(DomainInfo info);
    void erase(const std::string& name);
    // Re-read one domain soon (from any thread, e.g. a backend's event thread; never blocks).
    void touch(const std::string& name);
    // Mark the view invalid and re-list at once (e.g. after a reconnect).
    void invalidate();
    // The full re-listing period from now on (e.g. longer for a backend that is polled through
    // a command-line tool); takes effect after the next listing.
    void setInterval(std::chrono::milliseconds interval);
    // A number that changes whenever what snapshot() answers may have changed (put, erase, a
    // re-read or full listing that differs, validity lost or regained), so that a caller can keep
    // something derived from the view until it does; nullopt while the view is not valid. Read it
    // before snapshot(): a change after the read then shows as a different number next time.
    std::optional<uint64_t> version() const;

private:
    void run();

    std::chrono::milliseconds interval_;
    ListAll listAll_;
    GetOne getOne_;
    Listed listed_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::map<std::string, DomainInfo> domains_;
    std::set<std::string> touched_;
    bool valid_ = false;
    bool relist_ = true;
    bool stopping_ = false;
    uint64_t generation_ = 0;  // bumped by put/erase: a listing begun before them is stale
    uint64_t version_ = 0;     // bumped by every change of what snapshot() answers (version())
    std::thread thread_;
};

}  // namespace paddock
