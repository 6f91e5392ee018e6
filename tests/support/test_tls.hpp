// TLS for tests: a certificate made at run time, and client contexts that trust only it.
#pragma once

#include <Poco/Net/Context.h>

#include <string>

namespace paddock::test {

struct TestCertificate {
    std::string cert;  // PEM, self-signed for IP 127.0.0.1 and DNS localhost; clients use it as their CA file
    std::string key;   // PEM private key (EC P-256, unencrypted)
};

// Writes <dir>/<name>.crt and <dir>/<name>.key with the openssl CLI, valid for a day. Throws
// (with openssl's output) when that fails.
TestCertificate makeTestCertificate(const std::string& dir, const std::string& name = "server");

// A Poco client context that trusts `caFile` only and checks the server's certificate (and its
// name against the host connected to). For HTTPSClientSession and WebSockets over it (WSS).
Poco::Net::Context::Ptr clientTlsContext(const std::string& caFile);

}  // namespace paddock::test
