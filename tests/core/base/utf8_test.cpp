#include "paddock/core/utf8.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace paddock;

TEST_CASE("utf8: validity and replacement of whole strings", "[utf8]") {
    CHECK(isValidUtf8(""));
    CHECK(isValidUtf8("plain ascii"));
    CHECK(isValidUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));                                        // é € 😀
    for (const std::string& bad : {std::string("\xff"), std::string("\xc3"), std::string("\xc0\xaf"),  // overlong
                                   std::string("\xed\xa0\x80"),                                        // surrogate
                                   std::string("\xf4\x90\x80\x80"),                                    // > U+10FFFF
                                   std::string("\xe2\x82")}) {
        INFO(bad.size());
        CHECK_FALSE(isValidUtf8(bad));
        CHECK(isValidUtf8(toValidUtf8(bad)));
    }
    CHECK(toValidUtf8("a\xffz") == "a\xEF\xBF\xBDz");
    CHECK(toValidUtf8("caf\xc3\xa9") == "caf\xc3\xa9");
    CHECK(toValidUtf8("end\xe2\x82") == "end\xEF\xBF\xBD");
}
