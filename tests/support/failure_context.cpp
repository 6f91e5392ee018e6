#include "failure_context.hpp"

// The reporter and listener interfaces (TestEventListenerBase) are only declared with this.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

namespace paddock::test {

namespace {

std::vector<FailureContext*>& live() {
    static std::vector<FailureContext*> contexts;
    return contexts;
}

// Catch2 v2 has no lazily evaluated INFO. Its listeners see each assertion's statistics before
// the reporter does, and the statistics object is a non-const temporary handed on by const
// reference: appending a message here is what the reporter then prints with the failure.
class FailureContextListener : public Catch::TestEventListenerBase {
public:
    using TestEventListenerBase::TestEventListenerBase;

    bool assertionEnded(const Catch::AssertionStats& stats) override {
        if (stats.assertionResult.isOk() || live().empty()) return true;
        Catch::MessageInfo message("INFO", stats.assertionResult.getSourceInfo(), Catch::ResultWas::Info);
        message.message = FailureContext::describeAll();
        const_cast<Catch::AssertionStats&>(stats).infoMessages.push_back(std::move(message));
        return true;
    }
};

}  // namespace

FailureContext::FailureContext(std::function<std::string()> describe) : describe_(std::move(describe)) {
    live().push_back(this);
}

FailureContext::~FailureContext() {
    auto& contexts = live();
    contexts.erase(std::remove(contexts.begin(), contexts.end(), this), contexts.end());
}

std::string FailureContext::describeAll() {
    std::string text;
    for (const auto* context : live()) {
        try {
            text += context->describe_();
        } catch (const std::exception& e) {
            text += std::string("(cannot describe: ") + e.what() + ")";
        }
        text += "\n";
    }
    return text;
}

CATCH_REGISTER_LISTENER(FailureContextListener)

}  // namespace paddock::test
