#include "paddock/core/recording.hpp"

#include "paddock/core/iso_time.hpp"
#include "paddock/core/recorder.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>

namespace paddock {

namespace {

using SteadyClock = std::chrono::steady_clock;

bool matches(const SessionRecord& r, const std::string& vm, const std::string& owner) {
    return (vm.empty() || r.vm == vm) && (owner.empty() || r.owner == owner);
}

class NullRecording final : public Recording {
public:
    void output(std::string_view) override {}
    void input(std::string_view) override {}
    void resize(uint16_t, uint16_t) override {}
    void flush() override {}
    void close() override {}
};

}  // namespace

struct detail::RecorderState {
    struct ActiveEntry {
        SessionRecord record;
        SteadyClock::time_point start;
    };
    std::mutex mutex;
    std::map<std::string, ActiveEntry> active;
    std::atomic<uint64_t> bytes{0};
    prometheus::Gauge* activeGauge = nullptr;
    prometheus::Counter* recordingsCounter = nullptr;
    prometheus::Counter* bytesCounter = nullptr;
    prometheus::Counter* errorsCounter = nullptr;

    void finished(const std::string& id) {
        std::lock_guard lock(mutex);
        active.erase(id);
        if (activeGauge != nullptr) activeGauge->Set(static_cast<double>(active.size()));
    }
    void addBytes(size_t n) {
        bytes += n;
        if (bytesCounter != nullptr) bytesCounter->Increment(static_cast<double>(n));
    }
    void countError() {
        if (errorsCounter != nullptr) errorsCounter->Increment();
    }
};

namespace {

// A recording through the plugin. The first failing call stops the recording: the session goes
// on without it, and the error is reported once.
class PluginRecording final : public Recording {
public:
    PluginRecording(std::shared_ptr<detail::RecorderState>&& state, std::unique_ptr<RecorderSession> session,
                    std::string id, SteadyClock::time_point start, bool recordInput)
        : state_(std::move(state)),
          session_(std::move(session)),
          id_(std::move(id)),
          start_(start),
          recordInput_(recordInput) {}
    ~PluginRecording() override { close(); }

    void output(std::string_view bytes) override { write(PDK_RECORDING_OUTPUT, bytes); }
    void input(std::string_view bytes) override {
        if (recordInput_) write(PDK_RECORDING_INPUT, bytes);
    }
    void resize(uint16_t cols, uint16_t rows) override {
        write(PDK_RECORDING_RESIZE, std::to_string(cols) + "x" + std::to_string(rows));
    }
    void flush() override {
        if (!session_) return;
        if (auto st = session_->flush(); !st) fail(st.error());
    }
    void close() override {
        if (closed_) return;
        closed_ = true;
        session_.reset();  // close_session writes what is buffered
        state_->finished(id_);
    }

private:
    void write(char kind, std::string_view bytes) {
        if (!session_ || bytes.empty()) return;
        if (auto st = session_->write(secondsSince(start_), kind, bytes); !st) {
            fail(st.error());
            return;
        }
        state_->addBytes(bytes.size());
    }
    void fail(const Error& e) {
        std::cerr << "paddock: recording of session " << id_ << " stopped: " << e.message << std::endl;
        state_->countError();
        session_.reset();
    }

    std::shared_ptr<detail::RecorderState> state_;
    std::unique_ptr<RecorderSession> session_;
    std::string id_;
    SteadyClock::time_point start_;
    bool recordInput_;
    bool closed_ = false;
};

}  // namespace

SessionRecorder::SessionRecorder(std::shared_ptr<RecorderPlugin> recorder, std::string directory, bool recordInput,
                                 prometheus::Registry* metrics, Mode mode)
    : recorder_(std::move(recorder)),
      directory_(std::move(directory)),
      recordInput_(recordInput),
      mode_(mode),
      state_(std::make_shared<detail::RecorderState>()) {
    while (directory_.size() > 1 && directory_.back() == '/') directory_.pop_back();
    if (metrics != nullptr) {
        state_->activeGauge = &prometheus::BuildGauge()
                                   .Name("paddock_recordings_active")
                                   .Help("Terminal sessions being recorded now")
                                   .Register(*metrics)
                                   .Add({});
        state_->recordingsCounter = &prometheus::BuildCounter()
                                         .Name("paddock_recordings_total")
                                         .Help("Terminal-session recordings started")
                                         .Register(*metrics)
                                         .Add({});
        state_->bytesCounter = &prometheus::BuildCounter()
                                    .Name("paddock_recording_bytes_total")
                                    .Help("Terminal bytes handed to the recorder plugin")
                                    .Register(*metrics)
                                    .Add({});
        state_->errorsCounter = &prometheus::BuildCounter()
                                     .Name("paddock_recording_errors_total")
                                     .Help("Recordings that could not start or stopped on a write error")
                                     .Register(*metrics)
                                     .Add({});
    }
}

SessionRecorder::~SessionRecorder() = default;

bool SessionRecorder::validSessionId(std::string_view id) noexcept {
    if (id.empty() || id.size() > 128 || id.front() == '.') return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.';
    });
}

Result<std::unique_ptr<Recording>> SessionRecorder::begin(const RecordingInfo& info) {
    if (!validSessionId(info.session_id)) {
        return makeError(ErrorCode::InvalidArgument, "invalid session id '" + info.session_id +
                                                         "' (allowed: 1-128 of [A-Za-z0-9_.-], not starting with '.')");
    }
    if (!enabled()) return std::unique_ptr<Recording>(std::make_unique<NullRecording>());

    const auto now = std::chrono::system_clock::now();
    const auto start = SteadyClock::now();
    SessionRecord record;
    record.id = info.session_id;
    record.site = info.site;
    record.vm = info.vm;
    record.owner = info.owner;
    record.lease = info.lease;
    record.started_unix = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    record.active = true;
    {
        std::lock_guard lock(state_->mutex);
        if (!state_->active.emplace(info.session_id, detail::RecorderState::ActiveEntry{record, start}).second) {
            return makeError(ErrorCode::AlreadyExists, "session " + info.session_id + " is being recorded already");
        }
    }

    const std::string title = info.vm.empty() ? info.session_id : info.vm + " (" + info.session_id + ")";
    pdk_recording_info spec{};
    spec.struct_size = sizeof spec;
    spec.width = info.cols == 0 ? 80 : info.cols;
    spec.height = info.rows == 0 ? 24 : info.rows;
    spec.start_timestamp = record.started_unix;
    spec.directory = directory_.c_str();
    spec.session_id = info.session_id.c_str();
    spec.term = info.term.c_str();
    spec.shell = info.shell.c_str();
    spec.title = title.c_str();
    spec.site = info.site.c_str();
    spec.vm = info.vm.c_str();
    spec.owner = info.owner.c_str();
    spec.lease = info.lease.c_str();
    spec.record_input = recordInput_ ? 1 : 0;
    auto session = recorder_->open(spec);
    if (!session) {
        state_->finished(info.session_id);
        state_->countError();
        return std::move(session).error();
    }
    if (state_->recordingsCounter != nullptr) state_->recordingsCounter->Increment();
    {
        std::lock_guard lock(state_->mutex);
        if (state_->activeGauge != nullptr) state_->activeGauge->Set(static_cast<double>(state_->active.size()));
    }
    auto state = state_;
    return std::unique_ptr<Recording>(std::make_unique<PluginRecording>(std::move(state), std::move(session).value(),
                                                                        info.session_id, start, recordInput_));
}

std::vector<SessionRecord> SessionRecorder::list(const std::string& vm, const std::string& owner) const {
    std::map<std::string, detail::RecorderState::ActiveEntry> active;
    {
        std::lock_guard lock(state_->mutex);
        active = state_->active;
    }
    std::vector<SessionRecord> out;
    if (recorder_ && !directory_.empty()) {
        auto stored = recorder_->listSessions(directory_);
        if (!stored && stored.error().code != ErrorCode::Unsupported) {
            std::cerr << "paddock: cannot list recordings in " << directory_ << ": " << stored.error().message
                      << std::endl;
        }
        for (auto& s : stored ? std::move(stored).value() : std::vector<StoredSession>{}) {
            if (!validSessionId(s.id)) continue;  // the plugin's word is not trusted for ids
            SessionRecord r{std::move(s)};
            if (const auto it = active.find(r.id); it != active.end()) {
                r.active = true;
                r.duration_s = secondsSince(it->second.start);
                active.erase(it);
            }
            if (matches(r, vm, owner)) out.push_back(std::move(r));
        }
    }
    // Active sessions the plugin did not list (yet): reported from memory.
    for (auto& [id, entry] : active) {
        entry.record.duration_s = secondsSince(entry.start);
        if (matches(entry.record, vm, owner)) out.push_back(entry.record);
    }
    std::sort(out.begin(), out.end(), [](const SessionRecord& a, const SessionRecord& b) {
        return a.started_unix != b.started_unix ? a.started_unix > b.started_unix : a.id < b.id;
    });
    return out;
}

Error SessionRecorder::notFound(const std::string& id) {
    return makeError(ErrorCode::NotFound, "no recording of session '" + id + "'");
}

Result<SessionRecord> SessionRecorder::describe(const std::string& id) const {
    if (!validSessionId(id)) return makeError(ErrorCode::InvalidArgument, "invalid session id '" + id + "'");
    if (!recorder_ || directory_.empty()) return notFound(id);
    SessionRecord record;
    record.id = id;
    auto listed = recorder_->listSessions(directory_, id);
    if (listed) {
        if (listed->size() != 1 || listed->front().id != id) return notFound(id);
        static_cast<StoredSession&>(record) = std::move(listed->front());
    } else if (listed.error().code == ErrorCode::NotFound) {
        return notFound(id);
    } else if (listed.error().code == ErrorCode::Unsupported) {
        // A recorder that cannot list may still read: the defaults describe the bytes, and
        // reading nothing tells whether the recording is there.
        if (Status there = readRange(id, 0, 1, [](std::string_view) { return false; }); !there)
            return std::move(there).error();
    } else {
        return std::move(listed).error();
    }
    std::lock_guard lock(state_->mutex);
    record.active = state_->active.count(id) != 0;
    return record;
}

Status SessionRecorder::readRange(const std::string& id, uint64_t offset, uint64_t maxBytes,
                                  const ByteSink& sink) const {
    if (!validSessionId(id)) return makeError(ErrorCode::InvalidArgument, "invalid session id '" + id + "'");
    if (!recorder_ || directory_.empty()) return notFound(id);
    if (Status st = recorder_->readSession(directory_, id, sink, offset, maxBytes); !st) {
        if (st.error().code == ErrorCode::NotFound) return notFound(id);
        return st;
    }
    return {};
}

Result<SessionRecord> SessionRecorder::read(const std::string& id, const ByteSink& sink) const {
    auto record = describe(id);
    if (!record) return record;
    if (Status st = readRange(id, 0, 0, sink); !st) return std::move(st).error();
    return record;
}

size_t SessionRecorder::activeCount() const {
    std::lock_guard lock(state_->mutex);
    return state_->active.size();
}

uint64_t SessionRecorder::bytesRecorded() const { return state_->bytes; }

}  // namespace paddock
