#include "paddock/core/names.hpp"

#include "result_checks.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using paddock::ErrorCode;
using paddock::validateName;

TEST_CASE("valid names pass", "[names]") {
    for (const std::string& name : std::vector<std::string>{"a", "0", "vm-1", "student-042", std::string(63, 'a'), "a-"}) {
        INFO(name);
        CHECK(validateName(name).ok());
    }
}

TEST_CASE("invalid names are InvalidArgument naming the field", "[names]") {
    for (const std::string& name : std::vector<std::string>{"", "-a", "A", "Bad_Name", "vm.1", "vm 1", "vm/../x", std::string(64, 'a'),
                                   "vm\n", "ü", "a;rm"}) {
        INFO(name);
        const auto r = validateName(name, "VM name");
        REQUIRE_FALSE(r.ok());
        CHECK(failure(r).code == ErrorCode::InvalidArgument);
        CHECK(failure(r).message.find("VM name") != std::string::npos);
    }
}
