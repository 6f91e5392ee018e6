#include "paddock/core/iso_time.hpp"

#include <catch2/catch.hpp>

using namespace paddock;

TEST_CASE("ISO times: written and read back; a time the clock cannot hold is no time", "[time]") {
    for (const char* text :
         {"1970-01-01T00:00:00Z", "2026-12-02T04:00:00Z", "2200-01-01T00:00:00Z", "1969-12-31T23:59:59Z"}) {
        INFO(text);
        const auto t = parseIsoTime(text);
        REQUIRE(t);
        CHECK(isoTime(*t) == text);
    }
    // Beyond 2262 a nanosecond system_clock overflows (found by fuzzing the token file).
    for (const char* text : {"2999-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1000-01-01T00:00:00Z", "", "2026-12-02",
                             "2026-12-02T04:00:00", "2026-12-02T04:00:00Zjunk", "not a time"}) {
        INFO(text);
        CHECK_FALSE(parseIsoTime(text));
    }
}
