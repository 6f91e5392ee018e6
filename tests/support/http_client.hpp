// A minimal blocking HTTP(S) client for tests (Poco), against servers on loopback.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace paddock::test {

struct HttpReply {
    int status = 0;
    std::string body;
    std::string content_type;
    std::map<std::string, std::string> headers;

    // The body parsed as JSON; throws std::runtime_error (with the body) when it is not JSON.
    rapidjson::Document json() const;
    // The "code" of a {"error":{"code","message"}} body, or "" when the body is not one.
    std::string errorCode() const;
    // The message of a FastAPI error body {"detail": "<message>"} (nothing else in it), or nullopt
    // when the body is not one.
    std::optional<std::string> detail() const;
    // A response header's value, or "" when absent.
    std::string header(const std::string& name) const;
};

// The string `value` holds; fails the test (REQUIRE) when it holds something else.
std::string jsonString(const rapidjson::Value& value);

struct HttpOptions {
    std::string token;  // sent as a bearer token when set
    std::optional<std::string> body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    bool chunked = false;  // send the body chunked, no Content-Length
    int timeout_s = 120;
    std::string ca_file;  // set: HTTPS, trusting only this CA (test_tls.hpp)
};

HttpReply httpRequest(uint16_t port, const std::string& method, const std::string& path,
                      const HttpOptions& options = {});

}  // namespace paddock::test
