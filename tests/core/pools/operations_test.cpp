// OperationRegistry: the lifecycle of an operation, and its persistence across a "restart" (a
// second registry reading the file the first one wrote).
#include "paddock/core/operations.hpp"

#include "paddock/core/atomic_file.hpp"
#include "result_checks.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <thread>

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

    after.settleInterrupted("lab", "a", [](const std::string& vm) -> std::optional<Lease> {
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

TEST_CASE("operations: states, cancelling, listing and output", "[operations]") {
    OperationRegistry ops;
    std::vector<std::string> seen;  // state changes the observer was told of, in order
    ops.setObserver([&](const Operation& op) { seen.push_back(op.id + ":" + std::string(operationStateName(op))); });

    auto queued = ops.begin(OperationSpec{kOperationProvision, "local", "", "alice", "vm-1", true});
    REQUIRE(queued.ok());
    const std::string id = queued->id;
    CHECK(operationStateName(queued.value()) == "queued");
    CHECK(queued->site == "local");

    SECTION("a queued operation is cancelled at once") {
        auto cancelled = ops.cancel(id, "bob");
        REQUIRE(cancelled.ok());
        CHECK(cancelled->status == Operation::Status::Cancelled);
        CHECK(operationStateName(cancelled.value()) == "cancelled");
        REQUIRE(cancelled->error.has_value());
        CHECK(cancelled->error->message.find("bob") != std::string::npos);
        CHECK(ops.cancel(id, "bob").error().code == ErrorCode::Conflict);  // ended
        CHECK(seen == std::vector<std::string>{id + ":queued", id + ":cancelled"});
    }

    SECTION("a running one is asked to stop, and ends when its work notices") {
        ops.start(id);
        CHECK(operationStateName(ops.get(id).value()) == "running");
        auto asked = ops.cancel(id, "bob");
        REQUIRE(asked.ok());
        CHECK(asked->status == Operation::Status::Pending);
        CHECK(ops.cancelRequested(id));
        ops.cancelled(id);
        CHECK(ops.get(id)->status == Operation::Status::Cancelled);
        CHECK_FALSE(ops.cancelRequested(id));
        ops.finish(id, "result", "{}");  // settled once: a late finish changes nothing
        CHECK(ops.get(id)->status == Operation::Status::Cancelled);
        CHECK(seen == std::vector<std::string>{id + ":queued", id + ":running", id + ":cancelled"});
    }

    SECTION("operations that cannot be cancelled say so") {
        auto pool = ops.begin(kOperationPoolAllocate, "lab", "alice", "lab-1");
        REQUIRE(pool.ok());
        const auto refused = ops.cancel(pool->id, "bob");
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().code == ErrorCode::Conflict);
        CHECK(ops.cancel("op-unknown", "bob").error().code == ErrorCode::NotFound);
    }

    SECTION("output is read by offset, its tail kept on the operation") {
        ops.start(id);
        ops.appendOutput(id, "PLAY [all]");
        ops.appendOutput(id, "TASK [one]");
        auto all = ops.output(id, 0, 1 << 20);
        REQUIRE(all.ok());
        CHECK(all->text == "PLAY [all]\nTASK [one]\n");
        CHECK(all->next == all->text.size());
        CHECK_FALSE(all->finished);
        auto rest = ops.output(id, 11, 1 << 20);
        CHECK(rest->text == "TASK [one]\n");
        CHECK(ops.output(id, 1000, 10)->text.empty());
        CHECK(ops.get(id)->output_tail == "PLAY [all]\nTASK [one]\n");
        ops.finish(id, "result", R"({"changed":0})");
        CHECK(ops.output(id, 0, 100)->finished);
        ops.appendOutput(id, "late");  // after the end: nothing
        CHECK(ops.output(id, 0, 100)->text == "PLAY [all]\nTASK [one]\n");
        CHECK(operationStateName(ops.get(id).value()) == "succeeded");
    }

    SECTION("output beyond the memory bound drops whole lines from the front") {
        ops.start(id);
        const std::string line(1000, 'x');
        for (int i = 0; i < 1200; ++i) ops.appendOutput(id, line);
        auto piece = ops.output(id, 0, kOperationOutputBytes * 2);
        REQUIRE(piece.ok());
        CHECK(piece->offset > 0);
        CHECK(piece->offset % 1001 == 0);  // a reader never starts mid-line
        CHECK(piece->text.size() <= kOperationOutputBytes);
        CHECK(piece->next == 1200u * 1001u);
        CHECK(ops.get(id)->output_tail.size() == kOperationOutputTailBytes);
    }

    SECTION("waitOutput wakes on new output") {
        ops.start(id);
        std::thread writer([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            ops.appendOutput(id, "hello");
        });
        ops.waitOutput(id, 0, std::chrono::seconds(30));
        writer.join();
        CHECK(ops.output(id, 0, 100)->text == "hello\n");
    }

    SECTION("the listing filters by VM, state, kind and owner, newest first, bounded") {
        auto other = ops.begin(OperationSpec{kOperationProvision, "local", "", "carol", "vm-2", true});
        REQUIRE(other.ok());
        ops.start(other->id);
        auto pool = ops.begin(kOperationPoolAllocate, "lab", "alice", "lab-1");
        REQUIRE(pool.ok());
        CHECK(ops.list({}).size() == 3);
        OperationFilter byVm;
        byVm.vm = "vm-1";
        REQUIRE(ops.list(byVm).size() == 1);
        CHECK(ops.list(byVm).front().id == id);
        OperationFilter running;
        running.state = "running";
        REQUIRE(ops.list(running).size() == 1);
        CHECK(ops.list(running).front().id == other->id);
        OperationFilter kind;
        kind.kind = kOperationPoolAllocate;
        CHECK(ops.list(kind).size() == 1);
        OperationFilter owner;
        owner.owner = "carol";
        CHECK(ops.list(owner).size() == 1);
        OperationFilter one;
        one.limit = 1;
        REQUIRE(ops.list(one).size() == 1);
        CHECK(ops.list(one).front().id == pool->id);  // the newest
    }
}

TEST_CASE("operations: provisioning records survive a restart with their tail, pending ones interrupted",
          "[operations]") {
    TempDir dir;
    const std::string path = dir.file("operations.json");
    std::string done, running, cancelled;
    {
        OperationRegistry ops;
        REQUIRE(ops.persistTo(path).ok());
        done = ops.begin(OperationSpec{kOperationProvision, "local", "", "alice", "vm-1", true})->id;
        ops.start(done);
        ops.appendOutput(done, "ok: [vm-1]");
        ops.setProgress(done, "recap");
        ops.finish(done, "result", R"({"changed":1})");
        running = ops.begin(OperationSpec{kOperationProvision, "local", "", "alice", "vm-2", true})->id;
        ops.start(running);
        ops.appendOutput(running, "TASK [x]");
        cancelled = ops.begin(OperationSpec{kOperationProvision, "local", "", "alice", "vm-3", true})->id;
        REQUIRE(ops.cancel(cancelled, "bob").ok());
    }
    OperationRegistry after;
    REQUIRE(after.persistTo(path).ok());
    after.failInterruptedOutside({});
    const Operation d = after.get(done).value();
    CHECK(d.status == Operation::Status::Done);
    CHECK(d.site == "local");
    CHECK(d.cancellable);
    CHECK(d.progress == "recap");
    CHECK(d.output_tail == "ok: [vm-1]\n");
    CHECK(after.output(done, 0, 100)->text == "ok: [vm-1]\n");  // the tail is what is left
    CHECK(d.result_json == R"({"changed":1})");
    CHECK(after.get(cancelled)->status == Operation::Status::Cancelled);
    const Operation r = after.get(running).value();
    CHECK(r.status == Operation::Status::Failed);
    REQUIRE(r.error.has_value());
    CHECK(r.error->message.find(kInterruptedByRestart) != std::string::npos);
}
