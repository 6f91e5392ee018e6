// The C++ helper layer (paddock/cpp/backend.hpp): vtable generation and the exception barrier.
#include <paddock/cpp/backend.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
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
    std::string volumePath(const char* pool, const char* name, uint32_t flags) {
        pdk::checkFlags(flags, 0);
        if (std::string(name) == "taken.qcow2") throw pdk::Error(PDK_ERR_ALREADY_EXISTS, "volume 'taken.qcow2' exists");
        return std::string("/var/lib/") + pool + "/" + name;
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
    CHECK(minimal.volume_path == nullptr);
    CHECK(minimal.snapshot_list_info == nullptr);
    CHECK(minimal.snapshot_create_spec == nullptr);
    CHECK(minimal.backup_create == nullptr);
    CHECK(minimal.checkpoint_delete == nullptr);
    CHECK(minimal.restore_volume == nullptr);
    CHECK(minimal.guest_ping == nullptr);

    const pdk_backend_vtable full = pdk::makeBackendVtable<FullConn>();
    CHECK(full.is_alive != nullptr);
    CHECK(full.list_domains != nullptr);
    CHECK(full.start_domain != nullptr);
    CHECK(full.undefine_domain != nullptr);
    CHECK(full.create_overlay != nullptr);
    CHECK(full.volume_path != nullptr);
    CHECK(full.get_domain == nullptr);
    CHECK(full.shutdown_domain == nullptr);
    CHECK(full.destroy_domain == nullptr);
    CHECK(full.snapshot_create == nullptr);
    CHECK(full.host_info == nullptr);
    CHECK(full.backup_create == nullptr);
    CHECK(full.guest_ping == nullptr);
    CHECK(full.restore_volume == nullptr);
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
    SECTION("a NULL err is allowed") { CHECK(f.vt.start_domain(f.conn, "pdk", 0, nullptr) == PDK_ERR_CONFLICT); }
    SECTION("an err is written only as far as its struct_size goes") {
        err.struct_size = 4;  // not even room for the status
        CHECK(f.vt.start_domain(f.conn, "pdk", 0, &err) == PDK_ERR_CONFLICT);
        CHECK(err.status == PDK_OK);
        CHECK(std::string(err.message) == "untouched");
        err.struct_size = 8;  // the status, no message
        CHECK(f.vt.start_domain(f.conn, "pdk", 0, &err) == PDK_ERR_CONFLICT);
        CHECK(err.status == PDK_ERR_CONFLICT);
        CHECK(std::string(err.message) == "untouched");
        err = freshError();
        err.struct_size = 8 + 5;  // four characters and the NUL
        CHECK(f.vt.start_domain(f.conn, "pdk", 0, &err) == PDK_ERR_CONFLICT);
        CHECK(err.status == PDK_ERR_CONFLICT);
        CHECK(std::string(err.message) == "vm i");
        CHECK(err.message[5] == 'c');  // "untouched" beyond the room is left alone
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

TEST_CASE("volumePath writes the planned path, or passes the member's refusal on", "[sdk][cpp]") {
    Fixture f;
    pdk_error err = freshError();
    char path[64];
    CHECK(f.vt.volume_path(f.conn, "pool", "vm1.qcow2", 0, path, sizeof path, &err) == PDK_OK);
    CHECK(std::string(path) == "/var/lib/pool/vm1.qcow2");
    CHECK(f.vt.volume_path(f.conn, "pool", "vm1.qcow2", 0, path, 10, &err) == PDK_ERR_BUFFER_TOO_SMALL);
    CHECK(f.vt.volume_path(f.conn, "pool", "taken.qcow2", 0, path, sizeof path, &err) == PDK_ERR_ALREADY_EXISTS);
    CHECK_THAT(err.message, Contains("exists"));
    CHECK(f.vt.volume_path(f.conn, nullptr, "vm1.qcow2", 0, path, sizeof path, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(f.vt.volume_path(f.conn, "pool", "vm1.qcow2", 0, nullptr, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(f.vt.volume_path(f.conn, "pool", "vm1.qcow2", 0x4, path, sizeof path, &err) == PDK_ERR_BAD_FLAGS);
}

namespace {

// Fills outputs and records what it was handed, to check the struct rules of the trampolines.
struct StructConn {
    static std::unique_ptr<StructConn> open(const char*, uint32_t) { return std::make_unique<StructConn>(); }
    void hostInfo(uint32_t, pdk_host_info& out) {
        seenOutputSize = out.struct_size;
        std::memset(out.hypervisor, 'h', sizeof out.hypervisor - 1);
        std::strcpy(out.hostname, "host.example");
        out.library_version = 9000000;
    }
    void sshTarget(const char*, uint32_t, pdk_ssh_target& out) {
        std::strcpy(out.host, "10.0.0.7");
        out.port = 2222;
    }
    void defineDomain(const pdk_domain_spec& spec, uint32_t) {
        seenSpec = spec;
        if (std::string(spec.name) == "fail") throw pdk::Error(PDK_ERR_CONFLICT, "refused");
    }
    uint32_t seenOutputSize = 0;
    pdk_domain_spec seenSpec{};
};

// A struct of some later ABI with one field more than its 1.0 form, to exercise the templates.
struct GrowingSpec {
    uint32_t struct_size;
    uint32_t a;
    uint64_t b;
    uint64_t addedLater;
};

// Host memory around a struct: `guard` bytes of 0xA5 on both sides, so a write past the struct
// (or before it) is seen.
template <size_t Size>
struct Guarded {
    static constexpr size_t guard = 64;
    alignas(16) unsigned char bytes[guard + Size + guard];
    Guarded() { std::memset(bytes, 0xA5, sizeof bytes); }
    void* at() { return bytes + guard; }
    // True when no byte outside [guard, guard + used) changed.
    bool intactOutside(size_t used) const {
        for (size_t i = 0; i < sizeof bytes; ++i) {
            if ((i < guard || i >= guard + used) && bytes[i] != 0xA5) return false;
        }
        return true;
    }
};

}  // namespace

template <>
struct pdk::StructRule<GrowingSpec> {
    static constexpr const char* name = "GrowingSpec";
    static constexpr size_t minSize = PDK_FIELD_END(GrowingSpec, b);
};

TEST_CASE("pdk_write_error writes what fits, and never more than PDK_ERROR_MESSAGE_MAX", "[sdk][cpp][structs]") {
    const std::string message = "0123456789";
    for (uint32_t size : {0u, 3u, 4u, 7u, 8u, 9u, 10u, 8u + 5u, 8u + 11u, 8u + 12u}) {
        INFO("struct_size " << size);
        Guarded<sizeof(pdk_error)> host;  // the record is `size` bytes; the rest is not the host's
        auto* err = static_cast<pdk_error*>(host.at());
        err->struct_size = size;
        CHECK(pdk::setError(err, PDK_ERR_TIMEOUT, message) == PDK_ERR_TIMEOUT);
        CHECK(host.intactOutside(size < 4 ? 4 : size));
        if (size >= 8) CHECK(err->status == PDK_ERR_TIMEOUT);
        if (size > 8) {
            const size_t room = size - 8 - 1;
            CHECK(std::string(err->message) == message.substr(0, room));
        }
    }
    // A record larger than ours (a later ABI's) gets at most our message length.
    Guarded<sizeof(pdk_error) + 64> big;
    std::memset(big.at(), 0, sizeof(pdk_error) + 64);
    auto* err = static_cast<pdk_error*>(big.at());
    err->struct_size = sizeof(pdk_error) + 64;
    pdk::setError(err, PDK_ERR_INTERNAL, std::string(5000, 'z'));
    CHECK(std::strlen(err->message) == PDK_ERROR_MESSAGE_MAX - 1);
    const auto* tail = static_cast<const unsigned char*>(big.at()) + sizeof(pdk_error);
    CHECK(std::all_of(tail, tail + 64, [](unsigned char c) { return c == 0; }));
    CHECK(pdk_write_error(nullptr, PDK_ERR_TIMEOUT, "x", 1) == PDK_ERR_TIMEOUT);
}

TEST_CASE("copyIn hands plugin code a zeroed full-size copy of what the host's struct covers", "[sdk][cpp][structs]") {
    // The host is one version older: its struct ends after `b`; the memory after it is not its.
    Guarded<sizeof(GrowingSpec)> host;
    auto* theirs = static_cast<GrowingSpec*>(host.at());
    theirs->struct_size = PDK_FIELD_END(GrowingSpec, b);
    theirs->a = 7;
    theirs->b = 8;
    const GrowingSpec ours = pdk::copyIn(theirs, "spec");
    CHECK(ours.struct_size == sizeof(GrowingSpec));
    CHECK(ours.a == 7);
    CHECK(ours.b == 8);
    CHECK(ours.addedLater == 0);  // not 0xA5A5...: never read from the host
    CHECK(host.intactOutside(PDK_FIELD_END(GrowingSpec, b)));

    theirs->struct_size = 8;  // smaller than its first version: malformed
    try {
        (void)pdk::copyIn(theirs, "spec");
        FAIL("copyIn accepted a struct smaller than its ABI 1.0 size");
    } catch (const pdk::Error& e) {
        CHECK(e.status() == PDK_ERR_INVALID_ARGUMENT);
        CHECK(std::string(e.what()) == "GrowingSpec struct_size 8 is smaller than its 16 bytes in ABI 1.0");
    }
    CHECK_THROWS_AS(pdk::copyIn(static_cast<const GrowingSpec*>(nullptr), "spec"), pdk::Error);
}

TEST_CASE("copyOut writes back only what the host's struct_size covers", "[sdk][cpp][structs]") {
    Guarded<sizeof(GrowingSpec)> host;
    auto* theirs = static_cast<GrowingSpec*>(host.at());
    theirs->struct_size = PDK_FIELD_END(GrowingSpec, b);  // an older host
    GrowingSpec ours = pdk::outputFor(theirs, "out");
    CHECK(ours.struct_size == sizeof(GrowingSpec));
    ours.a = 1;
    ours.b = 2;
    ours.addedLater = 3;
    pdk::copyOut(theirs, ours);
    CHECK(theirs->struct_size == PDK_FIELD_END(GrowingSpec, b));  // the host's own size stays
    CHECK(theirs->a == 1);
    CHECK(theirs->b == 2);
    CHECK(host.intactOutside(PDK_FIELD_END(GrowingSpec, b)));  // addedLater was not written

    theirs->struct_size = 4;
    CHECK_THROWS_AS(pdk::outputFor(theirs, "out"), pdk::Error);
}

TEST_CASE("backend trampolines apply the struct rules to host_info, ssh_target and define_domain",
          "[sdk][cpp][structs]") {
    const pdk_backend_vtable vt = pdk::makeBackendVtable<StructConn>();
    pdk_backend_connection* conn = nullptr;
    pdk_error err = freshError();
    REQUIRE(vt.open("s://", 0, &conn, &err) == PDK_OK);
    StructConn& self = *reinterpret_cast<StructConn*>(conn);

    SECTION("host_info: a host struct larger than ours gets our fields and nothing past them") {
        Guarded<sizeof(pdk_host_info) + 32> host;
        std::memset(host.at(), 0, sizeof(pdk_host_info) + 32);
        auto* out = static_cast<pdk_host_info*>(host.at());
        out->struct_size = sizeof(pdk_host_info) + 32;
        REQUIRE(vt.host_info(conn, 0, out, &err) == PDK_OK);
        CHECK(self.seenOutputSize == sizeof(pdk_host_info));  // the member never sees the host's size
        CHECK(out->struct_size == sizeof(pdk_host_info) + 32);
        CHECK(std::string(out->hostname) == "host.example");
        CHECK(out->library_version == 9000000);
        const auto* later = static_cast<const unsigned char*>(host.at()) + sizeof(pdk_host_info);
        CHECK(std::all_of(later, later + 32, [](unsigned char c) { return c == 0; }));
        CHECK(host.intactOutside(sizeof(pdk_host_info) + 32));
    }
    SECTION("host_info and ssh_target refuse NULL and structs smaller than ABI 1.0's, untouched") {
        pdk_host_info info{};
        info.struct_size = PDK_HOST_INFO_SIZE_1_0 - 1;
        CHECK(vt.host_info(conn, 0, &info, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK_THAT(err.message, Contains("pdk_host_info struct_size"));
        CHECK(info.library_version == 0);
        CHECK(vt.host_info(conn, 0, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
        pdk_ssh_target target{};
        target.struct_size = 8;
        CHECK(vt.ssh_target(conn, "vm", 0, &target, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(target.port == 0);
        target.struct_size = sizeof target;
        CHECK(vt.ssh_target(conn, "vm", 0, &target, &err) == PDK_OK);
        CHECK(std::string(target.host) == "10.0.0.7");
        CHECK(target.port == 2222);
    }
    SECTION("define_domain: the member gets a copy of our size, whatever the host's") {
        Guarded<sizeof(pdk_domain_spec) + 16> host;
        std::memset(host.at(), 0x5A, sizeof(pdk_domain_spec) + 16);  // a later host's unknown fields
        auto* spec = static_cast<pdk_domain_spec*>(host.at());
        spec->struct_size = sizeof(pdk_domain_spec) + 16;
        spec->name = "vm1";
        spec->vcpus = 3;
        spec->metadata = nullptr;
        spec->metadata_count = 0;
        REQUIRE(vt.define_domain(conn, spec, 0, &err) == PDK_OK);
        CHECK(self.seenSpec.struct_size == sizeof(pdk_domain_spec));
        CHECK(self.seenSpec.vcpus == 3);

        spec->struct_size = PDK_DOMAIN_SPEC_SIZE_1_0 - 8;
        CHECK(vt.define_domain(conn, spec, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK_THAT(err.message, Contains("pdk_domain_spec struct_size"));
        CHECK(vt.define_domain(conn, nullptr, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(std::string(err.message) == "spec is NULL");
    }
    SECTION("a failing member leaves the output untouched") {
        pdk_domain_spec spec{};
        spec.struct_size = sizeof spec;
        spec.name = "fail";
        CHECK(vt.define_domain(conn, &spec, 0, &err) == PDK_ERR_CONFLICT);
        CHECK(std::string(err.message) == "refused");
    }
    vt.close(conn);
}

namespace {

// The ABI 1.4 members; records what the trampolines hand it.
struct BackupConn {
    static std::unique_ptr<BackupConn> open(const char*, uint32_t) { return std::make_unique<BackupConn>(); }
    void snapshotListInfo(const char* domain, uint32_t flags, pdk_snapshot_sink sink, void* user) {
        pdk::checkFlags(flags, 0);
        if (std::string(domain) == "missing") throw pdk::Error(PDK_ERR_NOT_FOUND, "no domain 'missing'");
        pdk_snapshot_info info{};
        info.struct_size = sizeof info;
        info.name = "s1";
        info.description = "";
        info.state = PDK_DOMAIN_RUNNING;
        info.has_memory = 1;
        info.size_bytes = -1;
        sink(user, &info);
    }
    void snapshotCreateSpec(const char* domain, const pdk_snapshot_spec& spec, uint32_t flags) {
        pdk::checkFlags(flags, PDK_SNAPSHOT_DISK_ONLY | PDK_SNAPSHOT_REPLACE);
        seenSpecSize = spec.struct_size;
        created.push_back(std::string(domain) + "/" + spec.name + ":" + (spec.description ? spec.description : "-"));
    }
    void backupCreate(const char*, const pdk_backup_spec& spec, uint32_t flags, pdk_backup_result& out) {
        pdk::checkFlags(flags, 0);
        seenSpecSize = spec.struct_size;
        seenOutputSize = out.struct_size;
        if (spec.incremental_from != nullptr && std::string(spec.incremental_from) == "gone")
            throw pdk::Error(PDK_ERR_NOT_FOUND, "no checkpoint 'gone'");
        out.bytes = 196608;
        out.offline = 1;
    }
    void checkpointDelete(const char* domain, const char* checkpoint, uint32_t flags) {
        pdk::checkFlags(flags, 0);
        created.push_back(std::string("-") + domain + "/" + checkpoint);
    }
    std::string restoreVolume(const pdk_restore_spec& spec, uint32_t flags) {
        pdk::checkFlags(flags, 0);
        seenSpecSize = spec.struct_size;
        return std::string("/pools/") + spec.pool + "/" + spec.name;
    }
    uint32_t seenSpecSize = 0;
    uint32_t seenOutputSize = 0;
    std::vector<std::string> created;
};

void collectSnapshot(void* user, const pdk_snapshot_info* info) {
    static_cast<std::vector<std::string>*>(user)->emplace_back(info->name);
}

}  // namespace

TEST_CASE("the ABI 1.4 members fill their entries, and the trampolines check their input", "[sdk][cpp]") {
    const pdk_backend_vtable vt = pdk::makeBackendVtable<BackupConn>();
    REQUIRE(vt.snapshot_list_info != nullptr);
    REQUIRE(vt.snapshot_create_spec != nullptr);
    REQUIRE(vt.backup_create != nullptr);
    REQUIRE(vt.checkpoint_delete != nullptr);
    REQUIRE(vt.restore_volume != nullptr);
    CHECK(vt.snapshot_create == nullptr);
    CHECK(vt.snapshot_list == nullptr);
    pdk_backend_connection* conn = nullptr;
    pdk_error err = freshError();
    REQUIRE(vt.open("b://", 0, &conn, &err) == PDK_OK);
    BackupConn& self = *reinterpret_cast<BackupConn*>(conn);

    SECTION("snapshot_list_info") {
        std::vector<std::string> names;
        CHECK(vt.snapshot_list_info(conn, "vm", 0, &collectSnapshot, &names, &err) == PDK_OK);
        CHECK(names == std::vector<std::string>{"s1"});
        CHECK(vt.snapshot_list_info(conn, nullptr, 0, &collectSnapshot, &names, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(vt.snapshot_list_info(conn, "vm", 0, nullptr, &names, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(vt.snapshot_list_info(conn, "vm", 0x4, &collectSnapshot, &names, &err) == PDK_ERR_BAD_FLAGS);
        CHECK(vt.snapshot_list_info(conn, "missing", 0, &collectSnapshot, &names, &err) == PDK_ERR_NOT_FOUND);
        CHECK(names.size() == 1);
    }
    SECTION("snapshot_create_spec: a full-size copy of the spec, or a refusal before the member runs") {
        pdk_snapshot_spec spec{};
        spec.struct_size = sizeof spec;
        spec.name = "s1";
        spec.description = "before upgrade";
        CHECK(vt.snapshot_create_spec(conn, "vm", &spec, PDK_SNAPSHOT_REPLACE, &err) == PDK_OK);
        CHECK(self.seenSpecSize == sizeof(pdk_snapshot_spec));
        spec.description = nullptr;
        CHECK(vt.snapshot_create_spec(conn, "vm", &spec, 0, &err) == PDK_OK);
        CHECK(self.created == std::vector<std::string>{"vm/s1:before upgrade", "vm/s1:-"});
        CHECK(vt.snapshot_create_spec(conn, nullptr, &spec, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(vt.snapshot_create_spec(conn, "vm", nullptr, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
        spec.struct_size = PDK_SNAPSHOT_SPEC_SIZE_1_4 - 8;  // smaller than its first version
        CHECK(vt.snapshot_create_spec(conn, "vm", &spec, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(std::string(err.message) == "pdk_snapshot_spec struct_size 16 is smaller than its 24 bytes in ABI 1.4");
        spec.struct_size = sizeof spec;
        CHECK(vt.snapshot_create_spec(conn, "vm", &spec, 0x4, &err) == PDK_ERR_BAD_FLAGS);
        CHECK(self.created.size() == 2);
    }
    SECTION("backup_create fills the host's result as far as its struct_size goes") {
        pdk_backup_spec spec{};
        spec.struct_size = sizeof spec;
        spec.target_path = "/backups/vm/0001.qcow2";
        spec.checkpoint = "c1";
        Guarded<sizeof(pdk_backup_result)> host;
        auto* out = static_cast<pdk_backup_result*>(host.at());
        std::memset(out, 0, sizeof *out);
        out->struct_size = sizeof *out;
        CHECK(vt.backup_create(conn, "vm", &spec, 0, out, &err) == PDK_OK);
        CHECK(self.seenSpecSize == sizeof(pdk_backup_spec));
        CHECK(self.seenOutputSize == sizeof(pdk_backup_result));
        CHECK(out->bytes == 196608);
        CHECK(out->offline == 1);
        CHECK(out->struct_size == sizeof(pdk_backup_result));
        CHECK(host.intactOutside(sizeof(pdk_backup_result)));

        // A result struct without `offline` (shorter than 1.4's) is refused, untouched.
        out->struct_size = PDK_FIELD_END(pdk_backup_result, bytes);
        out->bytes = 0;
        CHECK(vt.backup_create(conn, "vm", &spec, 0, out, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(out->bytes == 0);
        out->struct_size = sizeof *out;

        spec.incremental_from = "gone";
        CHECK(vt.backup_create(conn, "vm", &spec, 0, out, &err) == PDK_ERR_NOT_FOUND);
        CHECK(out->bytes == 0);  // a failing member leaves the output alone
        CHECK(std::string(err.message) == "no checkpoint 'gone'");
        CHECK(vt.backup_create(conn, nullptr, &spec, 0, out, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(vt.backup_create(conn, "vm", nullptr, 0, out, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(vt.backup_create(conn, "vm", &spec, 0, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
        spec.incremental_from = nullptr;
        CHECK(vt.backup_create(conn, "vm", &spec, 0x1, out, &err) == PDK_ERR_BAD_FLAGS);
    }
    SECTION("checkpoint_delete") {
        CHECK(vt.checkpoint_delete(conn, "vm", "c1", 0, &err) == PDK_OK);
        CHECK(vt.checkpoint_delete(conn, "vm", nullptr, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(std::string(err.message) == "checkpoint is NULL");
        CHECK(vt.checkpoint_delete(conn, nullptr, "c1", 0, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(vt.checkpoint_delete(conn, "vm", "c1", 0x2, &err) == PDK_ERR_BAD_FLAGS);
        CHECK(self.created == std::vector<std::string>{"-vm/c1"});
    }
    SECTION("restore_volume writes the new volume's path or says the buffer is too small") {
        pdk_restore_spec spec{};
        spec.struct_size = sizeof spec;
        spec.pool = "p";
        spec.name = "vm2.qcow2";
        spec.source_path = "/backups/vm/0002.qcow2";
        char path[64] = "keep";
        CHECK(vt.restore_volume(conn, &spec, 0, path, sizeof path, &err) == PDK_OK);
        CHECK(std::string(path) == "/pools/p/vm2.qcow2");
        CHECK(self.seenSpecSize == sizeof(pdk_restore_spec));
        char small[8] = "keep";
        CHECK(vt.restore_volume(conn, &spec, 0, small, sizeof small, &err) == PDK_ERR_BUFFER_TOO_SMALL);
        CHECK(std::string(small) == "keep");
        CHECK(vt.restore_volume(conn, &spec, 0, nullptr, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
        CHECK(vt.restore_volume(conn, nullptr, 0, path, sizeof path, &err) == PDK_ERR_INVALID_ARGUMENT);
        spec.struct_size = 4;
        CHECK(vt.restore_volume(conn, &spec, 0, path, sizeof path, &err) == PDK_ERR_INVALID_ARGUMENT);
        spec.struct_size = sizeof spec;
        CHECK(vt.restore_volume(conn, &spec, 0x8, path, sizeof path, &err) == PDK_ERR_BAD_FLAGS);
    }
    vt.close(conn);
}

namespace {

// The ABI 1.5 member; the domain name picks the answer.
struct AgentConn {
    static std::unique_ptr<AgentConn> open(const char*, uint32_t) { return std::make_unique<AgentConn>(); }
    void guestPing(const char* domain, uint32_t timeoutMs, uint32_t flags) {
        pdk::checkFlags(flags, 0);
        const std::string d(domain);
        if (d == "missing") throw pdk::Error(PDK_ERR_NOT_FOUND, "no domain 'missing'");
        if (d == "off") throw pdk::Error(PDK_ERR_CONFLICT, "domain 'off' is not running");
        if (d == "silent") throw pdk::Error(PDK_ERR_UNAVAILABLE, "the guest agent did not answer");
        if (d == "broken") throw std::runtime_error("agent channel broke");
        pinged.push_back(d + "@" + std::to_string(timeoutMs));
    }
    std::vector<std::string> pinged;
};

}  // namespace

TEST_CASE("the ABI 1.5 guest_ping member fills its entry, and the trampoline checks its input", "[sdk][cpp]") {
    const pdk_backend_vtable vt = pdk::makeBackendVtable<AgentConn>();
    REQUIRE(vt.guest_ping != nullptr);
    CHECK(vt.restore_volume == nullptr);
    CHECK(vt.start_domain == nullptr);
    pdk_backend_connection* conn = nullptr;
    pdk_error err = freshError();
    REQUIRE(vt.open("a://", 0, &conn, &err) == PDK_OK);
    AgentConn& self = *reinterpret_cast<AgentConn*>(conn);

    CHECK(vt.guest_ping(conn, "vm", 1500, 0, &err) == PDK_OK);
    CHECK(vt.guest_ping(conn, "vm", 0, 0, nullptr) == PDK_OK);
    CHECK(self.pinged == std::vector<std::string>{"vm@1500", "vm@0"});
    CHECK(std::string(err.message) == "untouched");

    CHECK(vt.guest_ping(conn, "missing", 1000, 0, &err) == PDK_ERR_NOT_FOUND);
    CHECK(std::string(err.message) == "no domain 'missing'");
    CHECK(vt.guest_ping(conn, "off", 1000, 0, &err) == PDK_ERR_CONFLICT);
    CHECK(vt.guest_ping(conn, "silent", 1000, 0, &err) == PDK_ERR_UNAVAILABLE);
    CHECK(err.status == PDK_ERR_UNAVAILABLE);
    CHECK(vt.guest_ping(conn, "broken", 1000, 0, &err) == PDK_ERR_INTERNAL);
    CHECK_THAT(std::string(err.message), Contains("agent channel broke"));
    CHECK(vt.guest_ping(conn, nullptr, 1000, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(std::string(err.message) == "domain is NULL");
    CHECK(vt.guest_ping(nullptr, "vm", 1000, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt.guest_ping(conn, "vm", 1000, 0x1, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(self.pinged.size() == 2);
    vt.close(conn);
}

namespace {

// The ABI 1.7 members; the path picks the answer.
struct HostFactsConn {
    static std::unique_ptr<HostFactsConn> open(const char*, uint32_t) { return std::make_unique<HostFactsConn>(); }
    void hostResources(uint32_t flags, pdk_host_resources& out) {
        pdk::checkFlags(flags, 0);
        out.cpus = 8;
        out.memory_total_bytes = 16ull << 30;
        out.memory_free_bytes = 5ull << 30;
    }
    void volumeInfo(const char* path, uint32_t flags, pdk_volume_info& out) {
        pdk::checkFlags(flags, 0);
        const std::string p(path);
        if (p == "/missing.qcow2") throw pdk::Error(PDK_ERR_NOT_FOUND, "no storage pool holds /missing.qcow2");
        out.in_pool = 1;
        out.capacity_bytes = 1ull << 30;
        std::snprintf(out.format, sizeof out.format, "%s", "qcow2");
        std::snprintf(out.pool, sizeof out.pool, "%s", "images");
    }
    // ABI 1.8.
    void suspendDomain(const char* name, uint32_t flags) {
        pdk::checkFlags(flags, 0);
        if (std::string(name) == "off") throw pdk::Error(PDK_ERR_CONFLICT, "domain 'off' is not running");
        suspended.push_back(name);
    }
    std::vector<std::string> suspended;
};

}  // namespace

TEST_CASE("the ABI 1.7 host_resources and volume_info members fill their entries and honour struct_size",
          "[sdk][cpp]") {
    const pdk_backend_vtable vt = pdk::makeBackendVtable<HostFactsConn>();
    REQUIRE(vt.host_resources != nullptr);
    REQUIRE(vt.volume_info != nullptr);
    CHECK(vt.guest_ping == nullptr);
    const pdk_backend_vtable minimal = pdk::makeBackendVtable<AgentConn>();
    CHECK(minimal.host_resources == nullptr);
    CHECK(minimal.volume_info == nullptr);
    pdk_backend_connection* conn = nullptr;
    pdk_error err = freshError();
    REQUIRE(vt.open("a://", 0, &conn, &err) == PDK_OK);

    pdk_host_resources resources{};
    resources.struct_size = sizeof resources;
    REQUIRE(vt.host_resources(conn, 0, &resources, &err) == PDK_OK);
    CHECK(resources.cpus == 8);
    CHECK(resources.memory_total_bytes == (16ull << 30));
    CHECK(resources.memory_free_bytes == (5ull << 30));
    CHECK(vt.host_resources(conn, 0x1, &resources, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(vt.host_resources(conn, 0, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
    pdk_host_resources tiny{};
    tiny.struct_size = 8;
    CHECK(vt.host_resources(conn, 0, &tiny, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK_THAT(std::string(err.message), Contains("pdk_host_resources") && Contains("1.7"));

    pdk_volume_info info{};
    info.struct_size = sizeof info;
    REQUIRE(vt.volume_info(conn, "/images/base.qcow2", 0, &info, &err) == PDK_OK);
    CHECK(info.in_pool == 1);
    CHECK(info.capacity_bytes == (1ull << 30));
    CHECK(std::string(info.format) == "qcow2");
    CHECK(std::string(info.pool) == "images");
    CHECK(vt.volume_info(conn, "/missing.qcow2", 0, &info, &err) == PDK_ERR_NOT_FOUND);
    CHECK(std::string(err.message) == "no storage pool holds /missing.qcow2");
    CHECK(vt.volume_info(conn, nullptr, 0, &info, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(std::string(err.message) == "path is NULL");
    CHECK(vt.volume_info(conn, "/images/base.qcow2", 0, nullptr, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(vt.volume_info(conn, "/images/base.qcow2", 0x2, &info, &err) == PDK_ERR_BAD_FLAGS);
    vt.close(conn);
}

TEST_CASE("the ABI 1.8 suspend_domain member fills its entry and refuses NULL names and unknown flags",
          "[sdk][cpp]") {
    const pdk_backend_vtable vt = pdk::makeBackendVtable<HostFactsConn>();
    REQUIRE(vt.suspend_domain != nullptr);
    CHECK(pdk::makeBackendVtable<AgentConn>().suspend_domain == nullptr);
    pdk_backend_connection* conn = nullptr;
    pdk_error err = freshError();
    REQUIRE(vt.open("a://", 0, &conn, &err) == PDK_OK);
    CHECK(vt.suspend_domain(conn, "web", 0, &err) == PDK_OK);
    CHECK(vt.suspend_domain(conn, "off", 0, &err) == PDK_ERR_CONFLICT);
    CHECK(std::string(err.message) == "domain 'off' is not running");
    CHECK(vt.suspend_domain(conn, nullptr, 0, &err) == PDK_ERR_INVALID_ARGUMENT);
    CHECK(std::string(err.message) == "name is NULL");
    CHECK(vt.suspend_domain(conn, "web", 0x4, &err) == PDK_ERR_BAD_FLAGS);
    CHECK(reinterpret_cast<HostFactsConn*>(conn)->suspended == std::vector<std::string>{"web"});
    vt.close(conn);
}
