// The VM status WebSockets: WS /api/v1/vms/{name}/status (native VM objects) and the earlier
// VM manager's WS /ws/vm/{name}/status (its six-field object). A frame goes out on connect,
// after every EventHub event about the VM (state or readiness changed) and at least every
// `period` otherwise. When the VM is gone the native stream sends {"type":"deleted"}; both
// then close (1000).
// Threading: one worker thread fetches VM views (backend calls never run on the event
// publisher's thread nor on the hub's I/O thread) and queues frames on the WebSocketHub;
// streams watching the same VM share one fetch. attach() is thread-safe. The Runtime and the
// hub must outlive this object; destroying it unsubscribes and joins the worker.
#pragma once

#include "paddock/core/runtime.hpp"
#include "paddock/server/websocket_hub.hpp"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace paddock::server {

enum class StatusFormat { Native, Compat };

class StatusStreams {
public:
    StatusStreams(Runtime& runtime, WebSocketHub& hub, std::chrono::milliseconds nativePeriod = std::chrono::seconds(5),
                  std::chrono::milliseconds compatPeriod = std::chrono::seconds(1));
    ~StatusStreams();
    StatusStreams(const StatusStreams&) = delete;
    StatusStreams& operator=(const StatusStreams&) = delete;

    // Hands the upgraded `socket` to the hub and starts streaming `vm` of `site` to it.
    void attach(std::unique_ptr<Transport> transport, const std::string& route, const std::string& owner,
                const std::string& site, const std::string& vm, StatusFormat format);

private:
    struct Stream {
        std::string site;
        std::string vm;
        StatusFormat format = StatusFormat::Native;
        std::chrono::steady_clock::time_point due{};
    };
    void onEvent(const VmEvent& event);
    void detach(WebSocketHub::ClientId id);
    void run();
    std::chrono::milliseconds period(StatusFormat format) const;

    Runtime& runtime_;
    WebSocketHub& hub_;
    std::chrono::milliseconds nativePeriod_;
    std::chrono::milliseconds compatPeriod_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::map<WebSocketHub::ClientId, Stream> streams_;
    bool stopping_ = false;
    std::thread worker_;
    EventHub::Subscription subscription_;  // last: unsubscribed first on destruction
};

}  // namespace paddock::server
