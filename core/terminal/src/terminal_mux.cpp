#include "paddock/core/terminal_mux.hpp"

#include "paddock/core/ids.hpp"
#include "paddock/core/site.hpp"
#include "paddock/core/terminal_session.hpp"
#include "paddock/core/vm_metadata.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <set>
#include <stdexcept>

namespace paddock {

namespace {

using Clock = std::chrono::steady_clock;

// "<vm>-<UTC time>-<random>": sorts by VM then time in a directory listing, and a teacher can
// tell from the name alone whose session it was and when.
std::string newSessionId(const std::string& vm) {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
    return vm + "-" + stamp + "-" + randomId("", 8);
}

}  // namespace

struct TerminalMux::Session {
    SessionId id = 0;
    std::string vm;
    std::shared_ptr<TerminalSink> sink;
    std::shared_ptr<TerminalSession> ssh;
    std::shared_ptr<Recording> recording;
    prometheus::Gauge* gauge = nullptr;
    Clock::time_point started{};
    std::string input;  // taken from the inbox, not yet written
    std::optional<std::pair<uint16_t, uint16_t>> resize;
    bool waitsForSocket = false;  // the last SSH call would block
    bool more = false;            // stopped by the per-turn budget
};

TerminalMux::TerminalMux(SessionRecorder& recorder, AuditLog& audit, prometheus::Registry& registry)
    : TerminalMux(recorder, audit, registry, Limits{}) {}

TerminalMux::TerminalMux(SessionRecorder& recorder, AuditLog& audit, prometheus::Registry& registry, Limits limits)
    : recorder_(recorder),
      audit_(audit),
      limits_(limits),
      activeFamily_(prometheus::BuildGauge()
                        .Name("paddock_terminal_sessions_active")
                        .Help("Open browser-terminal sessions by VM and its owner (empty: none)")
                        .Register(registry)),
      bytesFamily_(prometheus::BuildCounter()
                       .Name("paddock_terminal_bytes_total")
                       .Help("Terminal bytes proxied: in = typed by clients, out = printed by guests")
                       .Register(registry)),
      bytesIn_(bytesFamily_.Add({{"direction", "in"}})),
      bytesOut_(bytesFamily_.Add({{"direction", "out"}})),
      duration_(
          prometheus::BuildHistogram()
              .Name("paddock_terminal_session_duration_seconds")
              .Help("Length of finished terminal sessions")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{1, 10, 60, 300, 900, 1800, 3600, 7200, 14400, 28800})) {
    wakeFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeFd_ < 0) throw std::runtime_error("eventfd failed");
    for (size_t i = 0; i < std::max<size_t>(1, limits_.connect_workers); ++i)
        workers_.emplace_back([this] { workerLoop(); });
    ioThread_ = std::thread([this] { run(); });
}

TerminalMux::~TerminalMux() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    notify();
    ioThread_.join();
    {
        std::lock_guard lock(taskMutex_);
        workersStopping_ = true;
    }
    taskReady_.notify_all();
    for (auto& worker : workers_) worker.join();
    ::close(wakeFd_);
}

void TerminalMux::notify() {
    const uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wakeFd_, &one, sizeof one);
}

TerminalMux::SessionId TerminalMux::start(TerminalRequest request, std::shared_ptr<TerminalSink> sink) {
    SessionId id = 0;
    std::optional<Error> refused;
    {
        std::lock_guard lock(mutex_);
        id = nextId_++;
        inbox_[id];
        connecting_[id] = sink;
        if (stopping_)
            refused = makeError(ErrorCode::Unavailable, "Paddock is shutting down");
        else if (inbox_.size() > limits_.max_sessions)
            refused = makeError(ErrorCode::Unavailable,
                                "too many terminal sessions (" + std::to_string(limits_.max_sessions) + ")");
    }
    if (!refused) {
        std::lock_guard lock(taskMutex_);
        if (pendingConnects_ >= limits_.max_pending_connects) {
            refused = makeError(ErrorCode::Unavailable, "too many terminal sessions are being opened; try again");
        } else {
            ++pendingConnects_;
            tasks_.emplace_back([this, id, request = std::move(request)] { connect(id, request); });
        }
    }
    if (refused) {
        // Reported through the I/O thread like every other outcome, so sinks see one thread.
        std::lock_guard lock(mutex_);
        connected_.push_back(Connected{id, {}, {}, nullptr, nullptr, {}, std::move(refused)});
    } else {
        taskReady_.notify_one();
    }
    notify();
    return id;
}

void TerminalMux::input(SessionId id, std::string_view bytes) {
    {
        std::lock_guard lock(mutex_);
        const auto it = inbox_.find(id);
        if (it == inbox_.end() || it->second.end) return;
        Inbox& box = it->second;
        if (box.input.size() + bytes.size() > limits_.max_pending_input)
            box.overflow = true;
        else
            box.input.append(bytes);
        dirty_.push_back(id);
    }
    notify();
}

void TerminalMux::resize(SessionId id, uint16_t cols, uint16_t rows) {
    {
        std::lock_guard lock(mutex_);
        const auto it = inbox_.find(id);
        if (it == inbox_.end()) return;
        it->second.resize = std::make_pair(cols, rows);
        dirty_.push_back(id);
    }
    notify();
}

void TerminalMux::wake(SessionId id) {
    {
        std::lock_guard lock(mutex_);
        dirty_.push_back(id);
    }
    notify();
}

void TerminalMux::end(SessionId id) {
    {
        std::lock_guard lock(mutex_);
        const auto it = inbox_.find(id);
        if (it == inbox_.end()) return;
        it->second.end = true;
        dirty_.push_back(id);
    }
    notify();
}

size_t TerminalMux::active() const {
    std::lock_guard lock(mutex_);
    return activeCount_;
}

// ---- connect workers ----------------------------------------------------------------------

void TerminalMux::workerLoop() {
    while (true) {
        std::function<void()> task;
        {
            std::unique_lock lock(taskMutex_);
            taskReady_.wait(lock, [this] { return workersStopping_ || !tasks_.empty(); });
            if (tasks_.empty()) return;  // stopping and nothing left to tear down
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        task();
    }
}

void TerminalMux::dispose(std::shared_ptr<TerminalSession> ssh) {
    if (!ssh) return;
    std::lock_guard lock(taskMutex_);
    // The last reference goes on the worker: its blocking teardown never stalls the I/O thread.
    tasks_.emplace_back([ssh = std::move(ssh)]() mutable { ssh.reset(); });
    taskReady_.notify_one();
}

void TerminalMux::connect(SessionId id, const TerminalRequest& request) {
    Connected result;
    result.id = id;
    result.vm = request.vm;
    const auto fail = [&](Error error) {
        result.error = std::move(error);
        result.ssh.reset();
        result.recording.reset();
    };
    [&] {
        {
            std::lock_guard lock(mutex_);
            const auto it = inbox_.find(id);
            if (stopping_ || it == inbox_.end() || it->second.end)
                return fail(makeError(ErrorCode::Unavailable, "the terminal session was abandoned"));
        }
        Site& site = *request.site;
        auto endpoint = site.sshEndpoint(request.vm);
        if (!endpoint) return fail(std::move(endpoint).error());
        auto metadata = site.metadata(request.vm);
        if (!metadata) return fail(std::move(metadata).error());

        TerminalOptions options;
        options.endpoint = std::move(endpoint.value());
        options.cols = request.cols;
        options.rows = request.rows;
        options.connect_timeout = limits_.connect_timeout;
        options.window_bytes = limits_.window_bytes;
        auto opened = TerminalSession::open(options);
        if (!opened) return fail(std::move(opened).error());
        result.ssh = std::move(opened.value());
        result.opened.host_key = result.ssh->hostKey();
        if (options.endpoint.pinned_host_key.empty() && !result.opened.host_key.fingerprint.empty()) {
            if (auto pinned = site.updateMetadata(request.vm, {{meta::kHostKey, result.opened.host_key.fingerprint}});
                !pinned)
                return fail(
                    makeError(pinned.error().code, "cannot pin the VM's SSH host key: " + pinned.error().message));
            result.opened.pinned_now = true;
        }

        RecordingInfo info;
        info.session_id = newSessionId(request.vm);
        info.site = site.name();
        info.vm = request.vm;
        info.owner = request.owner;
        if (info.owner.empty()) info.owner = metaValue(metadata.value(), meta::kLeaseOwner);
        if (info.owner.empty()) info.owner = metaValue(metadata.value(), meta::kOwner);
        info.lease = metaValue(metadata.value(), meta::kLeaseId);
        result.owner = info.owner;
        info.cols = request.cols;
        info.rows = request.rows;
        info.term = options.term;
        auto recording = recorder_.begin(info);
        if (!recording)
            return fail(makeError(recording.error().code,
                                  "cannot record the session, so it is refused: " + recording.error().message));
        result.recording = std::move(recording.value());
        result.opened.session_id = info.session_id;
    }();

    (void)audit_.record(request.actor, request.site->name(), request.vm, "terminal",
                        result.error ? Status(*result.error) : Status{});
    {
        std::lock_guard lock(taskMutex_);
        --pendingConnects_;
    }
    std::shared_ptr<TerminalSession> unused;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            unused = std::move(result.ssh);
        } else {
            connected_.push_back(std::move(result));
        }
    }
    unused.reset();  // we are on a worker already: tear down here
    notify();
}

// ---- the terminal I/O thread --------------------------------------------------------------

void TerminalMux::adopt(Connected connected) {
    std::shared_ptr<TerminalSink> sink;
    bool abandoned = false;
    {
        std::lock_guard lock(mutex_);
        const auto it = connecting_.find(connected.id);
        if (it == connecting_.end()) return;
        sink = std::move(it->second);
        connecting_.erase(it);
        const auto box = inbox_.find(connected.id);
        abandoned = box == inbox_.end() || box->second.end;
        if (connected.error || abandoned)
            inbox_.erase(connected.id);
        else
            ++activeCount_;
    }
    if (connected.error || abandoned) {
        if (connected.recording) connected.recording->close();
        dispose(std::move(connected.ssh));
        sink->closed(connected.error ? &*connected.error : nullptr);
        return;
    }
    auto session = std::make_unique<Session>();
    session->id = connected.id;
    session->vm = connected.vm;
    session->sink = std::move(sink);
    session->ssh = std::move(connected.ssh);
    session->recording = std::move(connected.recording);
    session->started = Clock::now();
    {
        // Keystrokes typed while we were connecting.
        std::lock_guard lock(mutex_);
        Inbox& box = inbox_[connected.id];
        session->input = std::move(box.input);
        box.input.clear();
        session->resize = box.resize;
        box.resize.reset();
    }
    session->gauge = &activeFamily_.Add({{"vm", session->vm}, {"owner", connected.owner}});
    session->gauge->Increment();
    session->sink->opened(connected.opened);
    Session& s = *session;
    sessions_.emplace(connected.id, std::move(session));
    step(s);
}

void TerminalMux::finish(SessionId id, const Error* error) {
    const auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    std::unique_ptr<Session> session = std::move(it->second);
    sessions_.erase(it);
    {
        std::lock_guard lock(mutex_);
        inbox_.erase(id);
        --activeCount_;
    }
    session->recording->close();
    session->gauge->Decrement();
    // A VM's series ends with its last session: one kept per VM and owner ever seen would grow
    // without end (and outlive deleted VMs). Add and Remove both run on this thread.
    if (session->gauge->Value() <= 0) activeFamily_.Remove(session->gauge);
    duration_.Observe(std::chrono::duration<double>(Clock::now() - session->started).count());
    dispose(std::move(session->ssh));
    session->sink->closed(error);
}

void TerminalMux::step(Session& s) {
    const SessionId id = s.id;
    const auto failed = [&](const std::string& what) {
        const Error error = makeError(ErrorCode::Unavailable, what + ": " + s.ssh->lastError());
        finish(id, &error);
    };
    s.waitsForSocket = false;
    s.more = false;

    if (s.resize) {
        switch (s.ssh->resize(s.resize->first, s.resize->second)) {
            case TerminalSession::Io::Progress:
                s.recording->resize(s.resize->first, s.resize->second);
                s.resize.reset();
                break;
            case TerminalSession::Io::WouldBlock: s.waitsForSocket = true; break;
            case TerminalSession::Io::Closed: return finish(id, nullptr);
            case TerminalSession::Io::Failed: return failed("resizing the terminal failed");
        }
    }
    while (!s.input.empty() && !s.waitsForSocket) {
        size_t n = 0;
        switch (s.ssh->write(s.input, n)) {
            case TerminalSession::Io::Progress:
                s.recording->input(std::string_view(s.input).substr(0, n));
                bytesIn_.Increment(static_cast<double>(n));
                s.input.erase(0, n);
                break;
            case TerminalSession::Io::WouldBlock: s.waitsForSocket = true; break;
            case TerminalSession::Io::Closed: return finish(id, nullptr);
            case TerminalSession::Io::Failed: return failed("sending keystrokes failed");
        }
    }

    char buffer[64 * 1024];
    const size_t chunk = std::min(sizeof buffer, limits_.read_chunk);
    size_t budget = limits_.max_read_per_turn;
    while (true) {
        // Not reading at all while the client is full is the backpressure: SSH's window then
        // stops the guest, and nothing piles up here.
        const size_t room = s.sink->room();
        if (room == 0) break;
        if (budget == 0) {
            s.more = true;
            break;
        }
        size_t n = 0;
        const auto io = s.ssh->read(buffer, std::min({chunk, room, budget}), n);
        if (io == TerminalSession::Io::WouldBlock) {
            s.waitsForSocket = true;
            break;
        }
        if (io == TerminalSession::Io::Closed) return finish(id, nullptr);
        if (io == TerminalSession::Io::Failed) return failed("reading from the terminal failed");
        const std::string_view bytes(buffer, n);
        s.recording->output(bytes);
        bytesOut_.Increment(static_cast<double>(n));
        s.sink->output(bytes);
        budget -= n;
    }
}

void TerminalMux::run() {
    std::vector<pollfd> fds;
    std::vector<SessionId> ids;
    auto nextFlush = Clock::now() + limits_.flush_interval;
    bool busy = false;  // some session stopped on its budget and wants another turn at once
    while (true) {
        fds.assign(1, pollfd{wakeFd_, POLLIN, 0});
        ids.assign(1, 0);
        for (auto& [id, s] : sessions_) {
            if (!s->waitsForSocket) continue;  // paused for the client, or nothing to wait for
            const short events = s->ssh->pollEvents();
            fds.push_back(pollfd{s->ssh->fd(), events != 0 ? events : static_cast<short>(POLLIN), 0});
            ids.push_back(id);
        }
        const auto untilFlush = std::chrono::duration_cast<std::chrono::milliseconds>(nextFlush - Clock::now()).count();
        const int timeout = busy ? 0 : static_cast<int>(std::clamp<long long>(untilFlush + 1, 0, 1000));
        ::poll(fds.data(), fds.size(), timeout);
        if (fds[0].revents & POLLIN) {
            uint64_t counter = 0;
            [[maybe_unused]] const auto n = ::read(wakeFd_, &counter, sizeof counter);
        }

        std::vector<Connected> connected;
        std::vector<SessionId> dirty;
        std::set<SessionId> ended;
        bool stopping = false;
        {
            std::lock_guard lock(mutex_);
            stopping = stopping_;
            connected.swap(connected_);
            dirty.swap(dirty_);
            for (const SessionId id : dirty) {
                const auto box = inbox_.find(id);
                const auto session = sessions_.find(id);
                if (box == inbox_.end() || session == sessions_.end()) continue;
                Session& s = *session->second;
                s.input += box->second.input;
                box->second.input.clear();
                if (box->second.resize) s.resize = box->second.resize;
                box->second.resize.reset();
                if (box->second.end || box->second.overflow) ended.insert(id);
            }
        }
        if (stopping) {
            const Error error = makeError(ErrorCode::Unavailable, "Paddock is shutting down");
            for (auto& c : connected) adopt(std::move(c));
            while (!sessions_.empty()) finish(sessions_.begin()->first, &error);
            std::vector<std::shared_ptr<TerminalSink>> waiting;
            {
                std::lock_guard lock(mutex_);
                for (auto& [id, sink] : connecting_) waiting.push_back(sink);
                connecting_.clear();
            }
            for (auto& sink : waiting) sink->closed(&error);
            return;
        }

        for (auto& c : connected) adopt(std::move(c));
        std::set<SessionId> toStep(dirty.begin(), dirty.end());
        for (size_t i = 1; i < fds.size(); ++i)
            if (fds[i].revents != 0) toStep.insert(ids[i]);
        for (auto& [id, s] : sessions_)
            if (s->more) toStep.insert(id);
        busy = false;
        for (const SessionId id : toStep) {
            if (ended.count(id) != 0) {
                bool overflow = false;
                {
                    std::lock_guard lock(mutex_);
                    const auto box = inbox_.find(id);
                    overflow = box != inbox_.end() && box->second.overflow && !box->second.end;
                }
                const Error error = makeError(ErrorCode::PayloadTooLarge,
                                              "input arrives faster than the VM reads it; the session was closed");
                finish(id, overflow ? &error : nullptr);
                continue;
            }
            const auto it = sessions_.find(id);
            if (it == sessions_.end()) continue;
            step(*it->second);
            const auto again = sessions_.find(id);
            if (again != sessions_.end() && again->second->more) busy = true;
        }

        if (Clock::now() >= nextFlush) {
            for (auto& [id, s] : sessions_) s->recording->flush();
            nextFlush = Clock::now() + limits_.flush_interval;
        }
    }
}

}  // namespace paddock
