#include "paddock/core/names.hpp"

#include "result_checks.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using paddock::ErrorCode;
using paddock::validateName;

TEST_CASE("valid names pass", "[names]") {
    for (const std::string& name :
         std::vector<std::string>{"a", "0", "vm-1", "student-042", std::string(63, 'a'), "a-"}) {
        INFO(name);
        CHECK(validateName(name).ok());
    }
}

TEST_CASE("invalid names are InvalidArgument naming the field", "[names]") {
    for (const std::string& name : std::vector<std::string>{"", "-a", "A", "Bad_Name", "vm.1", "vm 1", "vm/../x",
                                                            std::string(64, 'a'), "vm\n", "ü", "a;rm"}) {
        INFO(name);
        const auto r = validateName(name, "VM name");
        REQUIRE_FALSE(r.ok());
        CHECK(failure(r).code == ErrorCode::InvalidArgument);
        CHECK(failure(r).message.find("VM name") != std::string::npos);
    }
}

TEST_CASE("owners and labels: one rule for length, UTF-8 and control characters", "[names][hostile]") {
    using paddock::validateLabel;
    using paddock::validateOwner;
    CHECK(validateOwner("alice", true).ok());
    CHECK(validateOwner("Zoë Ødegård (lab 3)", true).ok());
    CHECK(validateOwner(std::string(128, 'a'), true).ok());
    CHECK(validateOwner("", false).ok());
    CHECK_THAT(failure(validateOwner("", true)).message, Catch::Contains("owner must not be empty"));
    CHECK_THAT(failure(validateOwner(std::string(129, 'a'), true)).message, Catch::Contains("longer than 128 bytes"));
    CHECK_THAT(failure(validateOwner(std::string(900 * 1024, 'a'), false)).message, Catch::Contains("longer than 128"));
    for (const std::string& bad : {std::string("a\nb"), std::string("a\tb"), std::string("a\x7f"),
                                   std::string("a\xc2\x85"), std::string("\xc2\x9f"), std::string(1, '\0')}) {
        INFO(bad);
        CHECK_THAT(failure(validateOwner(bad, true)).message, Catch::Contains("control characters"));
    }
    CHECK_THAT(failure(validateOwner("\xff", true)).message, Catch::Contains("not valid UTF-8"));
    CHECK(validateOwner("\xc2\xa0", true).ok());  // U+00A0 is not a control character
    CHECK_THAT(failure(validateLabel("x\r", "Idempotency-Key", 200, false)).message,
               Catch::Contains("Idempotency-Key"));
}
