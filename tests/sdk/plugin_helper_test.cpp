// The library helper (paddock/cpp/plugin.hpp): init/deinit trampolines, nesting across hosts,
// and logging through the newest attached host.
#include <paddock/cpp/plugin.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using Catch::Matchers::Contains;

namespace {

// One fake host: what reached its log callback.
struct FakeHost {
    std::string name;
    std::vector<std::string> lines;
    pdk_host host{};
    explicit FakeHost(std::string n) : name(std::move(n)) {
        host.struct_size = sizeof host;
        host.abi_major = PDK_ABI_VERSION_MAJOR;
        host.abi_minor = PDK_ABI_VERSION_MINOR;
        host.host_data = this;
        host.log = [](void* data, pdk_log_level level, const char* message) {
            static_cast<FakeHost*>(data)->lines.push_back(std::to_string(level) + ":" + message);
        };
    }
};

struct CountingLib {
    static inline int inits = 0;
    static inline int deinits = 0;
    static inline pdk_host seen{};
    static inline bool failNext = false;
    static void init(const pdk_host& host) {
        seen = host;
        pdk::log(PDK_LOG_INFO, "init");
        if (failNext) {
            failNext = false;
            throw pdk::Error(PDK_ERR_UNAVAILABLE, "no driver here");
        }
        ++inits;
    }
    static void deinit() noexcept {
        pdk::log(PDK_LOG_INFO, "deinit");
        ++deinits;
    }
};

pdk_error freshError() {
    pdk_error e{};
    e.struct_size = sizeof e;
    return e;
}

}  // namespace

TEST_CASE("libraryInit/libraryDeinit run the library's init once for nested hosts", "[sdk][cpp][plugin]") {
    CountingLib::inits = CountingLib::deinits = 0;
    FakeHost a("a"), b("b");
    pdk_error err = freshError();
    CHECK_FALSE(pdk::hostAttached());
    pdk::log(PDK_LOG_ERROR, "dropped: nobody attached");

    REQUIRE(pdk::libraryInit<CountingLib>(&a.host, 0, &err) == PDK_OK);
    CHECK(CountingLib::inits == 1);
    CHECK(pdk::hostAttached());
    CHECK(CountingLib::seen.abi_minor == PDK_ABI_VERSION_MINOR);
    CHECK(a.lines == std::vector<std::string>{"1:init"});  // init may already log

    REQUIRE(pdk::libraryInit<CountingLib>(&b.host, 0, &err) == PDK_OK);
    CHECK(CountingLib::inits == 1);  // a second host only counts
    pdk::log(PDK_LOG_WARNING, "to the newest");
    CHECK(b.lines == std::vector<std::string>{"2:to the newest"});

    pdk::libraryDeinit<CountingLib>(&b.host);
    CHECK(CountingLib::deinits == 0);
    pdk::log(PDK_LOG_DEBUG, "back to a");
    CHECK(a.lines.back() == "0:back to a");
    CHECK(b.lines.size() == 1);  // b is gone: nothing more reaches it

    pdk::libraryDeinit<CountingLib>(&b.host);  // twice: ignored
    CHECK(CountingLib::deinits == 0);
    pdk::libraryDeinit<CountingLib>(&a.host);
    CHECK(CountingLib::deinits == 1);
    CHECK(a.lines.back() == "1:deinit");  // the last deinit can still log
    CHECK_FALSE(pdk::hostAttached());
    pdk::log(PDK_LOG_ERROR, "dropped again");
    CHECK(a.lines.back() == "1:deinit");

    // Restartable: a later init runs the library's init again.
    REQUIRE(pdk::libraryInit<CountingLib>(&a.host, 0, &err) == PDK_OK);
    CHECK(CountingLib::inits == 2);
    pdk::libraryDeinit<CountingLib>(&a.host);
    CHECK(CountingLib::deinits == 2);
}

TEST_CASE("libraryInit refuses bad input and reports a failing init", "[sdk][cpp][plugin]") {
    CountingLib::inits = CountingLib::deinits = 0;
    FakeHost a("a");
    pdk_error err = freshError();
    CHECK(pdk::libraryInit<CountingLib>(nullptr, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(std::string(err.message) == "host is NULL");
    CHECK(pdk::libraryInit<CountingLib>(&a.host, 1u << 4, &err) == PDK_ERR_BAD_FLAGS);
    a.host.struct_size = PDK_HOST_SIZE_1_1 - 1;  // log not covered
    CHECK(pdk::libraryInit<CountingLib>(&a.host, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(err.message, Contains("pdk_host struct_size 23"));
    a.host.struct_size = sizeof a.host;
    CHECK(CountingLib::inits == 0);
    CHECK_FALSE(pdk::hostAttached());

    CountingLib::failNext = true;
    CHECK(pdk::libraryInit<CountingLib>(&a.host, 0, &err) == PDK_ERR_UNAVAILABLE);
    CHECK(std::string(err.message) == "no driver here");
    CHECK_FALSE(pdk::hostAttached());  // a failed init leaves nothing attached
    pdk::libraryDeinit<CountingLib>(&a.host);
    CHECK(CountingLib::deinits == 0);
}

TEST_CASE("a host struct larger than ours is read as far as we know it", "[sdk][cpp][plugin]") {
    struct LaterHost {
        pdk_host host;
        uint64_t unknownField;
    } later{};
    FakeHost a("a");
    later.host = a.host;
    later.host.struct_size = sizeof later;
    later.unknownField = 42;
    pdk_error err = freshError();
    REQUIRE(pdk::libraryInit<CountingLib>(&later.host, 0, &err) == PDK_OK);
    CHECK(CountingLib::seen.struct_size == sizeof(pdk_host));
    pdk::log(PDK_LOG_INFO, "x");
    CHECK(a.lines.back() == "1:x");
    pdk::libraryDeinit<CountingLib>(&later.host);
}

TEST_CASE("deinit waits for log calls in flight and none reach the host afterwards", "[sdk][cpp][plugin]") {
    FakeHost a("a");
    std::atomic<int> delivered{0};
    std::atomic<bool> afterDeinit{false};
    std::atomic<bool> lateDelivery{false};
    a.host.host_data = &delivered;
    a.host.log = [](void* data, pdk_log_level, const char*) { ++*static_cast<std::atomic<int>*>(data); };
    pdk_error err = freshError();
    REQUIRE(pdk::libraryInit<CountingLib>(&a.host, 0, &err) == PDK_OK);
    std::atomic<bool> stop{false};
    std::thread logger([&] {
        while (!stop) {
            const int before = delivered.load();
            const bool detached = afterDeinit.load();
            pdk::log(PDK_LOG_DEBUG, "busy");
            if (detached && delivered.load() != before) lateDelivery = true;
        }
    });
    while (delivered.load() < 100) std::this_thread::yield();
    pdk::libraryDeinit<CountingLib>(&a.host);
    afterDeinit = true;
    const int atDeinit = delivered.load();
    for (int i = 0; i < 1000; ++i) std::this_thread::yield();
    stop = true;
    logger.join();
    CHECK_FALSE(lateDelivery);
    CHECK(delivered.load() == atDeinit);
}
