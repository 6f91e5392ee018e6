#include "paddock/core/create_queue.hpp"

#include "paddock/core/json_writer.hpp"

namespace paddock {

CreateQueue::CreateQueue(OperationRegistry& operations, size_t workers, size_t capacity)
    : operations_(operations), capacity_(capacity) {
    workers_.reserve(workers);
    for (size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { workerLoop(); });
}

CreateQueue::~CreateQueue() {
    std::deque<Job> left;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        left.swap(queue_);
    }
    wake_.notify_all();
    for (auto& worker : workers_) worker.join();
    for (const Job& job : left) {
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
        if (stopping_) return makeError(ErrorCode::Unavailable, "paddockd is stopping");
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
    {
        std::lock_guard lock(mutex_);
        if (!stopping_) {
            queue_.push_back({&vms, request.name, actor, op->id});
            wake_.notify_one();
            return SubmittedCreate{std::move(vm.value()), std::move(op.value())};
        }
    }
    (void)vms.abandonCreate(request.name, actor);
    operations_.fail(op->id, makeError(ErrorCode::Unavailable, "paddockd is stopping"));
    release();
    return makeError(ErrorCode::Unavailable, "paddockd is stopping");
}

void CreateQueue::workerLoop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        Job job = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        run(job);
        lock.lock();
        --admitted_;
    }
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
