#include "paddock/core/site_link.hpp"

namespace paddock {

namespace {
constexpr auto kHealthCheckInterval = std::chrono::seconds(2);
constexpr auto kFirstBackoff = std::chrono::milliseconds(500);
constexpr auto kMaxBackoff = std::chrono::seconds(30);
}  // namespace

SiteLink::SiteLink(std::string site, std::shared_ptr<BackendPlugin> plugin, std::string uri)
    : site_(std::move(site)), plugin_(std::move(plugin)), uri_(std::move(uri)) {}

SiteLink::~SiteLink() { stop(); }

void SiteLink::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
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

Status SiteLink::start(EventSink events, ConnectedHook onConnected) {
    events_ = std::move(events);
    onConnected_ = std::move(onConnected);
    Status first = connectOnce();
    monitor_ = std::thread([this] { monitor(); });
    return first;
}

Status SiteLink::connectOnce() {
    auto conn = plugin_->connect(uri_);
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
    return makeError(ErrorCode::Unavailable, "site '" + site_ + "': no connection to " + uri_ + " (" +
                                                 (lastError_.empty() ? "not connected yet" : lastError_) +
                                                 "); reconnecting in the background");
}

bool SiteLink::connected() { return connection().ok(); }

void SiteLink::dropForTest() { markLost("connection dropped by test"); }

void SiteLink::monitor() {
    auto backoff = kFirstBackoff;
    std::unique_lock lock(mutex_);
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
