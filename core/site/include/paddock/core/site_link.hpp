// A site's connection to its hypervisor that heals itself. A monitor thread notices a dead
// connection (the backend's keepalive/close callback reports it, or is_alive() says so) and
// reopens it with exponential backoff (0.5 s doubling to 30 s); meanwhile connection() answers
// Unavailable with the reason, which the API turns into 503. After every (re)connect the
// lifecycle event subscription is renewed. Thread-safe.
//
// A hung hypervisor stalls nothing but its own link. libvirt has no timeout on opening a
// connection (a host that accepts and never answers keeps virConnectOpen waiting for ever), so
// every attempt runs on a thread of its own that the link can walk away from: start() returns at
// once, awaitFirstAttempt() waits for the first attempt only until a deadline, and stop() returns
// while an attempt still hangs (that thread ends when libvirt gives up, or with the process,
// and closes whatever it got without touching the link). Once connected, libvirt's keepalive
// (LibvirtConnection: every 5 s, 3 unanswered) declares a host that stops answering dead.
#pragma once

#include "paddock/core/backend.hpp"
#include "paddock/core/result.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace paddock {

class SiteLink {
public:
    // Called on the backend's event thread; see pdk_event_sink. Must not block.
    using EventSink = std::function<void(const std::string& vm, pdk_lifecycle_event event)>;
    // Called on the monitor thread after each successful (re)connect.
    using ConnectedHook = std::function<void()>;

    SiteLink(std::string site, std::shared_ptr<BackendPlugin> plugin, std::string uri);
    // Calls stop().
    ~SiteLink();
    SiteLink(const SiteLink&) = delete;
    SiteLink& operator=(const SiteLink&) = delete;

    // Every connection keeps the metadata of a backend without metadata entries in `store`
    // (BackendConnection::keepMetadataIn). Call before start().
    void keepMetadataIn(std::shared_ptr<MetadataStore> store) { metadataStore_ = std::move(store); }

    // Starts the monitor, whose first connection attempt begins at once. Does not wait for it.
    void start(EventSink events, ConnectedHook onConnected);
    // The first attempt's result (after its ConnectedHook ran) once it has one; Unavailable
    // ("... has not answered yet ...") when `deadline` comes first or the link stops. A failure is
    // not fatal either way: the monitor keeps trying. Call after start().
    Status awaitFirstAttempt(std::chrono::steady_clock::time_point deadline);

    // The live connection, or Unavailable ("site X: no connection to URI (why); reconnecting in
    // the background"); an attempt that has waited a second or more for the host says so.
    Result<std::shared_ptr<BackendConnection>> connection();
    bool connected();
    const std::string& uri() const noexcept { return uri_; }
    const BackendPlugin& plugin() const noexcept { return *plugin_; }
    // Whether the current connection pushes lifecycle events (its backend has
    // subscribe_events). False before the first connect and for backends without events,
    // whose state changes the site learns by polling.
    bool pushesEvents() const noexcept { return pushesEvents_.load(); }

    // Stops the monitor and unsubscribes events: after it returns the EventSink and the
    // ConnectedHook are never called again. connection() keeps answering. Idempotent.
    void stop();

    // Test hook: drop the connection as if the hypervisor went away.
    void dropForTest();

private:
    struct Attempt;
    // One attempt on its own thread; waits for it unless stop() comes first (then Unavailable).
    Status connectOnce();
    void monitor();
    void markLost(const std::string& why);

    std::string site_;
    std::shared_ptr<BackendPlugin> plugin_;
    std::string uri_;
    // In messages: without its parameters (the key and known_hosts paths connectionUri() adds).
    std::string shownUri_;
    std::shared_ptr<MetadataStore> metadataStore_;
    EventSink events_;
    ConnectedHook onConnected_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::shared_ptr<BackendConnection> connection_;
    std::string lastError_;
    bool stopping_ = false;
    std::shared_ptr<Attempt> attempt_;  // the attempt the monitor waits for, if any
    std::chrono::steady_clock::time_point attemptSince_;
    std::optional<Status> firstAttempt_;
    std::atomic<bool> pushesEvents_{false};
    std::thread monitor_;
};

}  // namespace paddock
