#include "paddock/core/recorder.hpp"

#include "paddock/core/backend.hpp"

#include <algorithm>
#include <cstring>

namespace paddock {

namespace {

Error closedError() { return makeError(ErrorCode::Conflict, "the recording is closed"); }

}  // namespace

RecorderPlugin::RecorderPlugin(std::shared_ptr<LoadedPlugin> plugin) : plugin_(std::move(plugin)) {
    vtable_ = copyPluginStruct<pdk_recorder_vtable>(plugin_->descriptor().vtable);
}

Result<std::unique_ptr<RecorderSession>> RecorderPlugin::open(const pdk_recording_info& spec, uint32_t flags) {
    pdk_error err = emptyPdkError();
    pdk_recording* handle = nullptr;
    const pdk_status st = vtable_.open_session(&spec, flags, &handle, &err);
    if (st != PDK_OK) {
        Error e = errorFromStatus(st, err.message);
        e.message = "recorder " + info().id + " cannot record session " +
                    (spec.session_id != nullptr ? spec.session_id : "") + ": " + e.message;
        return e;
    }
    if (handle == nullptr) return makeError(ErrorCode::Internal, "recorder " + info().id + " returned no recording");
    return std::make_unique<RecorderSession>(shared_from_this(), handle);
}

std::vector<std::string> recorderOperations(const pdk_recorder_vtable& v) {
    std::vector<std::string> out;
    if (v.open_session != nullptr) out.emplace_back("open_session");
    if (v.close_session != nullptr) out.emplace_back("close_session");
    if (v.write_event != nullptr) out.emplace_back("write_event");
    if (v.flush != nullptr) out.emplace_back("flush");
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
    pdk_error err = emptyPdkError();
    const pdk_status st = plugin_->vtable().write_event(handle_, seconds, kind, data.data(), data.size(), flags, &err);
    if (st != PDK_OK) return errorFromStatus(st, err.message);
    return {};
}

Status RecorderSession::flush(uint32_t flags) {
    if (handle_ == nullptr) return closedError();
    const auto fn = plugin_->vtable().flush;
    if (fn == nullptr) return {};
    pdk_error err = emptyPdkError();
    const pdk_status st = fn(handle_, flags, &err);
    if (st != PDK_OK) return errorFromStatus(st, err.message);
    return {};
}

}  // namespace paddock
