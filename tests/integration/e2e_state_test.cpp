// End to end with a real guest on qemu:///system: a file written in the guest comes back with a
// snapshot revert; after writing 10 MB an incremental backup holds about 10 MB (not the disk);
// a stopped VM is backed up from its disk image in the same chain; the chain restores into a
// new VM that boots and holds the files written before that backup. Prints the figures
// bench/snapshots.sh reports.
#include "guest_ssh.hpp"
#include "paddockd_site.hpp"

#include "paddock/core/ssh_client.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <cstdio>
#include <thread>

using namespace paddock::test;
using Clock = std::chrono::steady_clock;

namespace {

// POSTs `path`, expects 202 + operation, polls it to its end; the finished operation.
rapidjson::Document operation(PaddockdFixture& paddockd, const std::string& path, const std::string& body) {
    auto accepted = paddockd.call("POST", path, body);
    INFO(accepted.body);
    REQUIRE(accepted.status == 202);
    const std::string id = accepted.json()["id"].GetString();
    for (int i = 0; i < 3000; ++i) {
        auto reply = paddockd.call("GET", "/api/v1/operations/" + id);
        REQUIRE(reply.status == 200);
        auto doc = reply.json();
        if (std::string(doc["status"].GetString()) != "pending") {
            INFO(reply.body);
            REQUIRE(std::string(doc["status"].GetString()) == "done");
            return doc;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL("operation " << id << " did not end");
    return {};
}

mode_t modeOf(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("snapshots and incremental backups of a real guest; a restored VM boots with the files", "[e2e][state]") {
    requireLibvirt("qemu:///system");
    const std::string name = "pdk-st-" + std::to_string(::getpid());
    DomainSweeper sweeper{name};  // declared first: runs after paddockd stopped
    PaddockdFixture paddockd(guestOptions(25000, 25999, 60));
    const std::string vms = "/api/v1/vms/" + name;

    auto created = paddockd.call("POST", "/api/v1/vms", R"({"name":")" + name + R"(","owner":"student-1"})");
    REQUIRE(created.status == 201);
    const std::string disk = created.json()["vm"]["disk"].GetString();
    // What a backup that paddockd did not live to finish leaves beside the disk: the next one sweeps it.
    const std::string staleStaging =
        disk.substr(0, disk.rfind('/')) + "/." + name + ".backup-paddock-bk-interrupted.qcow2";
    {
        std::FILE* f = std::fopen(staleStaging.c_str(), "w");
        REQUIRE(f != nullptr);
        std::fclose(f);
    }
    auto vm = waitReady(paddockd, name, 300);
    const auto guest = guestEndpoint(paddockd, vm["vm"]["ssh"]);
    runInGuest(guest, "echo keep-me > ~/marker && sync");

    // Snapshot (memory + disk, running), delete the file, revert: it is back, the VM runs.
    auto t0 = Clock::now();
    auto snap = paddockd.call("POST", vms + "/snapshots", R"({"name":"with-marker","description":"before rm"})");
    const double snapshotS = secondsSince(t0);
    REQUIRE(snap.status == 201);
    CHECK(std::string(snap.json()["kind"].GetString()) == "memory+disk");
    runInGuest(guest, "rm ~/marker && sync && test ! -e ~/marker");
    t0 = Clock::now();
    auto reverted = paddockd.call("POST", vms + "/snapshots/with-marker/revert");
    const double revertS = secondsSince(t0);
    REQUIRE(reverted.status == 200);
    CHECK(std::string(reverted.json()["vm"]["state"].GetString()) == "running");
    CHECK(runInGuest(guest, "cat ~/marker").find("keep-me") != std::string::npos);
    const double revertToSshS = secondsSince(t0);

    // A full backup, 10 MB written, an incremental one that holds about those 10 MB.
    t0 = Clock::now();
    auto full = operation(paddockd, vms + "/backups", "");
    const double fullS = secondsSince(t0);
    const auto& fullBackup = full["backup"];
    CHECK(std::string(fullBackup["kind"].GetString()) == "full");
    CHECK(fullBackup["parent"].IsNull());
    CHECK_FALSE(fullBackup["offline"].GetBool());
    const uint64_t fullBytes = fullBackup["size_bytes"].GetUint64();
    const std::string fullId = fullBackup["id"].GetString();
    CHECK_FALSE(std::filesystem::exists(staleStaging));

    const std::string bigSum = runInGuest(guest, "dd if=/dev/urandom of=~/big bs=1M count=10 status=none && sync && "
                                          "sha256sum ~/big | cut -c1-64");
    t0 = Clock::now();
    auto incremental = operation(paddockd, vms + "/backups", "{}");
    const double incrementalS = secondsSince(t0);
    const auto& incBackup = incremental["backup"];
    CHECK(std::string(incBackup["kind"].GetString()) == "incremental");
    CHECK(std::string(incBackup["parent"].GetString()) == fullId);
    const uint64_t incBytes = incBackup["size_bytes"].GetUint64();
    CHECK(incBytes >= 10u * 1024 * 1024);
    CHECK(incBytes <= 24u * 1024 * 1024);  // 10 MB of data, metadata and what the guest wrote meanwhile
    CHECK(incBytes * 8 < fullBytes);
    const std::string incId = incBackup["id"].GetString();

    // Backups are private: 0600 files in a 0700 directory.
    const std::string dir = paddockd.stateDir() + "/backups/" + name;
    CHECK(modeOf(dir) == 0700);
    CHECK(modeOf(dir + "/" + incId + ".qcow2") == 0600);
    CHECK(modeOf(dir + "/index.json") == 0600);

    // A stopped VM is backed up from its disk image, in the same chain.
    REQUIRE(paddockd.call("POST", vms + "/stop").status == 200);
    t0 = Clock::now();
    auto offline = operation(paddockd, vms + "/backups", "");
    const double offlineS = secondsSince(t0);
    CHECK(offline["backup"]["offline"].GetBool());
    CHECK(std::string(offline["backup"]["kind"].GetString()) == "incremental");
    CHECK(std::string(offline["backup"]["parent"].GetString()) == incId);
    CHECK(std::string(paddockd.getJson(vms)["vm"]["state"].GetString()) == "shut off");

    // Only the newest of a chain may go alone.
    CHECK(paddockd.call("DELETE", vms + "/backups/" + fullId).status == 409);
    auto listed = paddockd.getJson(vms + "/backups");
    CHECK(listed["backups"].Size() == 3);

    // Restore the chain up to the incremental backup as a new VM: it boots and has the files.
    const std::string restoredName = name + "-r";
    t0 = Clock::now();
    auto restored = operation(paddockd, vms + "/backups/" + incId + "/restore", R"({"as":")" + restoredName + R"("})");
    CHECK(std::string(restored["vm"].GetString()) == restoredName);
    CHECK(std::string(restored["restored_vm"]["name"].GetString()) == restoredName);
    auto restoredVm = waitReady(paddockd, restoredName, 300);
    const double restoreToReadyS = secondsSince(t0);
    const auto copy = guestEndpoint(paddockd, restoredVm["vm"]["ssh"]);
    CHECK(runInGuest(copy, "cat ~/marker").find("keep-me") != std::string::npos);
    CHECK(runInGuest(copy, "sha256sum ~/big | cut -c1-64") == bigSum);

    // A damaged file is found before a restore uses it.
    {
        std::FILE* f = std::fopen((dir + "/" + fullId + ".qcow2").c_str(), "r+b");
        REQUIRE(f != nullptr);
        std::fseek(f, 1 << 20, SEEK_SET);
        std::fputc(0x5a ^ std::fgetc(f), f);
        std::fclose(f);
        auto accepted = paddockd.call("POST", vms + "/backups/" + incId + "/restore", R"({"as":")" + name + R"(-x"})");
        REQUIRE(accepted.status == 202);
        const std::string id = accepted.json()["id"].GetString();
        rapidjson::Document op;
        for (int i = 0; i < 600; ++i) {
            op = paddockd.getJson("/api/v1/operations/" + id);
            if (std::string(op["status"].GetString()) != "pending") break;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        CHECK(std::string(op["status"].GetString()) == "failed");
        CHECK(std::string(op["error"]["message"].GetString()).find("damaged") != std::string::npos);
        CHECK(paddockd.call("GET", vms + "-x").status == 404);
    }

    // The whole chain goes at once; deleting the VMs leaves no volume behind.
    auto gone = paddockd.call("DELETE", vms + "/backups/" + fullId + "?chain=true");
    REQUIRE(gone.status == 200);
    CHECK(gone.json()["deleted"].Size() == 3);
    REQUIRE(paddockd.call("DELETE", "/api/v1/vms/" + restoredName).status == 200);
    REQUIRE(paddockd.call("DELETE", vms).status == 200);
    CHECK(systemVolumes("paddock", name).empty());

    std::printf("state: snapshot (running, 512 MiB) %.2f s, revert %.2f s, revert->SSH %.2f s\n", snapshotS, revertS,
                revertToSshS);
    std::printf("state: full backup %.1f MiB in %.2f s, incremental after 10 MiB %.1f MiB in %.2f s, offline "
                "incremental %.2f s, restore->ready %.1f s\n",
                static_cast<double>(fullBytes) / (1 << 20), fullS, static_cast<double>(incBytes) / (1 << 20),
                incrementalS, offlineS, restoreToReadyS);
}
