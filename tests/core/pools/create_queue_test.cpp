// CreateQueue: creates answered before their start, against the real libvirt-qemu plugin on
// libvirt's in-process test driver.
#include "paddock/core/create_queue.hpp"

#include "paddock/core/vm_metadata.hpp"
#include "result_checks.hpp"
#include "test_support.hpp"
#include "vm/test_site.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace paddock;
using namespace paddock::test;

namespace {

// The test site with a template on the base image, and a VmService of its own instance.
struct QueueSite : TestSite {
    QueueSite() : TestSite(withTemplate(baseTemplate())) {}
    VmService vms{*site, audit, metrics, "pdk-queue"};  // destroyed before the site it uses
    OperationRegistry operations;
};

CreateVmRequest startRequest(const std::string& name) {
    CreateVmRequest r;
    r.name = name;
    r.start = true;
    r.owner = "alice";
    return r;
}

// Polls until the operation has ended (test:/// starts in milliseconds; the bound only keeps a
// broken queue from hanging the suite).
Operation waitEnded(OperationRegistry& ops, const std::string& id) {
    for (int i = 0; i < 2000; ++i) {
        auto op = ops.get(id);
        REQUIRE(op.ok());
        if (op->status != Operation::Status::Pending) return op.value();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    FAIL("operation " << id << " did not end");
    return {};
}

}  // namespace

TEST_CASE("a queued create answers defined, then its operation tells the start", "[create_queue]") {
    QueueSite s;
    CreateQueue queue(s.operations);
    auto submitted = queue.submit(s.vms, startRequest("async-1"), "tester");
    REQUIRE(submitted.ok());
    CHECK(submitted->vm.domain.name == "async-1");
    CHECK(submitted->operation.kind == kOperationVmCreate);
    CHECK(submitted->operation.vm == "async-1");
    CHECK(submitted->operation.site == "test");
    CHECK(submitted->operation.owner == "alice");

    const Operation done = waitEnded(s.operations, submitted->operation.id);
    REQUIRE(done.status == Operation::Status::Done);
    CHECK(done.result_key == "created_vm");
    CHECK(done.result_json == R"({"name":"async-1","site":"test","state":"running"})");
    CHECK(s.connection->getDomain("async-1")->state == DomainState::Running);
    CHECK(s.connection->getMetadata("async-1").value().count(meta::kIntent) == 0);
    CHECK(queue.pending() == 0);

    // A bad request fails before anything is queued or recorded.
    auto taken = queue.submit(s.vms, startRequest("async-1"), "tester");
    CHECK(failure(taken).code == ErrorCode::AlreadyExists);
    auto bad = queue.submit(s.vms, startRequest("bad name!"), "tester");
    CHECK(failure(bad).code == ErrorCode::InvalidArgument);
    CHECK(s.operations.list({}).size() == 1);
}

TEST_CASE("a failing start fails the operation and leaves nothing", "[create_queue]") {
    QueueSite s;
    CreateQueue queue(s.operations);
    auto submitted = queue.submit(s.vms, startRequest("async-fail"), "tester");
    REQUIRE(submitted.ok());
    // Whether the worker has run yet or not, a volume in the way makes the overlay fail (or the
    // create succeeded first and the squatter creation fails instead).
    OverlaySpec squatter{"default-pool", "async-fail.qcow2", "/var/lib/paddock/test/base.qcow2", "qcow2", 1 << 20};
    const bool squatted = s.connection->createOverlay(squatter).ok();
    const Operation done = waitEnded(s.operations, submitted->operation.id);
    if (squatted) {
        REQUIRE(done.status == Operation::Status::Failed);
        REQUIRE(done.error.has_value());
        CHECK(done.error->code == ErrorCode::AlreadyExists);
        CHECK_FALSE(s.connection->getDomain("async-fail").ok());
        CHECK(s.connection->deleteVolume("/default-pool/async-fail.qcow2").ok());  // the squatter's, kept
    } else {
        CHECK(done.status == Operation::Status::Done);
    }
}

TEST_CASE("a full queue refuses before making anything; a stopping one removes what waits", "[create_queue]") {
    QueueSite s;
    {
        // No workers: what is submitted waits until the queue stops.
        CreateQueue queue(s.operations, 0, 2);
        auto first = queue.submit(s.vms, startRequest("wait-1"), "tester");
        auto second = queue.submit(s.vms, startRequest("wait-2"), "tester");
        REQUIRE(first.ok());
        REQUIRE(second.ok());
        CHECK(queue.pending() == 2);
        auto third = queue.submit(s.vms, startRequest("wait-3"), "tester");
        CHECK(failure(third).code == ErrorCode::Unavailable);
        CHECK_FALSE(s.connection->getDomain("wait-3").ok());
        CHECK(s.connection->getDomain("wait-1").ok());
        CHECK(s.vms.list()->size() == 2);
    }
    for (const char* vm : {"wait-1", "wait-2"}) CHECK_FALSE(s.connection->getDomain(vm).ok());
    CHECK(s.vms.list()->empty());
    auto ops = s.operations.list({});
    REQUIRE(ops.size() == 2);
    for (const Operation& op : ops) {
        CHECK(op.status == Operation::Status::Failed);
        CHECK(op.error->code == ErrorCode::Unavailable);
        CHECK(op.error->message.find("removed again") != std::string::npos);
    }
}
