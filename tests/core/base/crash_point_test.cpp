// Kill points (crash_point.hpp): arming, and a child process that really dies at the n-th hit.
#include "paddock/core/crash_point.hpp"

#include "result_checks.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

using namespace paddock;

namespace {

// Runs `body` in a child process; its wait status.
template <class Body>
int inChild(Body body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        body();
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

}  // namespace

TEST_CASE("every crash point is listed once, with a dotted name", "[crash_point]") {
    std::set<std::string_view> seen;
    for (const auto point : kCrashPoints) {
        CHECK(seen.insert(point).second);
        CHECK(point.find('.') != std::string_view::npos);
        CHECK(isCrashPoint(point));
    }
    CHECK_FALSE(isCrashPoint("vm.create.after_nothing"));
}

TEST_CASE("arming takes a known name and an optional hit count", "[crash_point]") {
    REQUIRE(armCrashPoint("vm.create.after_define").ok());
    CHECK(armedCrashPoint() == "vm.create.after_define");
    REQUIRE(armCrashPoint("pool.fill.after_save:3").ok());
    CHECK(armedCrashPoint() == "pool.fill.after_save");

    const auto unknown = failure(armCrashPoint("vm.create.after_lunch"));
    CHECK(unknown.code == ErrorCode::InvalidArgument);
    CHECK(unknown.message.find("unknown crash point 'vm.create.after_lunch'") != std::string::npos);
    CHECK(unknown.message.find("vm.create.after_define") != std::string::npos);  // the known ones are named
    CHECK(armedCrashPoint().empty());                                            // a refused spec leaves nothing armed
    for (const char* bad : {"vm.create.after_define:0", "vm.create.after_define:x",
                            "vm.create.after_define:", "vm.create.after_define:2x"})
        CHECK(failure(armCrashPoint(bad)).code == ErrorCode::InvalidArgument);

    REQUIRE(armCrashPoint("").ok());
    CHECK(armedCrashPoint().empty());
    crashPoint("vm.create.after_define");  // unarmed: nothing happens
}

TEST_CASE("an armed point kills the process with SIGKILL at the n-th hit and not before", "[crash_point]") {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const int status = inChild([&] {
        ::close(fds[0]);
        if (!armCrashPoint("vm.delete.after_destroy:2")) ::_exit(3);
        crashPoint("vm.delete.after_mark");     // another point: ignored
        crashPoint("vm.delete.after_destroy");  // first hit: survives
        (void)!::write(fds[1], "1", 1);
        crashPoint("vm.delete.after_destroy");  // second hit: dies here
        (void)!::write(fds[1], "2", 1);
    });
    ::close(fds[1]);
    char seen[4] = {};
    const ssize_t n = ::read(fds[0], seen, sizeof seen);
    ::close(fds[0]);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    CHECK(n == 1);
    CHECK(seen[0] == '1');
}

TEST_CASE("PADDOCK_CRASH_POINT arms from the environment", "[crash_point]") {
    const int status = inChild([] {
        ::setenv("PADDOCK_CRASH_POINT", "pool.cold.after_lease", 1);
        if (!armCrashPointFromEnvironment() || armedCrashPoint() != "pool.cold.after_lease") ::_exit(3);
        ::setenv("PADDOCK_CRASH_POINT", "nope", 1);
        if (armCrashPointFromEnvironment()) ::_exit(4);
        ::unsetenv("PADDOCK_CRASH_POINT");
        if (!armCrashPointFromEnvironment() || !armedCrashPoint().empty()) ::_exit(5);
    });
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
