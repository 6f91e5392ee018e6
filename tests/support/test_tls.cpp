#include "test_tls.hpp"

#include "daemon_process.hpp"

#include <stdexcept>

namespace paddock::test {

TestCertificate makeTestCertificate(const std::string& dir, const std::string& name) {
    TestCertificate made{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
    const std::string command =
        "exec openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
        " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost"
        " -keyout '" +
        made.key + "' -out '" + made.cert + "'";
    std::string output;
    const int code = runToCompletion({"/bin/sh", "-c", command}, output, dir + "/" + name + "-openssl.log");
    if (code != 0) throw std::runtime_error("openssl req failed (" + std::to_string(code) + "): " + output);
    return made;
}

Poco::Net::Context::Ptr clientTlsContext(const std::string& caFile) {
    Poco::Net::Context::Params params;
    params.caLocation = caFile;
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    params.loadDefaultCAs = false;
    return new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
}

}  // namespace paddock::test
