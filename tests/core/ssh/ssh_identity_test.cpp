#include "paddock/core/ssh_identity.hpp"

#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

using namespace paddock;

TEST_CASE("the key pair is generated once, private key 0600", "[ssh_identity]") {
    test::TempDir dir;
    auto first = ensureSshIdentity(dir.path());
    REQUIRE(first.ok());
    CHECK(first->public_key.rfind("ssh-ed25519 ", 0) == 0);
    struct stat st {};
    REQUIRE(::stat(first->private_key_path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto second = ensureSshIdentity(dir.path());
    REQUIRE(second.ok());
    CHECK(second->public_key == first->public_key);
}

TEST_CASE("base64 matches the standard alphabet and padding", "[ssh_identity]") {
    CHECK(base64Encode("") == "");
    CHECK(base64Encode("f") == "Zg==");
    CHECK(base64Encode("fo") == "Zm8=");
    CHECK(base64Encode("foo") == "Zm9v");
    CHECK(base64Encode("foobar") == "Zm9vYmFy");
}
