// A first-in first-out queue of jobs run by a fixed set of worker threads: the work that outlives
// the request that asked for it (backups and restores, creates answered before their start).
// `run` is called on a worker thread, one job per worker at a time, in the order pushed (with
// several workers, jobs overlap). stop() — the destructor calls it too — stops taking jobs,
// lets the running ones finish, joins the workers and hands back the jobs never started, for
// their owner to settle (fail their operations, undo what they were for).
//
// Thread-safe. `run` must not call stop() (a worker cannot join itself).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace paddock {

template <class Job>
class JobQueue {
public:
    using Runner = std::function<void(Job& job)>;

    JobQueue(size_t workers, Runner run) : run_(std::move(run)) {
        workers_.reserve(workers);
        for (size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { workerLoop(); });
    }
    ~JobQueue() { (void)stop(); }
    JobQueue(const JobQueue&) = delete;
    JobQueue& operator=(const JobQueue&) = delete;

    // False (and the job dropped) once stop() has begun.
    bool push(Job job) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return false;
            queue_.push_back(std::move(job));
        }
        wake_.notify_one();
        return true;
    }

    // The jobs never started, oldest first; empty on a second call.
    std::deque<Job> stop() {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return {};
            stopping_ = true;
        }
        wake_.notify_all();
        for (auto& worker : workers_) worker.join();
        std::lock_guard lock(mutex_);
        return std::exchange(queue_, {});
    }

    // Jobs waiting for a worker.
    size_t waiting() const {
        std::lock_guard lock(mutex_);
        return queue_.size();
    }

private:
    void workerLoop() {
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            Job job = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            run_(job);
            lock.lock();
        }
    }

    Runner run_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> queue_;
    bool stopping_ = false;
    std::vector<std::thread> workers_;  // last: started once the rest exists
};

}  // namespace paddock
