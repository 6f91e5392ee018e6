// SecretStore: the become password in RAM (set, replaced, cleared, copied for a run and wiped),
// and the redaction every output line goes through.
#include "paddock/core/secret_store.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace paddock;

TEST_CASE("secret store: set, copy, clear; refusals name no byte of the password", "[provisioning]") {
    SecretStore store;
    CHECK_FALSE(store.isSet());
    CHECK(store.copy().empty());
    CHECK_FALSE(store.setAt().has_value());

    REQUIRE(store.set("s3cr\xC3\xA9t pass").ok());
    CHECK(store.isSet());
    CHECK(store.setAt().has_value());
    {
        const SecretBytes copy = store.copy();
        CHECK(copy.view() == "s3cr\xC3\xA9t pass");
        CHECK(copy.bytes().size() == 12);
    }
    REQUIRE(store.set("second").ok());
    CHECK(store.copy().view() == "second");

    for (const std::string& bad : {std::string(), std::string(SecretStore::kMaxBytes + 1, 'a'),
                                   std::string("nul\0inside", 10), std::string("line\nbreak"),
                                   std::string("bad\xFFutf8")}) {
        const Status refused = store.set(bad);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().code == ErrorCode::InvalidArgument);
        if (bad.size() > 3) CHECK(refused.error().message.find(bad) == std::string::npos);
        CHECK(store.copy().view() == "second");  // a refusal keeps the one that was set
    }
    CHECK(store.set(std::string(SecretStore::kMaxBytes, 'z')).ok());

    CHECK(store.clear());
    CHECK_FALSE(store.isSet());
    CHECK(store.copy().empty());
    CHECK_FALSE(store.clear());
}

TEST_CASE("secret store: a copy moves, and is wiped when it goes", "[provisioning]") {
    SecretStore store;
    REQUIRE(store.set("topsecret").ok());
    SecretBytes a = store.copy();
    SecretBytes b = std::move(a);
    CHECK(a.empty());
    CHECK(b.view() == "topsecret");
    b = SecretBytes();
    CHECK(b.empty());
}

TEST_CASE("redaction: the password, raw or as JSON spells it, never survives a line", "[provisioning]") {
    CHECK(redactSecret("ok: [vm] => hunter2 here", "hunter2") == "ok: [vm] => ******** here");
    CHECK(redactSecret("hunter2hunter2", "hunter2") == "****************");
    CHECK(redactSecret("nothing to see", "hunter2") == "nothing to see");
    CHECK(redactSecret("with an empty secret", "") == "with an empty secret");
    // Quotes and backslashes as a JSON document shows them.
    CHECK(redactSecret(R"({"ansible_become_pass": "a\"b\\c"})", "a\"b\\c") ==
          R"({"ansible_become_pass": "********"})");
    // Non-ASCII: as-is, and as Python's json.dumps with ensure_ascii writes it.
    CHECK(redactSecret("pw: p\xC3\xA4ss", "p\xC3\xA4ss") == "pw: ********");
    CHECK(redactSecret(R"("p\u00e4ss")", "p\xC3\xA4ss") == R"("********")");
    CHECK(redactSecret(R"("\ud83d\ude00x")", "\xF0\x9F\x98\x80x") == R"("********")");
    // A control character JSON escapes.
    CHECK(redactSecret(R"("a\tb")", "a\tb") == R"("********")");
}
