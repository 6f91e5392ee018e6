// The recorder C++ helper (paddock/cpp/recorder.hpp): vtable generation and the exception barrier.
#include <paddock/cpp/backend.hpp>  // both helpers in one translation unit must not clash
#include <paddock/cpp/recorder.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

using Catch::Matchers::Contains;

namespace {

pdk_error freshError() {
    pdk_error e{};
    e.struct_size = sizeof e;
    return e;
}

pdk_recording_info freshInfo() {
    pdk_recording_info info{};
    info.struct_size = sizeof info;
    info.width = 80;
    info.height = 24;
    info.session_id = "s1";
    return info;
}

struct NoFlushRec {
    static std::unique_ptr<NoFlushRec> open(const pdk_recording_info&, uint32_t) {
        return std::make_unique<NoFlushRec>();
    }
    void write(double, char, std::string_view, uint32_t) {}
};

struct Event {
    double seconds;
    char kind;
    std::string data;
};

struct FullRec {
    static inline int live = 0;
    static inline std::vector<Event> events;
    static inline int flushes = 0;
    FullRec() { ++live; }
    ~FullRec() { --live; }

    static std::unique_ptr<FullRec> open(const pdk_recording_info& info, uint32_t flags) {
        pdk::checkFlags(flags, PDK_RECORDING_REPLACE);
        if (std::string(info.session_id) == "taken") throw pdk::Error(PDK_ERR_ALREADY_EXISTS, "exists");
        return std::make_unique<FullRec>();
    }
    void write(double seconds, char kind, std::string_view data, uint32_t flags) {
        pdk::checkFlags(flags, 0);
        if (kind == 'x') throw std::runtime_error("boom");
        events.push_back({seconds, kind, std::string(data)});
    }
    void flush(uint32_t flags) {
        pdk::checkFlags(flags, PDK_RECORDING_FLUSH_SYNC);
        ++flushes;
    }
};

// Lists and reads a made-up store: what the trampolines let through.
struct StoreRec {
    static std::unique_ptr<StoreRec> open(const pdk_recording_info&, uint32_t) { return std::make_unique<StoreRec>(); }
    void write(double, char, std::string_view, uint32_t) {}
    static inline int calls = 0;
    static void listSessions(const char* directory, const char* sessionId, uint32_t flags, pdk_session_sink sink,
                             void* user) {
        ++calls;
        pdk::checkFlags(flags, 0);
        if (sessionId != nullptr && std::string(sessionId) == "gone") throw pdk::Error(PDK_ERR_NOT_FOUND, "gone");
        pdk_session_info info{};
        info.struct_size = sizeof info;
        info.session_id = directory;  // echo, so the test sees what arrived
        info.media_type = "text/plain";
        sink(user, &info);
    }
    static void readSession(const char*, const char* sessionId, uint32_t flags, pdk_bytes_sink sink, void* user) {
        ++calls;
        pdk::checkFlags(flags, 0);
        if (sink(user, sessionId, std::strlen(sessionId)) != 0) return;
        sink(user, "!", 1);
    }
    static void readSessionRange(const char*, const char* sessionId, uint64_t offset, uint64_t maxBytes, uint32_t flags,
                                 pdk_bytes_sink sink, void* user) {
        ++calls;
        pdk::checkFlags(flags, 0);
        const std::string all = std::string(sessionId) + "!";
        if (offset < all.size()) {
            const std::string range = all.substr(offset, maxBytes == 0 ? std::string::npos : maxBytes);
            sink(user, range.data(), range.size());
        }
    }
};

}  // namespace

TEST_CASE("makeRecorderVtable fills the mandatory entries and optional ones only when present",
          "[sdk][cpp][recorder]") {
    const pdk_recorder_vtable minimal = pdk::makeRecorderVtable<NoFlushRec>();
    CHECK(minimal.struct_size == sizeof(pdk_recorder_vtable));
    CHECK(minimal.open_session != nullptr);
    CHECK(minimal.close_session != nullptr);
    CHECK(minimal.write_event != nullptr);
    CHECK(minimal.flush == nullptr);
    CHECK(minimal.list_sessions == nullptr);
    CHECK(minimal.read_session == nullptr);
    CHECK(minimal.read_session_range == nullptr);
    CHECK(pdk::makeRecorderVtable<FullRec>().flush != nullptr);
    const pdk_recorder_vtable store = pdk::makeRecorderVtable<StoreRec>();
    CHECK(store.list_sessions != nullptr);
    CHECK(store.read_session != nullptr);
    CHECK(store.read_session_range != nullptr);
}

TEST_CASE("list_sessions and read_session trampolines check their input first", "[sdk][cpp][recorder]") {
    const pdk_recorder_vtable v = pdk::makeRecorderVtable<StoreRec>();
    StoreRec::calls = 0;
    pdk_error err = freshError();
    std::vector<std::string> listed;
    const pdk_session_sink collect = [](void* user, const pdk_session_info* info) {
        static_cast<std::vector<std::string>*>(user)->emplace_back(info->session_id);
    };
    CHECK(v.list_sessions("/rec", nullptr, 0, collect, &listed, &err) == PDK_OK);
    CHECK(listed == std::vector<std::string>{"/rec"});
    CHECK(v.list_sessions("/rec", "gone", 0, collect, &listed, &err) == PDK_ERR_NOT_FOUND);
    CHECK(v.list_sessions("/rec", nullptr, 8, collect, &listed, &err) == PDK_ERR_BAD_FLAGS);
    const int classCalls = StoreRec::calls;
    CHECK(v.list_sessions(nullptr, nullptr, 0, collect, &listed, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(std::string(err.message) == "directory is NULL");
    CHECK(v.list_sessions("/rec", nullptr, 0, nullptr, &listed, &err) == PDK_ERR_INVALID_ARGUMENT);

    std::string bytes;
    const pdk_bytes_sink append = [](void* user, const char* data, size_t len) {
        static_cast<std::string*>(user)->append(data, len);
        return 0;
    };
    const pdk_bytes_sink stopAtOnce = [](void* user, const char* data, size_t len) {
        static_cast<std::string*>(user)->append(data, len);
        return 1;
    };
    CHECK(v.read_session("/rec", nullptr, 0, append, &bytes, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(std::string(err.message) == "session_id is NULL");
    CHECK(v.read_session(nullptr, "s1", 0, append, &bytes, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.read_session("/rec", "s1", 0, nullptr, &bytes, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(StoreRec::calls == classCalls);  // none of these reached the class
    CHECK(bytes.empty());
    CHECK(v.read_session("/rec", "s1", 0, append, &bytes, &err) == PDK_OK);
    CHECK(bytes == "s1!");
    bytes.clear();
    CHECK(v.read_session("/rec", "s1", 0, stopAtOnce, &bytes, &err) == PDK_OK);
    CHECK(bytes == "s1");

    const int before = StoreRec::calls;
    CHECK(v.read_session_range("/rec", nullptr, 0, 0, 0, append, &bytes, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.read_session_range(nullptr, "s1", 0, 0, 0, append, &bytes, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.read_session_range("/rec", "s1", 0, 0, 0, nullptr, &bytes, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(StoreRec::calls == before);
    bytes.clear();
    CHECK(v.read_session_range("/rec", "s1", 1, 1, 0, append, &bytes, &err) == PDK_OK);
    CHECK(bytes == "1");
    CHECK(v.read_session_range("/rec", "s1", 0, 0, 4, append, &bytes, &err) == PDK_ERR_BAD_FLAGS);
}

TEST_CASE("recorder trampolines own the object and never let an exception out", "[sdk][cpp][recorder]") {
    const pdk_recorder_vtable v = pdk::makeRecorderVtable<FullRec>();
    FullRec::events.clear();
    pdk_recording_info info = freshInfo();
    pdk_error err = freshError();
    pdk_recording* rec = nullptr;
    REQUIRE(v.open_session(&info, 0, &rec, &err) == PDK_OK);
    REQUIRE(rec != nullptr);
    CHECK(FullRec::live == 1);

    CHECK(v.write_event(rec, 0.25, 'o', "ab\0c", 4, 0, &err) == PDK_OK);
    CHECK(v.write_event(rec, 0.5, 'o', nullptr, 0, 0, &err) == PDK_OK);
    REQUIRE(FullRec::events.size() == 2);
    CHECK(FullRec::events[0].data == std::string("ab\0c", 4));  // length, not NUL, ends the data
    CHECK(FullRec::events[1].data.empty());

    CHECK(v.write_event(rec, 1, 'x', "z", 1, 0, &err) == PDK_ERR_INTERNAL);
    CHECK_THAT(err.message, Contains("boom"));
    CHECK(v.write_event(rec, 1, 'o', nullptr, 3, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.write_event(rec, 1, 'o', "z", 1, 4, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(v.write_event(nullptr, 1, 'o', "z", 1, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.flush(rec, PDK_RECORDING_FLUSH_SYNC, &err) == PDK_OK);
    CHECK(v.flush(rec, 2, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(FullRec::flushes == 1);

    v.close_session(rec);
    CHECK(FullRec::live == 0);
    v.close_session(nullptr);  // ignored
}

TEST_CASE("recorder open_session checks its arguments before the class sees them", "[sdk][cpp][recorder]") {
    const pdk_recorder_vtable v = pdk::makeRecorderVtable<FullRec>();
    pdk_recording_info info = freshInfo();
    pdk_error err = freshError();
    pdk_recording* rec = nullptr;
    CHECK(v.open_session(&info, 0, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.open_session(nullptr, 0, &rec, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.open_session(&info, 1u << 9, &rec, &err) == PDK_ERR_BAD_FLAGS);
    info.struct_size = static_cast<uint32_t>(offsetof(pdk_recording_info, record_input));
    CHECK(v.open_session(&info, 0, &rec, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(err.message, Contains("struct_size"));
    info = freshInfo();
    info.session_id = "taken";
    CHECK(v.open_session(&info, 0, &rec, nullptr) == PDK_ERR_ALREADY_EXISTS);  // err may be NULL
    CHECK(rec == nullptr);
    CHECK(FullRec::live == 0);
}
