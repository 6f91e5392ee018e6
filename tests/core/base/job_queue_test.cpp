// JobQueue: order, overlap with several workers, and what stop() hands back.
#include "paddock/core/job_queue.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

using namespace paddock;

TEST_CASE("one worker runs jobs in the order pushed; stop hands back the unstarted", "[job_queue]") {
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::promise<void> firstStarted;
    std::mutex mutex;
    std::vector<int> ran;
    JobQueue<int> queue(1, [&](int& job) {
        if (job == 0) {
            firstStarted.set_value();
            released.wait();  // holds the only worker until the rest are queued
        }
        std::lock_guard lock(mutex);
        ran.push_back(job);
    });
    for (int i = 0; i < 5; ++i) REQUIRE(queue.push(i));
    firstStarted.get_future().wait();
    CHECK(queue.waiting() == 4);
    release.set_value();
    while (queue.waiting() != 0) std::this_thread::yield();
    // Each job is taken in order; the last may still be running: stop() waits for it.
    const auto left = queue.stop();
    CHECK(left.empty());
    CHECK(ran == std::vector<int>{0, 1, 2, 3, 4});
    CHECK_FALSE(queue.push(5));
    CHECK(queue.stop().empty());
}

TEST_CASE("without a free worker, stop returns every queued job, oldest first", "[job_queue]") {
    std::atomic<int> ran{0};
    JobQueue<int> queue(0, [&](int&) { ++ran; });
    for (int i = 0; i < 3; ++i) REQUIRE(queue.push(i));
    const auto left = queue.stop();
    CHECK(std::vector<int>(left.begin(), left.end()) == std::vector<int>{0, 1, 2});
    CHECK(ran == 0);
}

TEST_CASE("several workers run jobs side by side", "[job_queue]") {
    std::promise<void> bothRunning;
    std::atomic<int> running{0};
    std::shared_future<void> gate = bothRunning.get_future().share();
    JobQueue<int> queue(2, [&](int&) {
        if (++running == 2) bothRunning.set_value();
        gate.wait();  // returns only once both jobs are in their workers at the same time
    });
    REQUIRE(queue.push(1));
    REQUIRE(queue.push(2));
    gate.wait();
    CHECK(queue.stop().empty());
}
