// VmLocks: one VM at a time, different VMs in parallel, and no entry left behind.
#include "paddock/core/vm_locks.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace paddock;
using namespace std::chrono_literals;

TEST_CASE("vm locks serialise one VM and forget names nobody holds", "[vm_locks]") {
    VmLocks locks;
    std::atomic<int> inside{0};
    std::atomic<int> maxInside{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            for (int j = 0; j < 50; ++j) {
                const auto guard = locks.lock("vm-1");
                const int now = ++inside;
                int seen = maxInside.load();
                while (now > seen && !maxInside.compare_exchange_weak(seen, now)) {}
                std::this_thread::yield();
                --inside;
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK(maxInside.load() == 1);
    CHECK(locks.size() == 0);

    // Thousands of distinct names (every 404 asks for one) leave nothing behind.
    for (int i = 0; i < 5000; ++i) (void)locks.lock("missing-" + std::to_string(i));
    CHECK(locks.size() == 0);
}

TEST_CASE("vm locks let different VMs proceed at once", "[vm_locks]") {
    VmLocks locks;
    const auto a = locks.lock("a");
    std::atomic<bool> gotB{false};
    std::thread other([&] {
        const auto b = locks.lock("b");
        gotB = true;
    });
    other.join();  // would never return if "b" waited for "a"
    CHECK(gotB.load());
    CHECK(locks.size() == 1);
}
