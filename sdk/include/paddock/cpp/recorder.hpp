// Header-only C++20 helper for writing Paddock recorders in C++. Not part of the ABI: it
// compiles into the plugin and produces a plain pdk_recorder_vtable.
//
// Write a class `Rec` (one object per recording) with
//   static std::unique_ptr<Rec> open(const pdk_recording_info& info, uint32_t flags);
//   void write(double seconds, char kind, std::string_view data, uint32_t flags);
// and optionally
//   void flush(uint32_t flags);                  (absent: the vtable's flush is NULL)
//   static void listSessions(const char* directory, const char* sessionId, uint32_t flags,
//                            pdk_session_sink sink, void* user);   (sessionId NULL: all)
//   static void readSession(const char* directory, const char* sessionId, uint32_t flags,
//                           pdk_bytes_sink sink, void* user);
//   static void readSessionRange(const char* directory, const char* sessionId, uint64_t offset,
//                                uint64_t maxBytes, uint32_t flags, pdk_bytes_sink sink, void* user);   (1.3)
// (absent: list_sessions / read_session / read_session_range are NULL, "unsupported").
// Its destructor is close_session and must not throw. Members report failure by throwing
// pdk::Error; any other exception becomes PDK_ERR_INTERNAL. No exception crosses the C boundary.
// The trampolines refuse NULL pointers and hand `open` a full-size copy of the host's `info`
// (cpp/structs.hpp: a struct_size below its ABI 1.0 size is refused; fields an older host does not
// know are zero), so the class never reads struct_size.
//
// Usage:  static const pdk_recorder_vtable kVtable = pdk::makeRecorderVtable<MyRecording>();
#pragma once

#include <paddock/pdk_recorder.h>
#include <paddock/cpp/error.hpp>
#include <paddock/cpp/structs.hpp>

#include <cstddef>
#include <memory>
#include <string_view>

namespace pdk {

namespace detail {

template <class Rec>
struct RecorderTrampolines {
    static Rec& self(pdk_recording* r) {
        if (r == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, "recording is NULL");
        return *reinterpret_cast<Rec*>(r);
    }
    static pdk_status openSession(const pdk_recording_info* info, uint32_t flags, pdk_recording** out,
                                  pdk_error* err) noexcept {
        return guard(err, [&] {
            if (out == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, "out is NULL");
            const pdk_recording_info ours = copyIn(info, "info");
            std::unique_ptr<Rec> rec = Rec::open(ours, flags);
            if (!rec) throw Error(PDK_ERR_INTERNAL, "recorder returned no recording");
            *out = reinterpret_cast<pdk_recording*>(rec.release());
        });
    }
    static void closeSession(pdk_recording* r) noexcept {
        try {
            delete reinterpret_cast<Rec*>(r);
        } catch (...) {}
    }
    static pdk_status writeEvent(pdk_recording* r, double seconds, char kind, const char* data, size_t len,
                                 uint32_t flags, pdk_error* err) noexcept {
        return guard(err, [&] {
            if (data == nullptr && len != 0) throw Error(PDK_ERR_INVALID_ARGUMENT, "data is NULL");
            self(r).write(seconds, kind, std::string_view(data == nullptr ? "" : data, len), flags);
        });
    }
    static pdk_status flush(pdk_recording* r, uint32_t flags, pdk_error* err) noexcept {
        return guard(err, [&] { self(r).flush(flags); });
    }
    static pdk_status listSessions(const char* directory, const char* sessionId, uint32_t flags, pdk_session_sink sink,
                                   void* user, pdk_error* err) noexcept {
        return guard(err, [&] {
            if (sink == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, "sink is NULL");
            Rec::listSessions(need(directory, "directory"), sessionId, flags, sink, user);
        });
    }
    static pdk_status readSession(const char* directory, const char* sessionId, uint32_t flags, pdk_bytes_sink sink,
                                  void* user, pdk_error* err) noexcept {
        return guard(err, [&] {
            if (sink == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, "sink is NULL");
            Rec::readSession(need(directory, "directory"), need(sessionId, "session_id"), flags, sink, user);
        });
    }
    static pdk_status readSessionRange(const char* directory, const char* sessionId, uint64_t offset, uint64_t maxBytes,
                                       uint32_t flags, pdk_bytes_sink sink, void* user, pdk_error* err) noexcept {
        return guard(err, [&] {
            if (sink == nullptr) throw Error(PDK_ERR_INVALID_ARGUMENT, "sink is NULL");
            Rec::readSessionRange(need(directory, "directory"), need(sessionId, "session_id"), offset, maxBytes, flags,
                                  sink, user);
        });
    }
};

}  // namespace detail

// Builds the vtable for `Rec`; the optional entries stay NULL when `Rec` lacks their member.
template <class Rec>
pdk_recorder_vtable makeRecorderVtable() {
    using T = detail::RecorderTrampolines<Rec>;
    pdk_recorder_vtable v{};
    v.struct_size = sizeof(pdk_recorder_vtable);
    v.open_session = &T::openSession;
    v.close_session = &T::closeSession;
    v.write_event = &T::writeEvent;
    if constexpr (requires(Rec & r, uint32_t f) { r.flush(f); }) v.flush = &T::flush;
    if constexpr (requires(const char* s, uint32_t f, pdk_session_sink sink, void* u) {
                      Rec::listSessions(s, s, f, sink, u);
                  })
        v.list_sessions = &T::listSessions;
    if constexpr (requires(const char* s, uint32_t f, pdk_bytes_sink sink, void* u) {
                      Rec::readSession(s, s, f, sink, u);
                  })
        v.read_session = &T::readSession;
    if constexpr (requires(const char* s, uint64_t n, uint32_t f, pdk_bytes_sink sink, void* u) {
                      Rec::readSessionRange(s, s, n, n, f, sink, u);
                  })
        v.read_session_range = &T::readSessionRange;
    return v;
}

}  // namespace pdk
