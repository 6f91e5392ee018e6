#include "paddock/server/token_store.hpp"

#include "result_checks.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

using namespace paddock;
using namespace paddock::server;
using paddock::test::readFile;
using paddock::test::TempDir;
using paddock::test::writeFile;

TEST_CASE("owner tokens: minted, found by their secret only, listed without it, revoked", "[tokens]") {
    TempDir dir;
    auto store = TokenStore::open(dir.file("tokens.json"));
    REQUIRE(store.ok());
    auto alice = store.value()->mint("alice", "", Role::Operator, std::chrono::seconds(600), "admin");
    REQUIRE(alice.ok());
    CHECK(alice->secret.rfind("pdko_", 0) == 0);
    CHECK(alice->secret.size() == 5 + 64);
    CHECK(alice->token.id.rfind("tok-", 0) == 0);
    CHECK(alice->token.name == "owner:alice");
    CHECK(alice->token.expires_at - alice->token.created_at == std::chrono::seconds(600));
    auto bob = store.value()->mint("bob", "bob's browser", Role::Viewer, std::chrono::seconds(60), "admin");
    REQUIRE(bob.ok());

    const auto found = store.value()->find(alice->secret);
    REQUIRE(found);
    CHECK(found->owner == "alice");
    CHECK(found->role == Role::Operator);
    CHECK_FALSE(store.value()->find(alice->secret + "x"));
    CHECK_FALSE(store.value()->find(alice->secret.substr(0, alice->secret.size() - 1)));
    CHECK_FALSE(store.value()->find(""));
    CHECK_FALSE(store.value()->find(alice->token.id));  // the id is no secret

    CHECK(store.value()->list().size() == 2);
    REQUIRE(store.value()->list("bob").size() == 1);
    CHECK(store.value()->list("bob").front().name == "bob's browser");

    // On disk: hashes, never a secret, readable by paddockd's user only.
    const std::string file = readFile(dir.file("tokens.json"));
    CHECK(file.find(alice->secret) == std::string::npos);
    CHECK(file.find(bob->secret) == std::string::npos);
    CHECK(file.find(alice->secret.substr(5, 16)) == std::string::npos);
    CHECK(file.find("\"sha256\"") != std::string::npos);
    struct stat st {};
    REQUIRE(::stat(dir.file("tokens.json").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    // A new process reads them back.
    auto reopened = TokenStore::open(dir.file("tokens.json"));
    REQUIRE(reopened.ok());
    const auto again = reopened.value()->find(bob->secret);
    REQUIRE(again);
    CHECK(again->id == bob->token.id);
    CHECK(again->created_at == bob->token.created_at);
    CHECK(again->expires_at == bob->token.expires_at);
    CHECK(again->role == Role::Viewer);

    auto revoked = reopened.value()->revoke(alice->token.id);
    REQUIRE(revoked.ok());
    CHECK(revoked->owner == "alice");
    CHECK_FALSE(reopened.value()->find(alice->secret));
    CHECK(failure(reopened.value()->revoke(alice->token.id)).code == ErrorCode::NotFound);
    auto third = TokenStore::open(dir.file("tokens.json"));
    REQUIRE(third.ok());
    CHECK_FALSE(third.value()->find(alice->secret));
    CHECK(third.value()->find(bob->secret));
}

TEST_CASE("owner tokens refuse bad owners, names and lifetimes", "[tokens]") {
    TempDir dir;
    auto store = TokenStore::open(dir.file("tokens.json"));
    REQUIRE(store.ok());
    TokenStore& s = *store.value();
    const auto hour = std::chrono::seconds(3600);
    CHECK(failure(s.mint("", "", Role::Operator, hour, "a")).code == ErrorCode::InvalidArgument);
    CHECK(failure(s.mint(std::string(129, 'a'), "", Role::Operator, hour, "a")).code == ErrorCode::InvalidArgument);
    CHECK(failure(s.mint("al\x85ice", "", Role::Operator, hour, "a")).code == ErrorCode::InvalidArgument);
    CHECK(failure(s.mint("alice", "line\nbreak", Role::Operator, hour, "a")).code == ErrorCode::InvalidArgument);
    CHECK(failure(s.mint("alice", "", Role::Operator, std::chrono::seconds(59), "a")).code ==
          ErrorCode::InvalidArgument);
    CHECK(failure(s.mint("alice", "", Role::Operator, TokenStore::kMaxTtl + std::chrono::seconds(1), "a")).code ==
          ErrorCode::InvalidArgument);
    CHECK(s.list().empty());
}

TEST_CASE("a token file from an earlier run: expired entries are dropped, a broken file is named", "[tokens]") {
    TempDir dir;
    const std::string path = dir.file("tokens.json");
    const std::string hash(64, 'a');
    writeFile(path, R"({"version":1,"tokens":[)"
                    R"({"id":"tok-old","name":"n","owner":"alice","role":"operator","created_by":"admin",)"
                    R"("created_at":"2020-01-01T00:00:00Z","expires_at":"2020-01-01T01:00:00Z","sha256":")" +
                        hash +
                        R"("},)"
                        R"({"id":"tok-live","name":"n","owner":"bob","role":"viewer","created_by":"admin",)"
                        R"("created_at":"2020-01-01T00:00:00Z","expires_at":"2200-01-01T00:00:00Z","sha256":")" +
                        hash.substr(1) + "b" + R"("}]})");
    auto store = TokenStore::open(path);
    REQUIRE(store.ok());
    const auto live = store.value()->list();
    REQUIRE(live.size() == 1);
    CHECK(live.front().id == "tok-live");

    writeFile(path, R"({"version":1,"tokens":[{"id":"tok-x"}]})");
    auto broken = TokenStore::open(path);
    CHECK(failure(broken).code == ErrorCode::InvalidArgument);
    CHECK_THAT(failure(broken).message, Catch::Contains(path));
    writeFile(path, "[[[[");
    CHECK(failure(TokenStore::open(path)).code == ErrorCode::InvalidArgument);
    // An entry that is no object (found by fuzzing: reading its fields was undefined behaviour).
    for (const char* entries : {"[2]", "[null]", "[\"tok\"]", "[[]]"}) {
        INFO(entries);
        writeFile(path, std::string(R"({"version":1,"tokens":)") + entries + "}");
        auto odd = TokenStore::open(path);
        CHECK(failure(odd).code == ErrorCode::InvalidArgument);
        CHECK_THAT(failure(odd).message, Catch::Contains("not an object"));
    }
}
