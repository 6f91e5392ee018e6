// Browser terminals, the core side: every open terminal session (an SSH shell on a VM, see
// TerminalSession) is driven by ONE terminal I/O thread that poll()s the SSH sockets plus an
// eventfd, so idle sessions cost no thread. The slow blocking part (connect, handshake, key
// auth, PTY) runs on a small bounded pool of connect workers, which also tear sessions down.
// The front end (the server's WebSocket glue) implements TerminalSink for each client.
//
// Flow control: output is read from SSH only while sink->room() says the client can take it;
// otherwise the session is not read at all and SSH's own window (TerminalOptions::window_bytes)
// stops the guest. Input waits in a per-session inbox bounded by Limits::max_pending_input; a
// client that overruns it loses the session (the guest is not reading its terminal).
// Every session is recorded through the SessionRecorder (output, input, resizes; flushed at
// least once a second); a session whose recording cannot start is refused. Host keys are pinned
// in the VM's metadata (meta::kHostKey) on the first successful login and enforced afterwards.
//
// Metrics: paddock_terminal_sessions_active{vm,owner}, paddock_terminal_bytes_total{direction="in"|"out"},
// paddock_terminal_session_duration_seconds.
// Thread-safe: start/input/resize/wake/end may be called from any thread. The SessionRecorder,
// the registry, the AuditLog and every Site named in a request must outlive the mux.
#pragma once

#include "paddock/core/audit_log.hpp"
#include "paddock/core/recording.hpp"
#include "paddock/core/result.hpp"
#include "paddock/core/ssh_client.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace paddock {

class Site;
class TerminalSession;

struct TerminalOpened {
    std::string session_id;  // also the recording's id
    SshHostKey host_key;
    bool pinned_now = false;  // this login pinned the key (first terminal login to the VM)
};

// One client of a terminal session. Every call comes from the terminal I/O thread, one at a time,
// never with the mux's locks held; implementations must not block.
class TerminalSink {
public:
    virtual ~TerminalSink() = default;
    // Output bytes the client can take now; 0 pauses reading from SSH until TerminalMux::wake().
    virtual size_t room() = 0;
    // Guest output, at most the last room() bytes.
    virtual void output(std::string_view bytes) = 0;
    virtual void opened(const TerminalOpened& info) = 0;
    // The session is over: `error` null when the shell ended or the client left. Called once;
    // nothing follows.
    virtual void closed(const Error* error) = 0;
};

struct TerminalRequest {
    Site* site = nullptr;  // where the VM is; must outlive the session
    std::string vm;
    std::string owner;  // recorded as the session's owner; empty: from the VM's metadata
    std::string actor;  // who opened it, for the audit log (never a ticket or token)
    uint16_t cols = 80;
    uint16_t rows = 24;
};

class TerminalMux {
public:
    using SessionId = uint64_t;

    struct Limits {
        size_t connect_workers = 4;
        size_t max_pending_connects = 256;       // beyond: refused at once (Unavailable)
        size_t max_sessions = 1024;              // open + connecting
        size_t max_pending_input = 1024 * 1024;  // per session
        size_t read_chunk = 16 * 1024;           // one output frame at most
        size_t max_read_per_turn = 256 * 1024;   // per session per loop turn, for fairness
        uint32_t window_bytes = 256 * 1024;
        std::chrono::milliseconds connect_timeout{15000};
        std::chrono::milliseconds flush_interval{1000};
    };

    TerminalMux(SessionRecorder& recorder, AuditLog& audit, prometheus::Registry& registry);
    TerminalMux(SessionRecorder& recorder, AuditLog& audit, prometheus::Registry& registry, Limits limits);
    // Ends every session (sinks hear closed() with an error), joins the I/O thread and workers.
    ~TerminalMux();
    TerminalMux(const TerminalMux&) = delete;
    TerminalMux& operator=(const TerminalMux&) = delete;

    // Starts connecting in the background. The sink then hears opened() and output, or closed()
    // with the error (host key mismatch: Conflict). Returns the session's id (never 0).
    SessionId start(TerminalRequest request, std::shared_ptr<TerminalSink> sink);
    // Keystrokes for the guest, in order.
    void input(SessionId id, std::string_view bytes);
    void resize(SessionId id, uint16_t cols, uint16_t rows);
    // The sink has room again.
    void wake(SessionId id);
    // The client left: the session ends (the sink still hears closed(nullptr)).
    void end(SessionId id);

    // Open sessions (connected), for tests and metrics.
    size_t active() const;

private:
    struct Session;
    struct Inbox {
        std::string input;
        std::optional<std::pair<uint16_t, uint16_t>> resize;
        bool end = false;
        bool overflow = false;
    };
    struct Connected {
        SessionId id = 0;
        std::string vm;
        std::string owner;                     // the recording's owner ("" when the VM has none)
        std::shared_ptr<TerminalSession> ssh;  // null on failure
        std::shared_ptr<Recording> recording;
        TerminalOpened opened;
        std::optional<Error> error;
    };

    void connect(SessionId id, const TerminalRequest& request);
    void run();
    void notify();
    void adopt(Connected connected);
    void step(Session& session);
    void finish(SessionId id, const Error* error);
    void dispose(std::shared_ptr<TerminalSession> ssh);
    void workerLoop();

    SessionRecorder& recorder_;
    AuditLog& audit_;
    Limits limits_;
    prometheus::Family<prometheus::Gauge>& activeFamily_;
    prometheus::Family<prometheus::Counter>& bytesFamily_;
    prometheus::Counter& bytesIn_;
    prometheus::Counter& bytesOut_;
    prometheus::Histogram& duration_;

    mutable std::mutex mutex_;
    SessionId nextId_ = 1;
    bool stopping_ = false;
    std::map<SessionId, std::shared_ptr<TerminalSink>> connecting_;  // started, not yet adopted
    std::map<SessionId, Inbox> inbox_;                               // every live session
    std::vector<SessionId> dirty_;                                   // inbox changed or woken
    std::vector<Connected> connected_;                               // from workers, for the I/O thread
    size_t activeCount_ = 0;

    std::mutex taskMutex_;
    std::condition_variable taskReady_;
    std::deque<std::function<void()>> tasks_;
    size_t pendingConnects_ = 0;
    bool workersStopping_ = false;

    int wakeFd_ = -1;
    std::map<SessionId, std::unique_ptr<Session>> sessions_;  // I/O thread only
    std::thread ioThread_;
    std::vector<std::thread> workers_;
};

}  // namespace paddock
