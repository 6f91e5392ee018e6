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

TEST_CASE("legacy names: what the old VM manager's clients generate, nothing unsafe", "[names][compat]") {
    using paddock::validateLegacyName;
    for (const std::string& name :
         std::vector<std::string>{"Student_1", "lab.vm", "_x", "A", "a-b.c_D", "9lives", std::string(63, 'Z')}) {
        INFO(name);
        CHECK(validateLegacyName(name).ok());
        CHECK(paddock::validateExistingName(name).ok());  // every legacy name is also a possible existing one
    }
    for (const std::string& name : std::vector<std::string>{"", ".hidden", "..", "-opt", "a b", "a/b", "ü", "a;b",
                                                            "tab\t", std::string(64, 'a'), "a\nb"}) {
        INFO(name);
        const auto r = validateLegacyName(name);
        REQUIRE_FALSE(r.ok());
        CHECK(failure(r).code == ErrorCode::InvalidArgument);
    }
}

TEST_CASE("existing names: anything libvirt accepts except the unsafe", "[names][compat][hostile]") {
    using paddock::validateExistingName;
    for (const std::string& name :
         std::vector<std::string>{"My VM", "Student_1", "ünïcode", "a;b", "x..y", ".hidden", std::string(255, 'n')}) {
        INFO(name);
        CHECK(validateExistingName(name).ok());
    }
    for (const std::string& name : std::vector<std::string>{"", ".", "..", "a/b", "/", "x\x01y", "x\x7fy", "x\xc2\x85y",
                                                            "bad\xff", "tab\tname", std::string(256, 'n')}) {
        INFO(name);
        const auto r = validateExistingName(name, "VM name");
        REQUIRE_FALSE(r.ok());
        CHECK(failure(r).code == ErrorCode::InvalidArgument);
        CHECK(failure(r).message.find("VM name") == 0);
    }
}
