// The TLS context paddockd makes from server.tls: a certificate made for the test loads; files
// that cannot serve are refused with the config key at fault named.
#include "paddock/server/tls.hpp"

#include "test_support.hpp"
#include "test_tls.hpp"

#include <catch2/catch.hpp>

using namespace paddock;
using namespace paddock::server;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

TEST_CASE("tls context: a certificate and its key load", "[tls]") {
    test::TempDir dir;
    const auto cert = test::makeTestCertificate(dir.path());
    auto context = TlsContext::load(TlsConfig{cert.cert, cert.key});
    INFO((context.ok() ? std::string() : context.error().message));
    REQUIRE(context.ok());
    CHECK_THAT(context.value()->summary(), Contains("CN=127.0.0.1") && Contains("valid until"));
    CHECK_FALSE(context.value()->expired());
}

TEST_CASE("tls context: unusable files name the key at fault", "[tls]") {
    test::TempDir dir;
    const auto cert = test::makeTestCertificate(dir.path(), "one");
    const auto other = test::makeTestCertificate(dir.path(), "two");
    const std::string junk = dir.file("junk.pem");
    test::writeFile(junk, "this is not PEM\n");

    auto badCert = TlsContext::load(TlsConfig{junk, cert.key});
    REQUIRE_FALSE(badCert.ok());
    CHECK(badCert.error().code == ErrorCode::InvalidArgument);
    CHECK_THAT(badCert.error().message, StartsWith("server.tls.cert: ") && Contains(junk));

    auto badKey = TlsContext::load(TlsConfig{cert.cert, junk});
    REQUIRE_FALSE(badKey.ok());
    CHECK_THAT(badKey.error().message, StartsWith("server.tls.key: ") && Contains(junk));

    auto mismatch = TlsContext::load(TlsConfig{cert.cert, other.key});
    REQUIRE_FALSE(mismatch.ok());
    CHECK_THAT(mismatch.error().message, StartsWith("server.tls.key: ") && Contains(other.key));
}
