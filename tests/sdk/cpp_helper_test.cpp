// The C++ helper layer (paddock/cpp/backend.hpp): vtable generation and the exception barrier.
#include <paddock/cpp/backend.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <new>
#include <string>
#include <vector>

using Catch::Matchers::Contains;

namespace {

pdk_error freshError() {
    pdk_error e{};
    e.struct_size = sizeof e;
    e.status = PDK_OK;
    std::strcpy(e.message, "untouched");
    return e;
}

// Only open: every optional entry must stay NULL.
struct MinimalConn {
    static std::unique_ptr<MinimalConn> open(const char*, uint32_t) { return std::make_unique<MinimalConn>(); }
};

struct NotAStdException {};

struct FullConn {
    static inline int live = 0;
    FullConn() { ++live; }
    ~FullConn() { --live; }

    static std::unique_ptr<FullConn> open(const char* uri, uint32_t flags) {
        pdk::checkFlags(flags, 0);
        if (std::string(uri) == "down://") throw pdk::Error(PDK_ERR_UNAVAILABLE, "hypervisor down");
        return std::make_unique<FullConn>();
    }
    bool isAlive() { throw std::runtime_error("cannot tell"); }
    void listDomains(uint32_t flags, pdk_domain_sink sink, void* user) {
        pdk::checkFlags(flags, PDK_LIST_WITH_METADATA);
        pdk_domain_info info{};
        info.struct_size = sizeof info;
        info.name = "vm1";
        sink(user, &info);
    }
    // The name picks the failure, so one member exercises every kind of exception.
    void startDomain(const char* name, uint32_t flags) {
        pdk::checkFlags(flags, 0);
        const std::string n(name);
        if (n == "pdk") throw pdk::Error(PDK_ERR_CONFLICT, "vm is already running");
        if (n == "std") throw std::runtime_error("something broke");
        if (n == "alloc") throw std::bad_alloc();
        if (n == "other") throw NotAStdException{};
        if (n == "int") throw 42;
        if (n == "long") throw pdk::Error(PDK_ERR_NOT_FOUND, std::string(5000, 'x'));
        started.push_back(n);
    }
    void undefineDomain(const char*, uint32_t flags) { pdk::checkFlags(flags, PDK_UNDEFINE_REMOVE_STORAGE); }
    std::string createOverlay(const pdk_volume_spec& spec, uint32_t flags) {
        pdk::checkFlags(flags, 0);
        return std::string("/var/lib/paddock/") + spec.name;
    }
    std::vector<std::string> started;
};

struct Fixture {
    pdk_backend_vtable vt = pdk::makeBackendVtable<FullConn>();
    pdk_backend_connection* conn = nullptr;
    Fixture() {
        pdk_error err = freshError();
        REQUIRE(vt.open("full://", 0, &conn, &err) == PDK_OK);
    }
    ~Fixture() { vt.close(conn); }
    FullConn& self() { return *reinterpret_cast<FullConn*>(conn); }
};

void collectName(void* user, const pdk_domain_info* info) {
    static_cast<std::vector<std::string>*>(user)->emplace_back(info->name);
}

}  // namespace

TEST_CASE("makeBackendVtable fills exactly the members the class has", "[sdk][cpp]") {
    const pdk_backend_vtable minimal = pdk::makeBackendVtable<MinimalConn>();
    CHECK(minimal.struct_size == sizeof(pdk_backend_vtable));
    CHECK(minimal.open != nullptr);
    CHECK(minimal.close != nullptr);
    CHECK(minimal.is_alive == nullptr);
    CHECK(minimal.list_domains == nullptr);
    CHECK(minimal.start_domain == nullptr);
    CHECK(minimal.create_overlay == nullptr);
    CHECK(minimal.subscribe_events == nullptr);

    const pdk_backend_vtable full = pdk::makeBackendVtable<FullConn>();
    CHECK(full.is_alive != nullptr);
    CHECK(full.list_domains != nullptr);
    CHECK(full.start_domain != nullptr);
    CHECK(full.undefine_domain != nullptr);
    CHECK(full.create_overlay != nullptr);
    CHECK(full.get_domain == nullptr);
    CHECK(full.shutdown_domain == nullptr);
    CHECK(full.destroy_domain == nullptr);
    CHECK(full.snapshot_create == nullptr);
    CHECK(full.host_info == nullptr);
}

TEST_CASE("open and close own the C++ object", "[sdk][cpp]") {
    const pdk_backend_vtable vt = pdk::makeBackendVtable<FullConn>();
    const int before = FullConn::live;
    pdk_backend_connection* conn = nullptr;
    pdk_error err = freshError();
    REQUIRE(vt.open("full://", 0, &conn, &err) == PDK_OK);
    CHECK(conn != nullptr);
    CHECK(FullConn::live == before + 1);
    CHECK(std::string(err.message) == "untouched");  // success leaves the error alone
    vt.close(conn);
    CHECK(FullConn::live == before);
    vt.close(nullptr);  // harmless

    CHECK(vt.open("full://", 0, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(err.message, Contains("out is NULL"));

    conn = nullptr;
    err = freshError();
    CHECK(vt.open("down://", 0, &conn, &err) == PDK_ERR_UNAVAILABLE);
    CHECK(err.status == PDK_ERR_UNAVAILABLE);
    CHECK(std::string(err.message) == "hypervisor down");
    CHECK(conn == nullptr);
    CHECK(FullConn::live == before);
}

TEST_CASE("the exception barrier maps every exception to a status", "[sdk][cpp]") {
    Fixture f;
    pdk_error err = freshError();

    SECTION("pdk::Error keeps its status and message") {
        CHECK(f.vt.start_domain(f.conn, "pdk", 0, &err) == PDK_ERR_CONFLICT);
        CHECK(err.status == PDK_ERR_CONFLICT);
        CHECK(std::string(err.message) == "vm is already running");
    }
    SECTION("std::exception becomes PDK_ERR_INTERNAL with what()") {
        CHECK(f.vt.start_domain(f.conn, "std", 0, &err) == PDK_ERR_INTERNAL);
        CHECK(std::string(err.message) == "something broke");
    }
    SECTION("std::bad_alloc becomes PDK_ERR_INTERNAL") {
        CHECK(f.vt.start_domain(f.conn, "alloc", 0, &err) == PDK_ERR_INTERNAL);
        CHECK(std::string(err.message) == "out of memory");
    }
    SECTION("a non-std exception becomes PDK_ERR_INTERNAL") {
        CHECK(f.vt.start_domain(f.conn, "other", 0, &err) == PDK_ERR_INTERNAL);
        CHECK(std::string(err.message) == "unknown exception in plugin");
        CHECK(f.vt.start_domain(f.conn, "int", 0, &err) == PDK_ERR_INTERNAL);
    }
    SECTION("isAlive never throws: an exception means not alive") {
        CHECK(f.vt.is_alive(f.conn) == 0);
        CHECK(f.vt.is_alive(nullptr) == 0);
    }
    SECTION("success runs the member and leaves err alone") {
        CHECK(f.vt.start_domain(f.conn, "vm1", 0, &err) == PDK_OK);
        CHECK(f.self().started == std::vector<std::string>{"vm1"});
        CHECK(std::string(err.message) == "untouched");
    }
    SECTION("a NULL err is allowed") {
        CHECK(f.vt.start_domain(f.conn, "pdk", 0, nullptr) == PDK_ERR_CONFLICT);
    }
    SECTION("an err whose struct_size is too small is not written") {
        err.struct_size = 8;
        CHECK(f.vt.start_domain(f.conn, "pdk", 0, &err) == PDK_ERR_CONFLICT);
        CHECK(err.status == PDK_OK);
        CHECK(std::string(err.message) == "untouched");
    }
    SECTION("NULL arguments are refused before the member runs") {
        CHECK(f.vt.start_domain(f.conn, nullptr, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(std::string(err.message) == "name is NULL");
        CHECK(f.vt.start_domain(nullptr, "vm1", 0, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(std::string(err.message) == "connection is NULL");
        CHECK(f.vt.list_domains(f.conn, 0, nullptr, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(f.self().started.empty());
    }
}

TEST_CASE("long messages are truncated to PDK_ERROR_MESSAGE_MAX", "[sdk][cpp]") {
    Fixture f;
    pdk_error err = freshError();
    CHECK(f.vt.start_domain(f.conn, "long", 0, &err) == PDK_ERR_NOT_FOUND);
    const std::string message(err.message);
    CHECK(message.size() == PDK_ERROR_MESSAGE_MAX - 1);
    CHECK(message == std::string(PDK_ERROR_MESSAGE_MAX - 1, 'x'));

    pdk_error direct = freshError();
    CHECK(pdk::setError(&direct, PDK_ERR_TIMEOUT, std::string(PDK_ERROR_MESSAGE_MAX, 'y')) == PDK_ERR_TIMEOUT);
    CHECK(direct.status == PDK_ERR_TIMEOUT);
    CHECK(std::strlen(direct.message) == PDK_ERROR_MESSAGE_MAX - 1);
    CHECK(pdk::setError(nullptr, PDK_ERR_TIMEOUT, "x") == PDK_ERR_TIMEOUT);
}

TEST_CASE("checkFlags rejects unknown bits with PDK_ERR_BAD_FLAGS", "[sdk][cpp]") {
    CHECK_NOTHROW(pdk::checkFlags(0, 0));
    CHECK_NOTHROW(pdk::checkFlags(0x3, 0x3));
    try {
        pdk::checkFlags(0x31, 0x1);
        FAIL("checkFlags did not throw");
    } catch (const pdk::Error& e) {
        CHECK(e.status() == PDK_ERR_BAD_FLAGS);
        CHECK(std::string(e.what()) == "unsupported flag bits 0x30");
    }

    Fixture f;
    pdk_error err = freshError();
    CHECK(f.vt.start_domain(f.conn, "vm1", 0x80000000u, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(std::string(err.message) == "unsupported flag bits 0x80000000");
    CHECK(f.self().started.empty());
    CHECK(f.vt.undefine_domain(f.conn, "vm1", PDK_UNDEFINE_REMOVE_STORAGE, &err) == PDK_OK);
    CHECK(f.vt.undefine_domain(f.conn, "vm1", PDK_UNDEFINE_REMOVE_STORAGE | 0x4, &err) == PDK_ERR_BAD_FLAGS);

    std::vector<std::string> names;
    CHECK(f.vt.list_domains(f.conn, PDK_LIST_WITH_METADATA, &collectName, &names, &err) == PDK_OK);
    CHECK(names == std::vector<std::string>{"vm1"});
    CHECK(f.vt.list_domains(f.conn, 0x2, &collectName, &names, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(names.size() == 1);

    pdk_backend_connection* conn = nullptr;
    CHECK(f.vt.open("full://", 0x1, &conn, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(conn == nullptr);
}

TEST_CASE("createOverlay writes the path into the caller's buffer or says it is too small", "[sdk][cpp]") {
    Fixture f;
    pdk_volume_spec spec{};
    spec.struct_size = sizeof spec;
    spec.pool = "default";
    spec.name = "vm1.qcow2";
    spec.backing_path = "/images/base.qcow2";
    spec.backing_format = "qcow2";
    const std::string expected = "/var/lib/paddock/vm1.qcow2";

    pdk_error err = freshError();
    char big[256];
    CHECK(f.vt.create_overlay(f.conn, &spec, 0, big, sizeof big, &err) == PDK_OK);
    CHECK(std::string(big) == expected);

    char exact[64];
    CHECK(f.vt.create_overlay(f.conn, &spec, 0, exact, expected.size() + 1, &err) == PDK_OK);
    CHECK(std::string(exact) == expected);

    char small[64] = "keep";
    CHECK(f.vt.create_overlay(f.conn, &spec, 0, small, expected.size(), &err) == PDK_ERR_BUFFER_TOO_SMALL);
    CHECK(err.status == PDK_ERR_BUFFER_TOO_SMALL);
    CHECK_THAT(err.message, Contains("path_out too small"));
    CHECK(std::string(small) == "keep");

    CHECK(f.vt.create_overlay(f.conn, nullptr, 0, big, sizeof big, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(f.vt.create_overlay(f.conn, &spec, 0, nullptr, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
}
