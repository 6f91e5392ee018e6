// Creates answered before their start (POST /api/v1/vms with Prefer: respond-async): submit()
// defines the VM (VmService::beginCreate) and registers an operation of kind "vm_create"; a
// few worker threads then make its overlay and start it (VmService::finishCreate), so that the
// answer does not wait for QEMU. The operation ends succeeded with the result key "created_vm"
// ({"name", "site", "state"}), or failed with the create's error, the VM then removed with its
// overlay (nothing is left behind, as with a plain create).
//
// Bounded: at most `capacity` creates waiting or starting at once; one more is refused with
// Unavailable (HTTP 503), before anything is made. Stopping (the destructor) lets the starts
// under way finish, removes the VMs still waiting (VmService::abandonCreate) and fails their
// operations: nothing half-made outlives the process but what a crash leaves, which the next
// start's recovery rolls back (its operation then fails as interrupted by the restart).
//
// Thread-safe. The VmServices and the OperationRegistry must outlive the queue.
#pragma once

#include "paddock/core/job_queue.hpp"
#include "paddock/core/operations.hpp"
#include "paddock/core/vm_service.hpp"

#include <mutex>

namespace paddock {

inline constexpr const char* kOperationVmCreate = "vm_create";

struct SubmittedCreate {
    VmView vm;  // as defined: state shutoff, readiness "booting"
    Operation operation;
};

class CreateQueue {
public:
    static constexpr size_t kDefaultWorkers = 2;
    static constexpr size_t kDefaultCapacity = 64;

    CreateQueue(OperationRegistry& operations, size_t workers = kDefaultWorkers, size_t capacity = kDefaultCapacity);
    ~CreateQueue();
    CreateQueue(const CreateQueue&) = delete;
    CreateQueue& operator=(const CreateQueue&) = delete;

    // `request.start` must be true. Fails as beginCreate does (nothing made), or Unavailable when
    // the queue is full, stopping, or the operation cannot be recorded (the VM is removed again).
    Result<SubmittedCreate> submit(VmService& vms, const CreateVmRequest& request, const std::string& actor);
    // Creates waiting or starting now.
    size_t pending() const;

private:
    struct Job {
        VmService* vms;
        std::string vm;
        std::string actor;
        std::string operation;
    };
    void run(const Job& job);

    OperationRegistry& operations_;
    const size_t capacity_;
    mutable std::mutex mutex_;
    size_t admitted_ = 0;  // queued + running + being submitted
    JobQueue<Job> jobs_;   // last: its workers start once the rest exists
};

}  // namespace paddock
