#include "paddock/server/status_stream.hpp"

#include "paddock/server/vm_views.hpp"

#include <algorithm>
#include <optional>
#include <vector>

namespace paddock::server {

namespace {

std::string nativeFrame(const VmView& vm) {
    JsonWriter json;
    json.beginObject().field("type", "status").key("vm");
    writeVm(json, vm);
    json.endObject();
    return json.str();
}

std::string compatFrame(const VmView& vm) {
    JsonWriter json;
    writeCompatVm(json, vm.domain, false);
    return json.str();
}

}  // namespace

StatusStreams::StatusStreams(Runtime& runtime, WebSocketHub& hub, std::chrono::milliseconds nativePeriod,
                             std::chrono::milliseconds compatPeriod)
    : runtime_(runtime), hub_(hub), nativePeriod_(nativePeriod), compatPeriod_(compatPeriod) {
    worker_ = std::thread([this] { run(); });
    subscription_ = runtime_.events()->subscribe([this](const VmEvent& e) { onEvent(e); });
}

StatusStreams::~StatusStreams() {
    subscription_.reset();
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    worker_.join();
}

std::chrono::milliseconds StatusStreams::period(StatusFormat format) const {
    return format == StatusFormat::Native ? nativePeriod_ : compatPeriod_;
}

void StatusStreams::attach(std::unique_ptr<Transport> transport, const std::string& route, const std::string& owner,
                           const std::string& site, const std::string& vm, StatusFormat format) {
    const auto id =
        hub_.add(std::move(transport), route, owner, [this](WebSocketHub::ClientId closed) { detach(closed); });
    if (id == 0) return;
    {
        std::lock_guard lock(mutex_);
        // Due now: the first frame goes out at once. Should the client already be gone, the
        // first failed send removes the entry again.
        streams_[id] = Stream{site, vm, format, std::chrono::steady_clock::now()};
    }
    wake_.notify_all();
}

void StatusStreams::detach(WebSocketHub::ClientId id) {
    std::lock_guard lock(mutex_);
    streams_.erase(id);
}

// Runs on the publisher's thread: only marks streams due.
void StatusStreams::onEvent(const VmEvent& event) {
    bool any = false;
    {
        std::lock_guard lock(mutex_);
        const auto now = std::chrono::steady_clock::now();
        for (auto& [id, stream] : streams_) {
            // A connection event (no VM) may mean every VM of the site changed.
            if (stream.site != event.site || (!event.vm.empty() && stream.vm != event.vm)) continue;
            stream.due = now;
            any = true;
        }
    }
    if (any) wake_.notify_all();
}

void StatusStreams::run() {
    struct Due {
        WebSocketHub::ClientId id;
        Stream stream;
    };
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        const auto now = std::chrono::steady_clock::now();
        std::vector<Due> due;
        auto next = now + std::chrono::hours(1);
        for (auto& [id, stream] : streams_) {
            if (stream.due <= now) {
                due.push_back({id, stream});
                stream.due = now + period(stream.format);
            }
            next = std::min(next, stream.due);
        }
        if (due.empty()) {
            wake_.wait_until(lock, next);
            continue;
        }
        lock.unlock();

        // One backend call per VM however many clients watch it.
        std::map<std::pair<std::string, std::string>, std::optional<Result<VmView>>> views;
        std::vector<WebSocketHub::ClientId> gone;
        for (const auto& [id, stream] : due) {
            auto& view = views[{stream.site, stream.vm}];
            if (!view) {
                view = runtime_.vms(stream.site).and_then([&](VmService* vms) { return vms->get(stream.vm); });
            }
            const Result<VmView>& vm = *view;
            if (!vm) {
                if (vm.error().code != ErrorCode::NotFound)
                    continue;  // e.g. the site is unreachable: retry next period
                if (stream.format == StatusFormat::Native) hub_.sendText(id, R"({"type":"deleted"})");
                hub_.close(id, kWsCloseNormal, "VM deleted");
                gone.push_back(id);
                continue;
            }
            const std::string frame =
                stream.format == StatusFormat::Native ? nativeFrame(vm.value()) : compatFrame(vm.value());
            if (!hub_.sendText(id, frame)) gone.push_back(id);
        }

        lock.lock();
        for (const auto id : gone) streams_.erase(id);
    }
}

}  // namespace paddock::server
