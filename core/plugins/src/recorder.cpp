#include "paddock/core/recorder.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>

namespace paddock {

namespace {

Error closedError() { return makeError(ErrorCode::Conflict, "the recording is closed"); }

std::string str(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

bool tokenChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$&^_.+-").find(c) != std::string_view::npos;
}

// type "/" subtype of RFC 6838 restricted-name characters: safe in a Content-Type header.
bool validMediaType(std::string_view s) {
    const size_t slash = s.find('/');
    if (s.size() > 127 || slash == std::string_view::npos || slash == 0 || slash + 1 == s.size()) return false;
    return std::all_of(s.begin(), s.begin() + slash, tokenChar) &&
           std::all_of(s.begin() + slash + 1, s.end(), tokenChar);
}

bool validExtension(std::string_view s) {
    return !s.empty() && s.size() <= 16 &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

// What a list_sessions sink collects; exceptions stop at the C boundary and are reported after.
struct SessionCollector {
    std::vector<StoredSession> sessions;
    bool failed = false;

    static void sink(void* user, const pdk_session_info* theirs) noexcept {
        auto* self = static_cast<SessionCollector*>(user);
        if (theirs == nullptr || self->failed) return;
        try {
            // Read by the host's rules: fields past the plugin's struct_size are absent.
            const auto in = copyPluginStruct<pdk_session_info>(theirs);
            if (in.session_id == nullptr) return;
            StoredSession s;
            s.id = in.session_id;
            s.site = str(in.site);
            s.vm = str(in.vm);
            s.owner = str(in.owner);
            s.lease = str(in.lease);
            s.path = str(in.location);
            s.started_unix = in.start_timestamp;
            s.duration_s = in.duration_seconds;
            s.bytes = in.size_bytes;
            if (validMediaType(str(in.media_type))) s.media_type = in.media_type;
            s.format = str(in.format);
            if (validExtension(str(in.file_extension))) s.file_extension = in.file_extension;
            self->sessions.push_back(std::move(s));
        } catch (...) {
            self->failed = true;
        }
    }
};

// Hands the plugin's bytes on, only those of the range asked for: `skip` bytes are dropped first
// (a plugin without read_session_range reads from the start) and no more than `left` are passed
// on (a plugin that delivers more than asked is cut short).
struct ByteForwarder {
    const ByteSink* sink;
    uint64_t skip = 0;
    uint64_t left = UINT64_MAX;
    bool failed = false;

    static int forward(void* user, const char* data, size_t len) noexcept {
        auto* self = static_cast<ByteForwarder*>(user);
        if (data == nullptr) return 1;
        std::string_view bytes(data, len);
        const auto skipped = static_cast<size_t>(std::min<uint64_t>(self->skip, bytes.size()));
        bytes.remove_prefix(skipped);
        self->skip -= skipped;
        if (bytes.empty()) return 0;
        bytes = bytes.substr(0, static_cast<size_t>(std::min<uint64_t>(self->left, bytes.size())));
        self->left -= bytes.size();
        try {
            return (*self->sink)(bytes) && self->left > 0 ? 0 : 1;
        } catch (...) {
            self->failed = true;  // must not unwind into the plugin: stop it instead
            return 1;
        }
    }
};

}  // namespace

RecorderPlugin::RecorderPlugin(std::shared_ptr<LoadedPlugin> plugin) : plugin_(std::move(plugin)) {
    vtable_ = copyPluginStruct<pdk_recorder_vtable>(plugin_->descriptor().vtable);
}

Result<std::unique_ptr<RecorderSession>> RecorderPlugin::open(const pdk_recording_info& spec, uint32_t flags) {
    pdk_recording* handle = nullptr;
    if (Status st = callPlugin(vtable_.open_session, "open_session", "recorder", info().id, &spec, flags, &handle);
        !st) {
        Error e = std::move(st).error();
        e.message = "recorder " + info().id + " cannot record session " + str(spec.session_id) + ": " + e.message;
        return e;
    }
    if (handle == nullptr) return makeError(ErrorCode::Internal, "recorder " + info().id + " returned no recording");
    return std::make_unique<RecorderSession>(shared_from_this(), handle);
}

Result<std::vector<StoredSession>> RecorderPlugin::listSessions(const std::string& directory,
                                                                const std::string& id) const {
    SessionCollector collected;
    if (Status st =
            callPlugin(vtable_.list_sessions, "list_sessions", "recorder", info().id, directory.c_str(),
                       id.empty() ? nullptr : id.c_str(), 0u, &SessionCollector::sink, static_cast<void*>(&collected));
        !st) {
        return std::move(st).error();
    }
    if (collected.failed)
        return makeError(ErrorCode::Internal, "cannot collect the sessions recorder " + info().id + " listed");
    return std::move(collected.sessions);
}

Status RecorderPlugin::readSession(const std::string& directory, const std::string& id, const ByteSink& sink,
                                   uint64_t offset, uint64_t maxBytes) const {
    ByteForwarder forwarder{&sink};
    if (maxBytes != 0) forwarder.left = maxBytes;
    Status st;
    if ((offset != 0 || maxBytes != 0) && vtable_.read_session_range != nullptr) {
        st = callPlugin(vtable_.read_session_range, "read_session_range", "recorder", info().id, directory.c_str(),
                        id.c_str(), offset, maxBytes, 0u, &ByteForwarder::forward, static_cast<void*>(&forwarder));
    } else {
        forwarder.skip = offset;
        st = callPlugin(vtable_.read_session, "read_session", "recorder", info().id, directory.c_str(), id.c_str(), 0u,
                        &ByteForwarder::forward, static_cast<void*>(&forwarder));
    }
    if (!st) return st;
    if (forwarder.failed) return makeError(ErrorCode::Internal, "reading session " + id + " failed in the host");
    return {};
}

std::vector<std::string> recorderOperations(const pdk_recorder_vtable& v) {
    std::vector<std::string> out;
    if (v.open_session != nullptr) out.emplace_back("open_session");
    if (v.close_session != nullptr) out.emplace_back("close_session");
    if (v.write_event != nullptr) out.emplace_back("write_event");
    if (v.flush != nullptr) out.emplace_back("flush");
    if (v.list_sessions != nullptr) out.emplace_back("list_sessions");
    if (v.read_session != nullptr) out.emplace_back("read_session");
    if (v.read_session_range != nullptr) out.emplace_back("read_session_range");
    return out;
}

RecorderSession::RecorderSession(std::shared_ptr<RecorderPlugin> plugin, pdk_recording* handle)
    : plugin_(std::move(plugin)), handle_(handle) {}

RecorderSession::~RecorderSession() { close(); }

void RecorderSession::close() noexcept {
    if (handle_ != nullptr) plugin_->vtable().close_session(handle_);
    handle_ = nullptr;
}

Status RecorderSession::write(double seconds, char kind, std::string_view data, uint32_t flags) {
    if (handle_ == nullptr) return closedError();
    return callPlugin(plugin_->vtable().write_event, "write_event", "recorder", plugin_->info().id, handle_, seconds,
                      kind, data.data(), data.size(), flags);
}

Status RecorderSession::flush(uint32_t flags) {
    if (handle_ == nullptr) return closedError();
    if (plugin_->vtable().flush == nullptr) return {};  // the recorder writes through
    return callPlugin(plugin_->vtable().flush, "flush", "recorder", plugin_->info().id, handle_, flags);
}

}  // namespace paddock
