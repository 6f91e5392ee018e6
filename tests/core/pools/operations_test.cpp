// OperationRegistry: the lifecycle of an operation, and its persistence across a "restart" (a
// second registry reading the file the first one wrote).
#include "paddock/core/operations.hpp"

#include "paddock/core/atomic_file.hpp"
#include "result_checks.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdlib>

using namespace paddock;
using paddock::test::TempDir;

namespace {

Lease leaseFor(const std::string& vm) {
    Lease l;
    l.id = "lease-" + vm;
    l.pool = "lab";
    l.site = "local";
    l.vm = vm;
    l.owner = "alice";
    l.created_at = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    l.expires_at = l.created_at + std::chrono::hours(1);
    l.idempotency_key = "k-1";
    l.ssh_host = "127.0.0.1";
    l.ssh_port = 22001;
    l.ssh_user = "student";
    return l;
}

Operation beginOk(OperationRegistry& ops, const std::string& pool, const std::string& vm) {
    auto op = ops.begin(kOperationPoolAllocate, pool, "alice", vm);
    REQUIRE(op.ok());
    return op.value();
}

}  // namespace

TEST_CASE("atomic files are replaced whole and read back", "[operations][atomic_file]") {
    TempDir dir;
    const std::string path = dir.file("state.json");
    CHECK(failure(readWholeFile(path)).code == ErrorCode::NotFound);
    REQUIRE(writeFileAtomically(path, "first", 0600).ok());
    REQUIRE(writeFileAtomically(path, std::string(100000, 'x'), 0600).ok());
    CHECK(readWholeFile(path).value() == std::string(100000, 'x'));
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(failure(writeFileAtomically(dir.file("no/such/dir/x"), "y")).code == ErrorCode::Unavailable);
}

TEST_CASE("an operation goes pending, started, done or failed, with times", "[operations]") {
    OperationRegistry ops;
    const Operation op = beginOk(ops, "lab", "lab-1");
    CHECK(op.id.rfind("op-", 0) == 0);
    CHECK(op.kind == "pool_allocate");
    CHECK(op.status == Operation::Status::Pending);
    CHECK_FALSE(op.started_at.has_value());
    ops.start(op.id);
    CHECK(ops.get(op.id)->started_at.has_value());
    ops.finish(op.id, leaseFor("lab-1"));
    const Operation done = ops.get(op.id).value();
    CHECK(done.status == Operation::Status::Done);
    CHECK(done.finished_at.has_value());
    CHECK(done.lease->vm == "lab-1");

    const Operation other = beginOk(ops, "lab", "lab-2");
    ops.fail(other.id, makeError(ErrorCode::Timeout, "too slow"));
    CHECK(ops.get(other.id)->error->message == "too slow");
    CHECK(failure(ops.get("op-nope")).code == ErrorCode::NotFound);
}

TEST_CASE("a restarted registry answers every operation: finished as they were, pending ones settled", "[operations]") {
    TempDir dir;
    const std::string path = dir.file("operations.json");
    std::string doneId, failedId, leasedId, lostId, orphanId;
    {
        OperationRegistry before;
        REQUIRE(before.persistTo(path).ok());
        doneId = beginOk(before, "lab", "lab-1").id;
        before.finish(doneId, leaseFor("lab-1"));
        failedId = beginOk(before, "lab", "lab-2").id;
        before.fail(failedId, makeError(ErrorCode::Unavailable, "no room"));
        leasedId = beginOk(before, "lab", "lab-3").id;    // its lease reached libvirt, then the crash
        lostId = beginOk(before, "lab", "lab-4").id;      // its VM was half made
        orphanId = beginOk(before, "gone", "gone-1").id;  // its pool is no longer configured
        CHECK(before.persistError().empty());
    }  // the process dies here; only the file remains

    OperationRegistry after;
    REQUIRE(after.persistTo(path).ok());
    const Operation done = after.get(doneId).value();
    CHECK(done.status == Operation::Status::Done);
    CHECK(done.lease->ssh_port == 22001);
    CHECK(done.lease->idempotency_key == "k-1");
    CHECK(done.lease->expires_at == leaseFor("lab-1").expires_at);
    CHECK(after.get(failedId)->error->code == ErrorCode::Unavailable);
    CHECK(after.get(failedId)->error->message == "no room");
    // Until the pool has recovered, the interrupted ones still say pending (never 404).
    CHECK(after.get(leasedId)->status == Operation::Status::Pending);

    after.failInterruptedOutside({"lab"});
    CHECK(after.get(orphanId)->status == Operation::Status::Failed);
    CHECK(after.get(orphanId)->error->message.find(kInterruptedByRestart) == 0);
    CHECK(after.get(lostId)->status == Operation::Status::Pending);

    after.settleInterrupted("lab", [](const std::string& vm) -> std::optional<Lease> {
        if (vm == "lab-3") return leaseFor("lab-3");
        return std::nullopt;
    });
    CHECK(after.get(leasedId)->status == Operation::Status::Done);
    CHECK(after.get(leasedId)->lease->vm == "lab-3");
    const Operation lost = after.get(lostId).value();
    CHECK(lost.status == Operation::Status::Failed);
    CHECK(lost.error->message == kInterruptedByRestart);
    CHECK(lost.finished_at.has_value());

    // And the settled states persist in turn.
    OperationRegistry third;
    REQUIRE(third.persistTo(path).ok());
    CHECK(third.get(lostId)->status == Operation::Status::Failed);
    CHECK(third.get(leasedId)->status == Operation::Status::Done);
}

TEST_CASE("the file keeps at most `capacity` finished operations, the oldest go first", "[operations]") {
    TempDir dir;
    const std::string path = dir.file("operations.json");
    std::vector<std::string> ids;
    {
        OperationRegistry ops(3);
        REQUIRE(ops.persistTo(path).ok());
        for (int i = 0; i < 5; ++i) {
            ids.push_back(beginOk(ops, "lab", "lab-" + std::to_string(i)).id);
            ops.fail(ids.back(), makeError(ErrorCode::Unavailable, "x"));
        }
        ids.push_back(beginOk(ops, "lab", "lab-pending").id);
    }
    OperationRegistry reread(3);
    REQUIRE(reread.persistTo(path).ok());
    CHECK_FALSE(reread.get(ids[0]).ok());
    CHECK_FALSE(reread.get(ids[1]).ok());
    for (size_t i = 2; i < ids.size(); ++i) CHECK(reread.get(ids[i]).ok());
}

TEST_CASE("a corrupt operations file is moved aside and a fresh one started", "[operations]") {
    TempDir dir;
    const std::string path = dir.file("operations.json");
    REQUIRE(writeFileAtomically(path, "{\"version\":1,\"operations\":[{\"id\":3}]}").ok());
    OperationRegistry ops;
    const auto loaded = failure(ops.persistTo(path));
    CHECK(loaded.message.find("moved aside") != std::string::npos);
    CHECK(readWholeFile(path + ".corrupt").ok());
    // Still persistent.
    const std::string id = beginOk(ops, "lab", "lab-1").id;
    OperationRegistry reread;
    REQUIRE(reread.persistTo(path).ok());
    CHECK(reread.get(id).ok());
}

TEST_CASE("an operation that cannot be written is refused, not half registered", "[operations]") {
    TempDir dir;
    const std::string state = dir.file("state");
    REQUIRE(::mkdir(state.c_str(), 0700) == 0);
    OperationRegistry ops;
    REQUIRE(ops.persistTo(state + "/operations.json").ok());
    // The state directory vanishes (as root, permissions would not stop the write).
    REQUIRE(std::system(("rm -rf '" + state + "'").c_str()) == 0);
    auto refused = ops.begin(kOperationPoolAllocate, "lab", "alice", "lab-1");
    CHECK(failure(refused).code == ErrorCode::Unavailable);
    CHECK(failure(refused).message.find("cannot record the operation") != std::string::npos);
    CHECK_FALSE(ops.persistError().empty());
}
