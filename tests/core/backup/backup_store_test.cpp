// BackupStore on real files: private directories and files, the index round trip, hostile or
// damaged index files (never replaced, never followed outside the directory), the sweep of
// unindexed files, checksums, and chainUpTo over broken chains.
#include "paddock/core/backup_store.hpp"

#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

using namespace paddock;
using Catch::Contains;

namespace {

mode_t modeOf(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

void write(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
}

BackupRecord record(const std::string& id, const std::string& kind, const std::string& parent,
                    const std::string& chain) {
    BackupRecord r;
    r.id = id;
    r.vm = "vm-1";
    r.vm_uuid = "0f1e2d3c-0000-4000-8000-000000000001";
    r.site = "local";
    r.owner = "alice";
    r.template_name = "debian";
    r.vcpus = 1;
    r.memory_mb = 512;
    r.kind = kind;
    r.parent = parent;
    r.chain = chain;
    r.checkpoint = "paddock-" + id;
    r.file = id + ".qcow2";
    r.size_bytes = 42;
    r.sha256 = std::string(64, 'a');
    r.created_at = std::chrono::system_clock::now();
    r.duration_s = 0.5;
    return r;
}

}  // namespace

TEST_CASE("backup store: private directories, index round trip, erase, sweep", "[backup]") {
    test::TempDir dir;
    BackupStore store({dir.file("backups"), dir.file("other")});
    CHECK(store.list("vm-1").value().empty());

    auto vmDir = store.directoryFor("vm-1", "");
    REQUIRE(vmDir.ok());
    CHECK(vmDir.value() == dir.file("backups/vm-1"));
    CHECK(modeOf(vmDir.value()) == 0700);
    // A VM's directory stays where it is, whatever root a later template names.
    CHECK(store.directoryFor("vm-1", dir.file("other")).value() == vmDir.value());

    write(vmDir.value() + "/bk-1.qcow2", "full");
    write(vmDir.value() + "/bk-2.qcow2", "incremental");
    REQUIRE(store.append(record("bk-1", kBackupFull, "", "bk-1")).ok());
    auto second = record("bk-2", kBackupIncremental, "bk-1", "bk-1");
    second.offline = true;
    second.reason = "why \"quoted\"\n";
    REQUIRE(store.append(second).ok());
    CHECK(modeOf(vmDir.value() + "/index.json") == 0600);

    auto listed = store.list("vm-1");
    REQUIRE(listed.ok());
    REQUIRE(listed->size() == 2);
    CHECK(listed->at(1).id == "bk-2");
    CHECK(listed->at(1).parent == "bk-1");
    CHECK(listed->at(1).offline);
    CHECK(listed->at(1).reason == "why \"quoted\"\n");
    CHECK(listed->at(1).memory_mb == 512);
    CHECK(store.pathOf(listed->at(1)).value() == vmDir.value() + "/bk-2.qcow2");

    // A file no record names (a crash mid-backup) is swept; indexed ones stay.
    write(vmDir.value() + "/bk-3.qcow2", "left over");
    store.sweep("vm-1");
    CHECK_FALSE(std::filesystem::exists(vmDir.value() + "/bk-3.qcow2"));
    CHECK(std::filesystem::exists(vmDir.value() + "/bk-2.qcow2"));

    REQUIRE(store.erase("vm-1", {"bk-2"}).ok());
    CHECK_FALSE(std::filesystem::exists(vmDir.value() + "/bk-2.qcow2"));
    CHECK(store.list("vm-1")->size() == 1);
    CHECK(store.erase("no-such-vm", {"x"}).error().code == ErrorCode::NotFound);
}

TEST_CASE("backup store: a damaged or hostile index is reported and left alone", "[backup]") {
    test::TempDir dir;
    BackupStore store({dir.file("backups")});
    const std::string vmDir = store.directoryFor("vm-1", "").value();
    const std::string index = vmDir + "/index.json";
    write(vmDir + "/keep.qcow2", "data");

    const auto good = [&] {
        BackupStore other({dir.file("scratch")});
        const std::string d = other.directoryFor("vm-1", "").value();
        REQUIRE(other.append(record("bk-1", kBackupFull, "", "bk-1")).ok());
        return test::readFile(d + "/index.json");
    }();
    const auto replaced = [&](const std::string& from, const std::string& to) {
        std::string text = good;
        const auto at = text.find(from);
        REQUIRE(at != std::string::npos);
        return text.replace(at, from.size(), to);
    };
    for (const std::string& hostile :
         {std::string("not json"), std::string("{}"), std::string(R"({"version":2,"backups":[]})"),
          std::string(R"({"version":1,"backups":{}})"), std::string(R"({"version":1,"backups":[1]})"),
          replaced("\"bk-1.qcow2\"", "\"../../etc/passwd\""), replaced("\"bk-1.qcow2\"", "\".hidden\""),
          replaced("\"full\"", "\"partial\""), replaced("\"size_bytes\":42", "\"size_bytes\":-1"),
          replaced("\"offline\":false", "\"offline\":\"no\""), replaced("\"vcpus\":1", "\"vcpus\":1.5"),
          // Not UTF-8: written back, the name would be repaired into another one (found by fuzzing).
          replaced("bk-1.qcow2", "bk-\x90\x90.qcow2"),
          std::string(100000, '[')}) {
        INFO(hostile.substr(0, 120));
        write(index, hostile);
        auto listed = store.list("vm-1");
        REQUIRE_FALSE(listed.ok());
        CHECK(listed.error().code == ErrorCode::Unavailable);
        CHECK_THAT(listed.error().message, Contains("index.json"));
        // Nothing is written over it, and the sweep touches nothing it cannot account for.
        CHECK_FALSE(store.append(record("bk-9", kBackupFull, "", "bk-9")).ok());
        store.sweep("vm-1");
        CHECK(test::readFile(index) == hostile);
        CHECK(std::filesystem::exists(vmDir + "/keep.qcow2"));
    }
}

TEST_CASE("backup store: checksums and chains", "[backup]") {
    test::TempDir dir;
    const std::string file = dir.file("data.bin");
    write(file, "abc");
    CHECK(BackupStore::sha256File(file).value() ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(BackupStore::sha256File(dir.file("missing")).error().code == ErrorCode::Unavailable);

    const std::vector<BackupRecord> records = {
        record("a", kBackupFull, "", "a"),        record("b", kBackupIncremental, "a", "a"),
        record("c", kBackupIncremental, "b", "a"), record("d", kBackupFull, "", "d"),
        record("e", kBackupIncremental, "x", "x"), record("f", kBackupIncremental, "f", "f"),
    };
    CHECK(chainUpTo(records, "c") == std::vector<std::string>{"a", "b", "c"});
    CHECK(chainUpTo(records, "a") == std::vector<std::string>{"a"});
    CHECK(chainUpTo(records, "d") == std::vector<std::string>{"d"});
    CHECK(chainUpTo(records, "e").empty());  // its parent is gone
    CHECK(chainUpTo(records, "f").empty());  // its own parent: a cycle
    CHECK(chainUpTo(records, "zz").empty());
}

TEST_CASE("backup chains: when a new chain starts, and which chains retention deletes", "[backup]") {
    const std::string uuid = record("x", kBackupFull, "", "x").vm_uuid;
    std::vector<BackupRecord> records;
    auto first = planNextBackup(records, uuid, 3);
    CHECK(first.parent == nullptr);
    CHECK_THAT(first.reason, Contains("first backup"));

    records = {record("a", kBackupFull, "", "a"), record("b", kBackupIncremental, "a", "a")};
    auto next = planNextBackup(records, uuid, 3);
    REQUIRE(next.parent != nullptr);
    CHECK(next.parent->id == "b");
    CHECK(next.reason.empty());
    records.push_back(record("c", kBackupIncremental, "b", "a"));
    auto fullAgain = planNextBackup(records, uuid, 3);
    CHECK(fullAgain.parent == nullptr);
    CHECK_THAT(fullAgain.reason, Contains("backups.keep (3)"));
    // Another VM of the same name (another uuid): its own first backup.
    auto stranger = planNextBackup(records, "another-uuid", 3);
    CHECK(stranger.parent == nullptr);
    CHECK_THAT(stranger.reason, Contains("earlier VM of the same name"));

    // keep 2: chains [a b] [c] -> nothing goes (one left would be < 2); [a b] [c d] -> [a b] goes.
    const std::vector<BackupRecord> three = {record("a", kBackupFull, "", "a"),
                                             record("b", kBackupIncremental, "a", "a"), record("c", kBackupFull, "", "c")};
    CHECK(chainsToPrune(three, 2).empty());
    auto four = three;
    four.push_back(record("d", kBackupIncremental, "c", "c"));
    CHECK(chainsToPrune(four, 2) == std::vector<std::vector<std::string>>{{"a", "b"}});
    // The newest chain never goes, however small keep is; several old chains can go at once.
    CHECK(chainsToPrune({record("a", kBackupFull, "", "a")}, 1).empty());
    const std::vector<BackupRecord> many = {record("a", kBackupFull, "", "a"), record("b", kBackupFull, "", "b"),
                                            record("c", kBackupFull, "", "c")};
    CHECK(chainsToPrune(many, 1) == std::vector<std::vector<std::string>>{{"a"}, {"b"}});
    CHECK(chainsToPrune(many, 7).empty());
}
