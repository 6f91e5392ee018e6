// Pure parts of the browser terminal: the compat route's UTF-8 framing and console tickets.
#include "paddock/server/console_tickets.hpp"
#include "paddock/server/terminal_bridge.hpp"

#include "result_checks.hpp"

#include <catch2/catch.hpp>

#include <set>

using paddock::ErrorCode;
using paddock::Utf8Stream;
using paddock::server::ConsoleTickets;

TEST_CASE("Utf8Stream holds back a character split across reads", "[terminal][utf8]") {
    Utf8Stream stream;
    CHECK(stream.feed("caf\xC3") == "caf");
    CHECK(stream.feed("\xA9!") == "\xC3\xA9!");
    // A four-byte character arriving one byte at a time comes out whole, once.
    CHECK(stream.feed("\xF0").empty());
    CHECK(stream.feed("\x9F").empty());
    CHECK(stream.feed("\x98").empty());
    CHECK(stream.feed("\x80") == "\xF0\x9F\x98\x80");
    CHECK(stream.finish().empty());
}

TEST_CASE("Utf8Stream replaces bytes that can never be UTF-8", "[terminal][utf8]") {
    Utf8Stream stream;
    CHECK(stream.feed("a\xFF"
                      "b") ==
          "a\xEF\xBF\xBD"
          "b");
    CHECK(stream.feed("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
    CHECK(stream.feed("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
    CHECK(stream.feed("\xE2\x82"
                      "x") ==
          "\xEF\xBF\xBD"
          "x");  // cut short by ASCII
    CHECK(stream.feed("\xE2\x82").empty());
    CHECK(stream.finish() == "\xEF\xBF\xBD");  // the stream ended inside it
    CHECK(stream.feed("ok") == "ok");
}

TEST_CASE("console tickets are random, single use and bound to one VM", "[terminal][tickets]") {
    ConsoleTickets tickets;
    auto a = tickets.issue("local", "vm-a", "teacher-app");
    auto b = tickets.issue("local", "vm-a", "teacher-app");
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->ticket.size() == 64);
    CHECK(a->ticket != b->ticket);

    auto granted = tickets.redeem(a->ticket, "vm-a");
    REQUIRE(granted.ok());
    CHECK(granted->site == "local");
    CHECK(granted->issued_by == "teacher-app");
    auto again = tickets.redeem(a->ticket, "vm-a");
    REQUIRE_FALSE(again.ok());
    CHECK(failure(again).code == ErrorCode::Unauthorized);
    CHECK(failure(again).message.find(a->ticket) == std::string::npos);

    // Presented for another VM: refused, and burnt.
    CHECK(failure(tickets.redeem(b->ticket, "vm-b")).code == ErrorCode::Unauthorized);
    CHECK_FALSE(tickets.redeem(b->ticket, "vm-a").ok());
    CHECK_FALSE(tickets.redeem("", "vm-a").ok());
}

TEST_CASE("expired console tickets are refused; outstanding tickets are bounded", "[terminal][tickets]") {
    ConsoleTickets expired(std::chrono::seconds(0));
    auto t = expired.issue("local", "vm-a", "x");
    REQUIRE(t.ok());
    auto redeemed = expired.redeem(t->ticket, "vm-a");
    REQUIRE_FALSE(redeemed.ok());
    CHECK(failure(redeemed).code == ErrorCode::Unauthorized);

    ConsoleTickets few(std::chrono::seconds(60), 2);
    REQUIRE(few.issue("local", "v", "x").ok());
    REQUIRE(few.issue("local", "v", "x").ok());
    CHECK(failure(few.issue("local", "v", "x")).code == ErrorCode::Unavailable);
}
