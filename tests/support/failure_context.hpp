// Text attached to every Catch assertion that fails while a FailureContext lives, produced at the
// moment of the failure rather than when the context is made: INFO(daemon.log()) is evaluated at
// once, so a later failure would report the log as it was before the action that failed.
// Main-thread use only, like every Catch assertion (Catch2 v2 is not thread-safe).
#pragma once

#include <functional>
#include <string>

namespace paddock::test {

class FailureContext {
public:
    // `describe` is called once per failed assertion; what it returns is added to that
    // assertion's report as an info message.
    explicit FailureContext(std::function<std::string()> describe);
    ~FailureContext();
    FailureContext(const FailureContext&) = delete;
    FailureContext& operator=(const FailureContext&) = delete;

    // Every live context's text, oldest first (what a failure now would carry).
    static std::string describeAll();

private:
    std::function<std::string()> describe_;
};

}  // namespace paddock::test
