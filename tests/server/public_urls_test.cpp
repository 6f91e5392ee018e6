// Absolute URLs handed to clients: server.public_url first, then what a trusted proxy forwards,
// then the listening address and the connection's scheme; never the client's own Host header.
#include "paddock/server/public_urls.hpp"

#include <catch2/catch.hpp>

using namespace paddock;
using namespace paddock::server;

namespace {

PublicUrls urls(const std::string& publicUrl, const std::vector<std::string>& proxies,
                const std::string& host = "127.0.0.1") {
    PublicUrls::Options options;
    options.public_url = publicUrl;
    for (const auto& p : proxies) options.trusted_proxies.push_back(IpNetwork::parse(p).value());
    options.listen_host = host;
    options.listen_port = 8000;
    return PublicUrls(options);
}

Request request(const std::string& peer, bool secure, std::map<std::string, std::string> headers = {}) {
    Request r;
    r.peer = peer;
    r.local = "10.1.2.3:8000";
    r.secure = secure;
    r.headers = std::move(headers);
    return r;
}

}  // namespace

TEST_CASE("public urls: the listening address and the connection's scheme, whatever Host says", "[public_urls]") {
    const auto u = urls("", {});
    const auto plain = request("192.0.2.7", false, {{"host", "evil.example.org"}, {"x-forwarded-proto", "https"}});
    CHECK(u.base(plain, false) == "http://127.0.0.1:8000");
    CHECK(u.base(plain, true) == "ws://127.0.0.1:8000");
    const auto tls = request("192.0.2.7", true, {{"host", "evil.example.org"}});
    CHECK(u.base(tls, false) == "https://127.0.0.1:8000");
    CHECK(u.base(tls, true) == "wss://127.0.0.1:8000");
    // On a wildcard address: the address the client connected to.
    CHECK(urls("", {}, "0.0.0.0").base(tls, false) == "https://10.1.2.3:8000");
    CHECK(urls("", {}, "::").base(plain, true) == "ws://10.1.2.3:8000");
    CHECK(urls("", {}, "::1").base(plain, false) == "http://[::1]:8000");
    CHECK(urls("", {}, "paddock.lab").base(tls, true) == "wss://paddock.lab:8000");
}

TEST_CASE("public urls: server.public_url wins over everything", "[public_urls]") {
    const auto u = urls("https://lab.example.org/paddock/", {"0.0.0.0/0"});
    const auto r =
        request("127.0.0.1", false, {{"x-forwarded-host", "other.example.org"}, {"x-forwarded-proto", "http"}});
    CHECK(u.base(r, false) == "https://lab.example.org/paddock");
    CHECK(u.base(r, true) == "wss://lab.example.org/paddock");
    CHECK(urls("http://10.0.0.5:9000", {}).base(r, true) == "ws://10.0.0.5:9000");
}

TEST_CASE("public urls: X-Forwarded-Proto and -Host only from trusted proxies, only when well-formed",
          "[public_urls]") {
    const auto u = urls("", {"10.0.0.0/8", "::1"});
    const std::map<std::string, std::string> forwarded{{"x-forwarded-proto", "https"},
                                                       {"x-forwarded-host", "lab.example.org"}};
    CHECK(u.base(request("10.9.8.7", false, forwarded), false) == "https://lab.example.org");
    CHECK(u.base(request("10.9.8.7", false, forwarded), true) == "wss://lab.example.org");
    CHECK(u.base(request("::ffff:10.9.8.7", false, forwarded), false) == "https://lab.example.org");
    CHECK(u.base(request("::1", false, forwarded), false) == "https://lab.example.org");
    CHECK(u.base(request("11.0.0.1", false, forwarded), false) == "http://127.0.0.1:8000");  // not a proxy of ours
    // The client-facing (first) entry of a chain; each header on its own.
    CHECK(u.base(request("10.0.0.1", false, {{"x-forwarded-proto", "HTTPS, http"}}), true) == "wss://127.0.0.1:8000");
    CHECK(u.base(request("10.0.0.1", true, {{"x-forwarded-host", "a.example.org:8443, b"}}), false) ==
          "https://a.example.org:8443");
    // Nonsense is ignored, never pasted into a URL.
    CHECK(u.base(request("10.0.0.1", false, {{"x-forwarded-proto", "javascript"}}), false) == "http://127.0.0.1:8000");
    CHECK(u.base(request("10.0.0.1", false, {{"x-forwarded-host", "evil.org/path?x"}}), false) ==
          "http://127.0.0.1:8000");
    CHECK(u.base(request("10.0.0.1", false, {{"x-forwarded-host", "a@b"}}), false) == "http://127.0.0.1:8000");
}
