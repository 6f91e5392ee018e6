#include "paddock/core/create_queue.hpp"

#include "paddock/core/json_writer.hpp"

namespace paddock {

CreateQueue::CreateQueue(OperationRegistry& operations, size_t workers, size_t capacity)
    : operations_(operations), capacity_(capacity), jobs_(workers, [this](Job& job) {
          run(job);
          std::lock_guard lock(mutex_);
          --admitted_;
      }) {}

CreateQueue::~CreateQueue() {
    for (const Job& job : jobs_.stop()) {
        (void)job.vms->abandonCreate(job.vm, "system");
        operations_.fail(job.operation,
                         makeError(ErrorCode::Unavailable, "paddockd stopped before VM '" + job.vm +
                                                               "' was started; it was removed again"));
    }
}

size_t CreateQueue::pending() const {
    std::lock_guard lock(mutex_);
    return admitted_;
}

Result<SubmittedCreate> CreateQueue::submit(VmService& vms, const CreateVmRequest& request, const std::string& actor) {
    {
        std::lock_guard lock(mutex_);
        // Checked before anything is made, so that a full queue refuses cheaply.
        if (admitted_ >= capacity_)
            return makeError(ErrorCode::Unavailable, std::to_string(admitted_) +
                                                         " creates are waiting for their start already; try again shortly");
        ++admitted_;
    }
    const auto release = [this] {
        std::lock_guard lock(mutex_);
        --admitted_;
    };
    auto vm = vms.beginCreate(request, actor);
    if (!vm) {
        release();
        return std::move(vm).error();
    }
    OperationSpec spec;
    spec.kind = kOperationVmCreate;
    spec.site = vms.site().name();
    spec.owner = vm->owner;
    spec.vm = request.name;
    auto op = operations_.begin(spec);
    if (!op) {
        (void)vms.abandonCreate(request.name, actor);
        release();
        return std::move(op).error();
    }
    if (jobs_.push({&vms, request.name, actor, op->id})) return SubmittedCreate{std::move(vm.value()), std::move(op.value())};
    (void)vms.abandonCreate(request.name, actor);
    operations_.fail(op->id, makeError(ErrorCode::Unavailable, "paddockd is stopping"));
    release();
    return makeError(ErrorCode::Unavailable, "paddockd is stopping");
}

void CreateQueue::run(const Job& job) {
    operations_.start(job.operation);
    auto made = job.vms->finishCreate(job.vm, job.actor);
    if (!made) {
        operations_.fail(job.operation, std::move(made).error());
        return;
    }
    JsonWriter json;
    json.beginObject()
        .field("name", made->domain.name)
        .field("site", made->site)
        .field("state", domainStateName(made->domain.state))
        .endObject();
    operations_.finish(job.operation, "created_vm", json.str());
}

}  // namespace paddock
