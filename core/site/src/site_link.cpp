#include "paddock/core/site_link.hpp"

#include <optional>

namespace paddock {

// Shared by the link and the attempt's thread, so that the thread never touches the link: the
// link may be gone by the time libvirt returns.
struct SiteLink::Attempt {
    std::mutex mutex;
    std::condition_variable finished;
    std::optional<Result<std::shared_ptr<BackendConnection>>> result;
    bool abandoned = false;  // set by stop(): the thread closes whatever it gets
};

namespace {
constexpr auto kHealthCheckInterval = std::chrono::seconds(2);
constexpr auto kFirstBackoff = std::chrono::milliseconds(500);
constexpr auto kMaxBackoff = std::chrono::seconds(30);
}  // namespace

SiteLink::SiteLink(std::string site, std::shared_ptr<BackendPlugin> plugin, std::string uri)
    : site_(std::move(site)), plugin_(std::move(plugin)), uri_(std::move(uri)), shownUri_(uri_.substr(0, uri_.find('?'))) {}

SiteLink::~SiteLink() { stop(); }

void SiteLink::stop() {
    std::shared_ptr<Attempt> pending;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        pending = attempt_;
    }
    if (pending) {
        {
            std::lock_guard lock(pending->mutex);
            pending->abandoned = true;
        }
        pending->finished.notify_all();
    }
    wake_.notify_all();
    if (monitor_.joinable()) monitor_.join();
    std::shared_ptr<BackendConnection> current;
    {
        std::lock_guard lock(mutex_);
        current = connection_;
    }
    if (current) (void)current->subscribeEvents(nullptr);
}

void SiteLink::start(EventSink events, ConnectedHook onConnected) {
    events_ = std::move(events);
    onConnected_ = std::move(onConnected);
    monitor_ = std::thread([this] { monitor(); });
}

Status SiteLink::awaitFirstAttempt(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    wake_.wait_until(lock, deadline, [this] { return firstAttempt_.has_value() || stopping_; });
    if (firstAttempt_) return *firstAttempt_;
    return makeError(ErrorCode::Unavailable, "site '" + site_ + "': " + shownUri_ +
                                                 " has not answered yet; still connecting in the background");
}

Status SiteLink::connectOnce() {
    auto attempt = std::make_shared<Attempt>();
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return makeError(ErrorCode::Unavailable, "site '" + site_ + "': stopping");
        attempt_ = attempt;
        attemptSince_ = std::chrono::steady_clock::now();
    }
    // Detached: a host that never answers keeps this thread in libvirt, and nothing may wait
    // for it. It owns the plugin (its library stays loaded) and the attempt, nothing else.
    std::thread([attempt, plugin = plugin_, uri = uri_] {
        auto opened = plugin->connect(uri);
        std::unique_lock lock(attempt->mutex);
        if (attempt->abandoned) {
            lock.unlock();
            return;  // `opened` closes here, on this thread
        }
        attempt->result = std::move(opened);
        lock.unlock();
        attempt->finished.notify_all();
    }).detach();
    std::optional<Result<std::shared_ptr<BackendConnection>>> outcome;
    {
        std::unique_lock lock(attempt->mutex);
        attempt->finished.wait(lock, [&] { return attempt->result.has_value() || attempt->abandoned; });
        if (attempt->result) outcome = std::move(attempt->result);
    }
    {
        std::lock_guard lock(mutex_);
        attempt_.reset();
    }
    if (!outcome) return makeError(ErrorCode::Unavailable, "site '" + site_ + "': stopping");
    auto conn = std::move(*outcome);
    if (!conn) {
        std::lock_guard lock(mutex_);
        lastError_ = conn.error().message;
        return conn.error();
    }
    std::shared_ptr<BackendConnection> c = conn.value();
    if (metadataStore_) c->keepMetadataIn(metadataStore_);
    // The sink must not keep the connection alive (the connection owns the subscription).
    // A backend without events (subscribe_events NULL: Unsupported) is polled by the site.
    const Status subscribed = c->subscribeEvents([this](const std::string& vm, pdk_lifecycle_event event) {
        if (event == PDK_EVENT_CONNECTION_LOST) {
            markLost("the hypervisor closed the connection");
        }
        if (events_) events_(vm, event);
    });
    pushesEvents_ = subscribed.ok();
    {
        std::lock_guard lock(mutex_);
        connection_ = std::move(c);
        lastError_.clear();
    }
    if (onConnected_) onConnected_();
    return {};
}

void SiteLink::markLost(const std::string& why) {
    {
        std::lock_guard lock(mutex_);
        if (!connection_) return;
        lastError_ = why;
        // Not destroyed here: this may run on the backend's event thread, and closing the
        // connection from its own callback is not allowed. The monitor releases it.
    }
    wake_.notify_all();
}

Result<std::shared_ptr<BackendConnection>> SiteLink::connection() {
    std::lock_guard lock(mutex_);
    if (connection_ && lastError_.empty()) return connection_;
    std::string why = lastError_.empty() ? "not connected yet" : lastError_;
    if (attempt_ && !connection_) {
        const auto waited =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - attemptSince_).count();
        if (waited >= 1) why += "; the current attempt has had no answer for " + std::to_string(waited) + " s";
    }
    return makeError(ErrorCode::Unavailable,
                     "site '" + site_ + "': no connection to " + shownUri_ + " (" + why + "); reconnecting in the background");
}

bool SiteLink::connected() { return connection().ok(); }

void SiteLink::dropForTest() { markLost("connection dropped by test"); }

void SiteLink::monitor() {
    Status first = connectOnce();
    auto backoff = first.ok() ? kFirstBackoff : kFirstBackoff * 2;
    std::unique_lock lock(mutex_);
    firstAttempt_ = std::move(first);
    wake_.notify_all();
    while (!stopping_) {
        const bool healthy = connection_ && lastError_.empty();
        wake_.wait_for(lock,
                       healthy ? std::chrono::duration_cast<std::chrono::milliseconds>(kHealthCheckInterval) : backoff);
        if (stopping_) break;
        std::shared_ptr<BackendConnection> current = connection_;
        const bool flagged = !lastError_.empty();
        lock.unlock();
        bool dead = current == nullptr || flagged || !current->isAlive();
        if (dead) {
            if (current != nullptr) {
                lock.lock();
                if (connection_ == current) {
                    connection_.reset();
                    if (lastError_.empty()) lastError_ = "connection to the hypervisor lost";
                }
                lock.unlock();
                current.reset();  // closed here, on the monitor thread
                // A restarting hypervisor is not back at once: first reconnect after one backoff.
                backoff = kFirstBackoff;
                lock.lock();
                continue;
            }
            if (connectOnce().ok()) {
                backoff = kFirstBackoff;
            } else {
                backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
            }
        }
        lock.lock();
    }
}

}  // namespace paddock
