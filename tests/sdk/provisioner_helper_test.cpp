// The provisioner C++ helper (paddock/cpp/provisioner.hpp): vtable generation, the struct rules
// for request and result, the checks before the class runs, and the exception barrier.
#include <paddock/cpp/backend.hpp>  // every helper in one translation unit must not clash
#include <paddock/cpp/provisioner.hpp>
#include <paddock/cpp/recorder.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

using Catch::Matchers::Contains;

namespace {

pdk_error freshError() {
    pdk_error e{};
    e.struct_size = sizeof e;
    std::strcpy(e.message, "untouched");
    return e;
}

void ignoreLine(void*, int, const char*, size_t) {}

pdk_provision_request freshRequest() {
    pdk_provision_request r{};
    r.struct_size = sizeof r;
    r.site = "local";
    r.vm = "vm1";
    r.host = "127.0.0.1";
    r.port = 22001;
    r.user = "paddock";
    r.private_key_path = "/keys/id_ed25519";
    r.known_hosts_line = "[127.0.0.1]:22001 ssh-ed25519 AAAA";
    r.recipe = "site.yml";
    r.timeout_ms = 1000;
    r.output = &ignoreLine;
    return r;
}

// Only run: check must stay NULL.
struct RunOnly {
    static void run(const pdk_provision_request&, uint32_t, pdk_provision_result&) {}
};

struct NotAStdException {};

// The recipe name picks what happens, so one class exercises every path.
struct Full {
    static constexpr uint32_t kRunFlags = 0x4;
    static inline int runs = 0;
    static inline pdk_provision_request seen{};
    static inline std::vector<std::string> recipesChecked;

    static void run(const pdk_provision_request& request, uint32_t, pdk_provision_result& result) {
        ++runs;
        seen = request;
        const std::string recipe = request.recipe;
        if (recipe == "untouched-then-pdk") throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "no such recipe");
        result.exit_code = 2;
        result.ok = 3;
        result.changed = 1;
        result.failed = 1;
        result.unreachable = 0;
        result.skipped = 0;
        result.duration_seconds = 1.5;
        if (recipe == "task-failed") throw pdk::Error(PDK_ERR_INTERNAL, "task 'x' failed");
        if (recipe == "std") throw std::runtime_error("something broke");
        if (recipe == "other") throw NotAStdException{};
        request.output(request.output_user, PDK_PROVISION_STDOUT, "done", 4);
    }
    static std::string check(const pdk_kv* settings, size_t count, const char* recipe, uint32_t flags) {
        pdk::checkFlags(flags, 0);
        recipesChecked.emplace_back(recipe == nullptr ? "(null)" : recipe);
        for (size_t i = 0; i < count; ++i) {
            if (std::string(settings[i].key) != "command") {
                throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, std::string("unknown setting ") + settings[i].key);
            }
        }
        if (recipe != nullptr && std::string(recipe) == "broken.yml") throw pdk::Error(PDK_ERR_INVALID_ARGUMENT, "bad");
        return "tool [core 2.14.18] \xC3\xA9t\xC3\xA9\nsecond line";
    }
};

}  // namespace

TEST_CASE("makeProvisionerVtable fills run, and check only when the class has it", "[sdk][cpp][provisioner]") {
    const pdk_provisioner_vtable minimal = pdk::makeProvisionerVtable<RunOnly>();
    CHECK(minimal.struct_size == sizeof(pdk_provisioner_vtable));
    CHECK(minimal.struct_size >= PDK_PROVISIONER_VTABLE_SIZE_1_6);
    CHECK(minimal.run != nullptr);
    CHECK(minimal.check == nullptr);
    CHECK(pdk::makeProvisionerVtable<Full>().check != nullptr);
}

TEST_CASE("provisioner run refuses bad flags and bad requests before the class runs", "[sdk][cpp][provisioner]") {
    const pdk_provisioner_vtable v = pdk::makeProvisionerVtable<Full>();
    Full::runs = 0;
    pdk_error err = freshError();
    pdk_provision_request request = freshRequest();

    CHECK(v.run(&request, 0x1, nullptr, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(v.run(nullptr, 0x1, nullptr, &err) == PDK_ERR_BAD_FLAGS);  // flags first, before anything
    CHECK(v.run(nullptr, 0, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(std::string(err.message) == "request is NULL");

    request.struct_size = static_cast<uint32_t>(PDK_PROVISION_REQUEST_SIZE_1_6 - 1);
    CHECK(v.run(&request, 0, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(err.message, Contains("struct_size") && Contains("1.6"));

    const auto refused = [&](auto change, const char* expected) {
        pdk_provision_request r = freshRequest();
        change(r);
        pdk_error e = freshError();
        CHECK(v.run(&r, 0, nullptr, &e) == PDK_ERR_INVALID_ARGUMENT);
        CHECK_THAT(e.message, Contains(expected));
    };
    refused([](auto& r) { r.site = nullptr; }, "request.site is NULL");
    refused([](auto& r) { r.vm = nullptr; }, "request.vm is NULL");
    refused([](auto& r) { r.host = nullptr; }, "request.host is NULL");
    refused([](auto& r) { r.user = nullptr; }, "request.user is NULL");
    refused([](auto& r) { r.private_key_path = nullptr; }, "request.private_key_path is NULL");
    refused([](auto& r) { r.known_hosts_line = nullptr; }, "request.known_hosts_line is NULL");
    refused([](auto& r) { r.recipe = nullptr; }, "request.recipe is NULL");
    refused([](auto& r) { r.output = nullptr; }, "request.output is NULL");
    refused([](auto& r) { r.timeout_ms = 0; }, "timeout_ms is 0");
    refused([](auto& r) { r.setting_count = 2; }, "request.settings is NULL");
    refused([](auto& r) { r.become_secret_len = 3; }, "become_secret is NULL");
    static const pdk_kv nullValue[] = {{"command", nullptr}};
    refused(
        [](auto& r) {
            r.settings = nullValue;
            r.setting_count = 1;
        },
        "request.settings[0] has a NULL key or value");

    pdk_provision_result small{};
    small.struct_size = static_cast<uint32_t>(PDK_PROVISION_RESULT_SIZE_1_6 - 1);
    request = freshRequest();
    CHECK(v.run(&request, 0, &small, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(err.message, Contains("pdk_provision_result"));
    CHECK(small.exit_code == 0);  // untouched
    CHECK(Full::runs == 0);
}

TEST_CASE("provisioner run hands over a full copy and fills the result by the struct rules",
          "[sdk][cpp][provisioner]") {
    const pdk_provisioner_vtable v = pdk::makeProvisionerVtable<Full>();
    pdk_error err = freshError();

    SECTION("a host with a larger (newer) request and result") {
        struct Bigger {
            pdk_provision_request request;
            uint64_t later;
        } big{};
        big.request = freshRequest();
        big.request.struct_size = sizeof big;
        big.later = 0xFFFFFFFFFFFFFFFFull;
        struct BiggerResult {
            pdk_provision_result result;
            uint64_t later;
        } out{};
        out.result.struct_size = sizeof out;
        out.later = 77;
        std::vector<std::string> lines;
        big.request.output_user = &lines;
        big.request.output = [](void* user, int stream, const char* line, size_t len) {
            CHECK(stream == PDK_PROVISION_STDOUT);
            static_cast<std::vector<std::string>*>(user)->emplace_back(line, len);
        };
        REQUIRE(v.run(&big.request, 0x4, &out.result, &err) == PDK_OK);
        CHECK(Full::seen.struct_size == sizeof(pdk_provision_request));
        CHECK(std::string(Full::seen.vm) == "vm1");
        CHECK(lines == std::vector<std::string>{"done"});
        CHECK(out.result.struct_size == sizeof out);  // kept
        CHECK(out.result.exit_code == 2);
        CHECK(out.result.ok == 3);
        CHECK(out.result.duration_seconds == 1.5);
        CHECK(out.later == 77);  // beyond our struct: never written
    }
    SECTION("result may be NULL") {
        pdk_provision_request request = freshRequest();
        CHECK(v.run(&request, 0, nullptr, &err) == PDK_OK);
    }
    SECTION("the result reaches the host also when run throws") {
        pdk_provision_request request = freshRequest();
        request.recipe = "task-failed";
        pdk_provision_result result{};
        result.struct_size = sizeof result;
        CHECK(v.run(&request, 0, &result, &err) == PDK_ERR_INTERNAL);
        CHECK(std::string(err.message) == "task 'x' failed");
        CHECK(result.exit_code == 2);
        CHECK(result.failed == 1);
    }
    SECTION("a failure before the recipe ran reports 'did not run'") {
        pdk_provision_request request = freshRequest();
        request.recipe = "untouched-then-pdk";
        pdk_provision_result result{};
        result.struct_size = sizeof result;
        result.ok = 99;
        CHECK(v.run(&request, 0, &result, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(result.exit_code == -1);
        CHECK(result.ok == -1);
        CHECK(result.changed == -1);
        CHECK(result.duration_seconds == 0);
    }
    SECTION("no exception crosses the boundary") {
        pdk_provision_request request = freshRequest();
        request.recipe = "std";
        CHECK(v.run(&request, 0, nullptr, &err) == PDK_ERR_INTERNAL);
        CHECK(std::string(err.message) == "something broke");
        request.recipe = "other";
        CHECK(v.run(&request, 0, nullptr, nullptr) == PDK_ERR_INTERNAL);  // err may be NULL
        CHECK(v.run(&request, 0, nullptr, &err) == PDK_ERR_INTERNAL);
        CHECK_THAT(err.message, Contains("unknown exception"));
    }
}

TEST_CASE("provisioner check validates its input and writes one line of version", "[sdk][cpp][provisioner]") {
    const pdk_provisioner_vtable v = pdk::makeProvisionerVtable<Full>();
    Full::recipesChecked.clear();
    pdk_error err = freshError();
    char version[64];
    std::memset(version, 'X', sizeof version);

    REQUIRE(v.check(nullptr, 0, nullptr, 0, version, sizeof version, &err) == PDK_OK);
    CHECK(std::string(version) == "tool [core 2.14.18] \xC3\xA9t\xC3\xA9");  // first line only
    CHECK(v.check(nullptr, 0, "", 0, nullptr, 0, &err) == PDK_OK);             // no buffer: fine
    CHECK(v.check(nullptr, 0, "site.yml", 0, nullptr, 0, &err) == PDK_OK);
    CHECK(Full::recipesChecked == std::vector<std::string>{"(null)", "(null)", "site.yml"});

    // Truncated to fit, never inside a character: "tool [core 2.14.18] " is 20 bytes, then 2-byte é.
    std::memset(version, 'X', sizeof version);
    REQUIRE(v.check(nullptr, 0, nullptr, 0, version, 22, &err) == PDK_OK);
    CHECK(std::string(version) == "tool [core 2.14.18] ");
    CHECK(version[21] == 'X');
    REQUIRE(v.check(nullptr, 0, nullptr, 0, version, 1, &err) == PDK_OK);
    CHECK(version[0] == '\0');

    const pdk_kv unknown[] = {{"colour", "blue"}};
    std::strcpy(version, "before");
    CHECK(v.check(unknown, 1, nullptr, 0, version, sizeof version, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(std::string(err.message) == "unknown setting colour");
    CHECK(std::string(version) == "before");  // nothing written on failure
    CHECK(v.check(nullptr, 1, nullptr, 0, version, sizeof version, &err) == PDK_ERR_INVALID_ARGUMENT);
    const pdk_kv nullKey[] = {{nullptr, "x"}};
    CHECK(v.check(nullKey, 1, nullptr, 0, version, sizeof version, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.check(nullptr, 0, "broken.yml", 0, version, sizeof version, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(v.check(nullptr, 0, nullptr, 0x10, version, sizeof version, &err) == PDK_ERR_BAD_FLAGS);
}
