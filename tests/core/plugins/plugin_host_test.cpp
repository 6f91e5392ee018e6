#include "paddock/core/plugin_host.hpp"
#include "paddock/core/backend.hpp"
#include "paddock/core/recorder.hpp"

#include "result_checks.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <boost/filesystem.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using Catch::Matchers::Contains;
using paddock::ErrorCode;
using paddock::PluginHost;

namespace {

std::string fixture(const std::string& name) { return paddock::test::fixturePluginDir() + "/" + name + ".so"; }

// Loads one fixture that must be refused; returns the message after checking it names the file.
paddock::Error refused(const std::string& name) {
    PluginHost host;
    const std::string path = fixture(name);
    auto r = host.loadFile(path);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(failure(r).message, Contains(path));
    REQUIRE(host.failures().size() == 1);
    CHECK(host.failures()[0].path == path);
    CHECK(host.failures()[0].message == failure(r).message);
    CHECK(host.plugins().empty());
    return r.error();
}

// True while `path` is mapped in this process (RTLD_NOLOAD never loads it).
bool isLoaded(const std::string& path) {
    void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
    if (h == nullptr) return false;
    ::dlclose(h);
    return true;
}

void collect(void* user, const pdk_domain_info* info) {
    static_cast<std::vector<std::string>*>(user)->emplace_back(info->name);
}

}  // namespace

TEST_CASE("plugin host loads a good backend and reports its descriptor", "[plugin_host]") {
    PluginHost host;
    auto r = host.loadFile(fixture("good_backend"));
    REQUIRE(r.ok());
    const paddock::PluginInfo& info = r.value();
    CHECK(info.id == "org.paddock.test.good");
    CHECK(info.name == "Good test backend");
    CHECK(info.version == "1.2.3");
    CHECK(info.description == "A fixture backend with two fake domains.");
    CHECK(info.path == fixture("good_backend"));
    CHECK(info.kind == PDK_PLUGIN_KIND_BACKEND);
    CHECK(info.abi_major == PDK_ABI_VERSION_MAJOR);
    CHECK(info.abi_minor == PDK_ABI_VERSION_MINOR);
    CHECK(info.capabilities == std::vector<std::string>{"fixture.list", "fixture.fake"});

    // Exactly the non-NULL entries: open, close (whether listed or not) and list_domains.
    std::set<std::string> ops(info.operations.begin(), info.operations.end());
    ops.erase("open");
    ops.erase("close");
    CHECK(ops == std::set<std::string>{"list_domains"});

    REQUIRE(host.plugins().size() == 1);
    CHECK(host.plugins()[0]->info().id == info.id);
    CHECK(host.plugins()[0]->descriptor().kind == PDK_PLUGIN_KIND_BACKEND);
    CHECK(host.plugins()[0]->library() != nullptr);
    CHECK(host.failures().empty());
}

TEST_CASE("plugin kind names", "[plugin_host]") {
    CHECK(paddock::pluginKindName(PDK_PLUGIN_KIND_BACKEND) == "backend");
    CHECK(paddock::pluginKindName(PDK_PLUGIN_KIND_PROVISIONER) == "provisioner");
    CHECK(paddock::pluginKindName(PDK_PLUGIN_KIND_RECORDER) == "recorder");
}

TEST_CASE("a backend keeps its library loaded after the host is gone", "[plugin_host]") {
    // A private copy, so no other test's handle on the fixture can keep it mapped.
    paddock::test::TempDir dir;
    const std::string path = dir.file("lifetime_backend.so");
    boost::filesystem::copy_file(fixture("good_backend"), path);
    REQUIRE_FALSE(isLoaded(path));

    std::shared_ptr<paddock::BackendPlugin> backend;
    {
        PluginHost host;
        REQUIRE(host.loadFile(path).ok());
        CHECK(isLoaded(path));
        auto b = host.backend("org.paddock.test.good");
        REQUIRE(b.ok());
        backend = b.value();
    }
    REQUIRE(isLoaded(path));
    CHECK(backend->info().id == "org.paddock.test.good");

    // The plugin's code is still callable through the copied vtable.
    const pdk_backend_vtable& vt = backend->vtable();
    REQUIRE(vt.open != nullptr);
    REQUIRE(vt.list_domains != nullptr);
    pdk_backend_connection* conn = nullptr;
    pdk_error err{};
    err.struct_size = sizeof err;
    REQUIRE(vt.open("fixture:///", 0, &conn, &err) == PDK_OK);
    std::vector<std::string> names;
    CHECK(vt.list_domains(conn, 0, &collect, &names, &err) == PDK_OK);
    vt.close(conn);
    CHECK(names == std::vector<std::string>{"fixture-a", "fixture-b"});
    CHECK(vt.get_domain == nullptr);

    backend.reset();
    CHECK_FALSE(isLoaded(path));
}

TEST_CASE("plugin host refuses a file that is not a shared library", "[plugin_host]") {
    paddock::test::TempDir dir;
    const std::string path = dir.file("not_a_library.so");
    paddock::test::writeFile(path, "this is text, not ELF\n");
    PluginHost host;
    auto r = host.loadFile(path);
    REQUIRE_FALSE(r.ok());
    CHECK(failure(r).code == ErrorCode::InvalidArgument);
    CHECK_THAT(failure(r).message, Contains("cannot load plugin " + path));
    // dlopen's own words, e.g. "invalid ELF header" or "file too short".
    CHECK_THAT(failure(r).message, Contains("ELF") || Contains("too short"));
}

TEST_CASE("plugin host refuses a file that does not exist", "[plugin_host]") {
    PluginHost host;
    auto r = host.loadFile("/nonexistent/paddock/plugin.so");
    REQUIRE_FALSE(r.ok());
    CHECK(failure(r).code == ErrorCode::NotFound);
    CHECK_THAT(failure(r).message, Contains("/nonexistent/paddock/plugin.so") && Contains("no such file"));
}

TEST_CASE("plugin host binds symbols now: an unresolved symbol fails at load", "[plugin_host]") {
    auto e = refused("unresolved_symbol");
    CHECK(e.code == ErrorCode::InvalidArgument);
    CHECK_THAT(e.message, Contains("pdk_fixture_function_that_does_not_exist"));
}

TEST_CASE("plugin host refuses a library without pdk_plugin_entry", "[plugin_host]") {
    auto e = refused("missing_entry");
    CHECK_THAT(e.message, Contains("does not export pdk_plugin_entry"));
}

TEST_CASE("plugin host refuses an entry that returns NULL", "[plugin_host]") {
    auto e = refused("null_descriptor");
    CHECK_THAT(e.message, Contains("pdk_plugin_entry returned NULL"));
}

TEST_CASE("plugin host refuses another ABI major version, naming both", "[plugin_host]") {
    auto e = refused("abi_major_mismatch");
    CHECK(e.code == ErrorCode::InvalidArgument);
    CHECK_THAT(e.message, Contains("plugin " + fixture("abi_major_mismatch") +
                                   " was built for Paddock plugin ABI 2.3; this paddockd speaks 1." +
                                   std::to_string(PDK_ABI_VERSION_MINOR)));
}

TEST_CASE("plugin host refuses a descriptor smaller than ABI 1.0's", "[plugin_host]") {
    auto e = refused("short_descriptor");
    CHECK_THAT(e.message, Contains("descriptor struct_size " + std::to_string(offsetof(pdk_plugin_descriptor, id))));
    CHECK_THAT(e.message, Contains("ABI 1.0"));
}

TEST_CASE("plugin host refuses an unknown plugin kind", "[plugin_host]") {
    auto e = refused("unknown_kind");
    CHECK_THAT(e.message, Contains("unknown plugin kind 42"));
}

TEST_CASE("plugin host refuses a backend with a NULL vtable", "[plugin_host]") {
    auto e = refused("backend_null_vtable");
    CHECK_THAT(e.message, Contains("org.paddock.test.null-vtable") && Contains("NULL vtable"));
}

TEST_CASE("plugin host refuses a backend without open", "[plugin_host]") {
    auto e = refused("backend_missing_open");
    CHECK_THAT(e.message, Contains("org.paddock.test.missing-open") && Contains("lacks the mandatory open"));
}

TEST_CASE("plugin host refuses a backend vtable too small for open and close", "[plugin_host]") {
    auto e = refused("backend_short_vtable");
    CHECK_THAT(e.message, Contains("vtable struct_size " + std::to_string(offsetof(pdk_backend_vtable, close))) &&
                              Contains("mandatory open and close"));
}

TEST_CASE("plugin host refuses a second plugin with the same id", "[plugin_host]") {
    PluginHost host;
    REQUIRE(host.loadFile(fixture("good_backend")).ok());
    auto r = host.loadFile(fixture("good_backend_copy"));
    REQUIRE_FALSE(r.ok());
    CHECK(failure(r).code == ErrorCode::AlreadyExists);
    CHECK_THAT(failure(r).message, Contains(fixture("good_backend_copy")) && Contains("'org.paddock.test.good'") &&
                                       Contains("already loaded from " + fixture("good_backend")));
    CHECK(host.plugins().size() == 1);
    REQUIRE(host.failures().size() == 1);
}

TEST_CASE("backend() distinguishes unknown ids and other kinds", "[plugin_host]") {
    PluginHost host;
    REQUIRE(host.loadFile(fixture("recorder_kind")).ok());
    REQUIRE_FALSE(host.loadFile(fixture("null_descriptor")).ok());

    auto other = host.backend("org.paddock.test.recorder");
    REQUIRE_FALSE(other.ok());
    CHECK(failure(other).code == ErrorCode::InvalidArgument);
    CHECK_THAT(failure(other).message, Contains("is a recorder plugin, not a backend"));

    auto missing = host.backend("org.example.nope");
    REQUIRE_FALSE(missing.ok());
    CHECK(failure(missing).code == ErrorCode::NotFound);
    CHECK_THAT(failure(missing).message, Contains("'org.example.nope'") && Contains("org.paddock.test.recorder"));
    // The load failures are listed: the operator sees why the backend they wanted is absent.
    CHECK_THAT(failure(missing).message, Contains(fixture("null_descriptor")) && Contains("returned NULL"));
}

TEST_CASE("loadDirectory loads every .so in name order and collects failures", "[plugin_host]") {
    paddock::test::TempDir dir;
    namespace fs = boost::filesystem;
    for (const char* name :
         {"good_backend", "good_backend_copy", "recorder_kind", "missing_entry", "abi_major_mismatch"}) {
        fs::copy_file(fixture(name), dir.file(std::string(name) + ".so"));
    }
    paddock::test::writeFile(dir.file("not_a_library.so"), "text");
    paddock::test::writeFile(dir.file("README.txt"), "ignored: not a .so");
    fs::create_directory(dir.file("subdir.so"));  // not a regular file: ignored
    fs::copy_file(fixture("good_backend"), dir.file("good_backend.so.bak"));

    PluginHost host;
    REQUIRE(host.loadDirectory(dir.path()).ok());

    std::vector<std::string> ids;
    for (const auto& p : host.plugins()) ids.push_back(p->info().id);
    CHECK(ids == std::vector<std::string>{"org.paddock.test.good", "org.paddock.test.recorder"});
    CHECK(host.plugins()[0]->info().path == dir.file("good_backend.so"));

    std::vector<std::string> failed;
    for (const auto& f : host.failures()) failed.push_back(f.path);
    CHECK(failed == std::vector<std::string>{dir.file("abi_major_mismatch.so"), dir.file("good_backend_copy.so"),
                                             dir.file("missing_entry.so"), dir.file("not_a_library.so")});

    auto b = host.backend("org.paddock.test.good");
    REQUIRE(b.ok());
    CHECK(b.value()->info().path == dir.file("good_backend.so"));
}

TEST_CASE("loadDirectory on a missing directory is an error", "[plugin_host]") {
    PluginHost host;
    auto s = host.loadDirectory("/nonexistent/paddock/plugins");
    REQUIRE_FALSE(s.ok());
    CHECK(failure(s).code == ErrorCode::NotFound);
    CHECK_THAT(failure(s).message, Contains("/nonexistent/paddock/plugins"));
}

TEST_CASE("the fixture directory as a whole loads exactly the valid plugins", "[plugin_host]") {
    PluginHost host;
    REQUIRE(host.loadDirectory(paddock::test::fixturePluginDir()).ok());
    std::set<std::string> ids;
    for (const auto& p : host.plugins()) ids.insert(p->info().id);
    CHECK(ids.count("org.paddock.test.good") == 1);
    CHECK(ids.count("org.paddock.test.recorder") == 1);
    CHECK(ids.count("org.paddock.test.short-info") == 1);
    CHECK(ids.count("org.paddock.test.pair-a") == 1);
    CHECK(ids.count("org.paddock.test.pair-b") == 1);
    CHECK(ids.count("org.paddock.test.legacy") == 1);
    CHECK(ids.count("org.paddock.test.lister") == 1);
    CHECK(ids.count("org.paddock.test.agent") == 1);
    CHECK(ids.count("org.paddock.test.agent-v1-4") == 1);
    CHECK(ids.count("org.paddock.test.polled") == 1);
    CHECK(ids.count("org.paddock.test.metadataless") == 1);
    CHECK(ids.size() == 11);
    CHECK(host.failures().size() >= 16);
}

TEST_CASE("plugin host loads a recorder and lists its vtable entries", "[plugin_host][recorder]") {
    PluginHost host;
    auto r = host.loadFile(fixture("recorder_kind"));
    REQUIRE(r.ok());
    CHECK(r->kind == PDK_PLUGIN_KIND_RECORDER);
    // flush is NULL in the fixture: optional, so not listed and not refused.
    CHECK(r->operations == std::vector<std::string>{"open_session", "close_session", "write_event"});

    auto rec = host.recorder("org.paddock.test.recorder");
    REQUIRE(rec.ok());
    pdk_recording_info info{};
    info.struct_size = sizeof info;
    auto session = rec.value()->open(info);
    REQUIRE(session.ok());
    CHECK(session.value()->write(0.5, 'o', "hi").ok());
    CHECK(session.value()->flush().ok());  // NULL flush: nothing to do
    session.value()->close();
    CHECK(failure(session.value()->write(0.6, 'o', "x")).code == ErrorCode::Conflict);

    auto bad = rec.value()->open(info, 1u << 7);
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(failure(bad).message, Contains("org.paddock.test.recorder"));
}

TEST_CASE("plugin host refuses a recorder with a NULL vtable", "[plugin_host][recorder]") {
    auto e = refused("recorder_null_vtable");
    CHECK(e.code == ErrorCode::InvalidArgument);
    CHECK_THAT(e.message, Contains("recorder 'org.paddock.test.recorder-null-vtable' has a NULL vtable"));
}

TEST_CASE("plugin host refuses a recorder without write_event", "[plugin_host][recorder]") {
    auto e = refused("recorder_missing_write");
    CHECK_THAT(e.message,
               Contains("org.paddock.test.recorder-missing-write") && Contains("lacks the mandatory write_event"));
}

TEST_CASE("plugin host refuses a recorder vtable too small for its mandatory entries", "[plugin_host][recorder]") {
    auto e = refused("recorder_short_vtable");
    CHECK_THAT(e.message,
               Contains("vtable struct_size " + std::to_string(offsetof(pdk_recorder_vtable, write_event))) &&
                   Contains("open_session, close_session and write_event"));
}

TEST_CASE("recorder() distinguishes unknown ids and other kinds", "[plugin_host][recorder]") {
    PluginHost host;
    REQUIRE(host.loadFile(fixture("good_backend")).ok());
    auto other = host.recorder("org.paddock.test.good");
    REQUIRE_FALSE(other.ok());
    CHECK(failure(other).code == ErrorCode::InvalidArgument);
    CHECK_THAT(failure(other).message, Contains("is a backend plugin, not a recorder"));
    auto missing = host.recorder("org.paddock.asciinema");
    REQUIRE_FALSE(missing.ok());
    CHECK(failure(missing).code == ErrorCode::NotFound);
    CHECK_THAT(failure(missing).message,
               Contains("no recorder plugin with id 'org.paddock.asciinema'") && Contains("org.paddock.test.good"));
}

namespace {

// Log lines a host's sink received, safe to fill from any thread.
struct CapturedLog {
    std::mutex mutex;
    std::vector<std::string> lines;  // "<level>|<plugin id>|<message>"
    paddock::PluginLogSink sink() {
        return [this](pdk_log_level level, const std::string& id, const std::string& message) {
            std::lock_guard lock(mutex);
            lines.push_back(std::string(paddock::logLevelName(level)) + "|" + id + "|" + message);
        };
    }
    std::vector<std::string> snapshot() {
        std::lock_guard lock(mutex);
        return lines;
    }
    size_t count(const std::string& needle) {
        std::lock_guard lock(mutex);
        return static_cast<size_t>(std::count_if(
            lines.begin(), lines.end(), [&](const std::string& l) { return l.find(needle) != std::string::npos; }));
    }
};

// A private copy of a fixture, so no other test's handle keeps it mapped.
std::string privateCopy(paddock::test::TempDir& dir, const std::string& name) {
    const std::string path = dir.file(name + "_copy.so");
    boost::filesystem::copy_file(fixture(name), path);
    return path;
}

std::vector<std::string> domainNames(paddock::BackendConnection& conn) {
    auto listed = conn.listDomains();
    REQUIRE(listed.ok());
    std::vector<std::string> names;
    for (const auto& d : listed.value()) names.push_back(d.name);
    return names;
}

}  // namespace

TEST_CASE("a library with two backends registers both; they share one library and one init", "[plugin_host][chain]") {
    paddock::test::TempDir dir;
    const std::string path = privateCopy(dir, "two_backends");
    auto log = std::make_shared<CapturedLog>();
    std::shared_ptr<paddock::BackendConnection> connB;
    {
        PluginHost host;
        host.setLogSink(log->sink());
        auto r = host.loadFile(path);
        REQUIRE(r.ok());
        CHECK(r->id == "org.paddock.test.pair-a");  // the entry plugin
        REQUIRE(host.plugins().size() == 2);
        CHECK(host.plugins()[0]->info().id == "org.paddock.test.pair-a");
        CHECK(host.plugins()[1]->info().id == "org.paddock.test.pair-b");
        CHECK(host.plugins()[1]->info().path == path);
        CHECK(host.plugins()[0]->library() == host.plugins()[1]->library());
        CHECK(host.failures().empty());

        // init ran once, with our host struct; the chained descriptor's own init was ignored.
        CHECK(log->count("info|org.paddock.test.pair-a|init: host ABI " + std::to_string(PDK_ABI_VERSION_MAJOR) + "." +
                         std::to_string(PDK_ABI_VERSION_MINOR) + ", pdk_host of " + std::to_string(sizeof(pdk_host)) +
                         " bytes") == 1);
        CHECK(log->count("error|org.paddock.test.pair-a|odd level") == 1);  // level 42, clamped
        CHECK(log->count("debug|org.paddock.test.pair-a|") == 1);           // a NULL message
        CHECK(log->count("WRONG") == 0);

        auto a = host.backend("org.paddock.test.pair-a");
        auto b = host.backend("org.paddock.test.pair-b");
        REQUIRE((a.ok() && b.ok()));
        auto connA = a.value()->connect("vm-of-a");
        REQUIRE(connA.ok());
        CHECK(domainNames(*connA.value()) == std::vector<std::string>{"vm-of-a"});
        auto hostInfo = connA.value()->hostInfo();
        REQUIRE(hostInfo.ok());
        CHECK(hostInfo->hypervisor_version == 7002001);  // a 1.1 field, read
        CHECK(hostInfo->library_version == 1002003);
        auto c = b.value()->connect("vm-of-b");
        REQUIRE(c.ok());
        connB = c.value();
    }
    // Host and plugin A are gone; B's connection still holds the library: no deinit yet.
    CHECK(isLoaded(path));
    CHECK(log->count("deinit") == 0);
    CHECK(domainNames(*connB) == std::vector<std::string>{"vm-of-b"});

    connB.reset();  // the last object: deinit once, then unload
    CHECK(log->count("info|org.paddock.test.pair-a|deinit") == 1);
    CHECK(log->count("deinit") == 1);
    CHECK(log->count("WRONG") == 0);
    CHECK_FALSE(isLoaded(path));
}

TEST_CASE("each host that loads a library gets its own init, deinit and log lines", "[plugin_host][chain]") {
    paddock::test::TempDir dir;
    const std::string path = privateCopy(dir, "two_backends");
    auto first = std::make_shared<CapturedLog>();
    auto second = std::make_shared<CapturedLog>();
    {
        PluginHost one;
        one.setLogSink(first->sink());
        REQUIRE(one.loadFile(path).ok());
        {
            PluginHost two;  // same file, same mapping
            two.setLogSink(second->sink());
            REQUIRE(two.loadFile(path).ok());
            CHECK(first->count("|init:") == 1);
            CHECK(second->count("|init:") == 1);
        }
        CHECK(second->count("deinit") == 1);
        CHECK(first->count("deinit") == 0);
        CHECK(isLoaded(path));
    }
    CHECK(first->count("deinit") == 1);
    CHECK_FALSE(isLoaded(path));
}

TEST_CASE("setLogSink reaches libraries loaded before; an empty sink means stderr", "[plugin_host]") {
    paddock::test::TempDir dir;
    const std::string path = privateCopy(dir, "two_backends");
    auto log = std::make_shared<CapturedLog>();
    std::ostringstream captured;
    auto* old = std::cerr.rdbuf(captured.rdbuf());
    {
        PluginHost host;  // default sink while loading: stderr
        REQUIRE(host.loadFile(path).ok());
        host.setLogSink(log->sink());
    }  // deinit logs through the sink set after loading
    std::cerr.rdbuf(old);
    CHECK_THAT(captured.str(), Contains("paddock: plugin org.paddock.test.pair-a: info: init: host ABI"));
    CHECK_THAT(captured.str(), Contains("paddock: plugin org.paddock.test.pair-a: error: odd level"));
    CHECK(captured.str().find(": debug:") == std::string::npos);  // the default leaves debug out
    CHECK(captured.str().find("deinit") == std::string::npos);
    CHECK(log->snapshot() == std::vector<std::string>{"info|org.paddock.test.pair-a|deinit"});
}

TEST_CASE("plugin host refuses a library whose init fails, with its message, and never deinits it",
          "[plugin_host][chain]") {
    paddock::test::TempDir dir;
    const std::string path = privateCopy(dir, "init_fails");
    auto log = std::make_shared<CapturedLog>();
    {
        PluginHost host;
        host.setLogSink(log->sink());
        auto r = host.loadFile(path);
        REQUIRE_FALSE(r.ok());
        CHECK(failure(r).code == ErrorCode::InvalidArgument);
        CHECK(failure(r).message ==
              "cannot load plugin " + path + ": its init failed: the fixture's hypervisor driver is missing");
        CHECK(host.plugins().empty());
        REQUIRE(host.failures().size() == 1);
        CHECK(host.failures()[0].message == failure(r).message);
        CHECK_FALSE(host.backend("org.paddock.test.init-fails").ok());
    }
    CHECK(log->count("init called") == 1);
    CHECK(log->count("deinit called") == 0);
    CHECK_FALSE(isLoaded(path));
}

TEST_CASE("plugin host refuses a descriptor chain with a cycle", "[plugin_host][chain]") {
    auto e = refused("chain_cycle");
    CHECK_THAT(e.message, Contains("descriptor chain has a cycle") && Contains("descriptor 3"));
}

TEST_CASE("plugin host refuses a descriptor chain longer than PDK_MAX_PLUGINS_PER_LIBRARY", "[plugin_host][chain]") {
    auto e = refused("chain_too_long");
    CHECK_THAT(e.message, Contains("descriptor chain is longer than 64 plugins"));
}

TEST_CASE("plugin host refuses an id twice in one chain", "[plugin_host][chain]") {
    auto e = refused("chain_duplicate_id");
    CHECK_THAT(e.message, Contains("'org.paddock.test.dup-in-chain' appears twice in its descriptor chain"));
}

TEST_CASE("plugin host refuses the whole library when one chained descriptor is invalid", "[plugin_host][chain]") {
    auto e = refused("chain_bad_member");  // also checks that nothing of it was registered
    CHECK_THAT(e.message,
               Contains("descriptor 2 of the chain: backend 'org.paddock.test.bad-member-b' has a NULL vtable"));
}

TEST_CASE("plugin host refuses a descriptor claiming ABI 1.1 with a 1.0 struct_size", "[plugin_host][chain]") {
    auto e = refused("descriptor_v1_1_short");
    CHECK_THAT(e.message, Contains("descriptor claims ABI 1.1 but its struct_size " +
                                   std::to_string(PDK_PLUGIN_DESCRIPTOR_SIZE_1_0)) &&
                              Contains("init, deinit, next"));
}

TEST_CASE("a 1.0 plugin loads, and nothing past its struct_size is read", "[plugin_host][chain]") {
    auto log = std::make_shared<CapturedLog>();
    PluginHost host;
    host.setLogSink(log->sink());
    auto r = host.loadFile(fixture("legacy_v1_0_backend"));
    REQUIRE(r.ok());
    CHECK(r->abi_minor == 0);
    REQUIRE(host.plugins().size() == 1);  // its `next` was never followed
    CHECK(host.plugins()[0]->info().id == "org.paddock.test.legacy");
    CHECK(log->snapshot().empty());  // its `init` was never called
    auto b = host.backend("org.paddock.test.legacy");
    REQUIRE(b.ok());
    auto conn = b.value()->connect("legacy-vm");
    REQUIRE(conn.ok());
    CHECK(domainNames(*conn.value()) == std::vector<std::string>{"legacy-vm"});
    // It wrote back a 1.0 struct_size: the 1.1 field behind it does not count.
    auto info = conn.value()->hostInfo();
    REQUIRE(info.ok());
    CHECK(info->hypervisor == "Legacy");
    CHECK(info->library_version == 1000000);
    CHECK(info->hypervisor_version == 0);
}

TEST_CASE("an id already loaded by another library refuses every plugin of the chain", "[plugin_host][chain]") {
    paddock::test::TempDir dir;
    auto log = std::make_shared<CapturedLog>();
    PluginHost host;
    host.setLogSink(log->sink());
    REQUIRE(host.loadFile(fixture("two_backends")).ok());
    auto again = host.loadFile(privateCopy(dir, "two_backends"));
    REQUIRE_FALSE(again.ok());
    CHECK(failure(again).code == ErrorCode::AlreadyExists);
    CHECK(host.plugins().size() == 2);
}

namespace {

int libvirtEventLoopThreads() {
    int n = 0;
    for (const auto& task : boost::filesystem::directory_iterator("/proc/self/task")) {
        if (paddock::test::readFile((task.path() / "comm").string()) == "pdk-lvq-events\n") ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("the libvirt backend is unloaded for real once its deinit has stopped its event loop",
          "[plugin_host][libvirt]") {
    paddock::test::TempDir dir;
    const std::string path = dir.file("libvirt_qemu_copy.so");
    boost::filesystem::copy_file(paddock::test::pluginDir() + "/paddock_libvirt_qemu.so", path);
    const int before = libvirtEventLoopThreads();
    auto log = std::make_shared<CapturedLog>();
    {
        PluginHost host;
        host.setLogSink(log->sink());
        REQUIRE(host.loadFile(path).ok());
        auto backend = host.backend("org.paddock.libvirt-qemu");
        REQUIRE(backend.ok());
        auto conn = backend.value()->connect("test:///default");
        REQUIRE(conn.ok());
        REQUIRE(conn.value()->subscribeEvents([](const std::string&, pdk_lifecycle_event) {}).ok());
        auto info = conn.value()->hostInfo();
        REQUIRE(info.ok());
        CHECK(info->hypervisor == "TEST");
        CHECK(info->hypervisor_version == 2);  // libvirt's test driver; an ABI 1.1 field
        CHECK(libvirtEventLoopThreads() == before + 1);
    }
    CHECK(log->count("debug|org.paddock.libvirt-qemu|libvirt event loop started") == 1);
    CHECK(log->count("debug|org.paddock.libvirt-qemu|libvirt event loop stopped") == 1);
    CHECK(libvirtEventLoopThreads() == before);
    CHECK_FALSE(isLoaded(path));  // no -z nodelete, and nothing pinned it
}
