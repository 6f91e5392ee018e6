// HTTP/1.1 framing without sockets: heads, bodies, responses, the WebSocket handshake.
#include "paddock/server/http_wire.hpp"

#include "result_checks.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>

using namespace paddock;
using namespace paddock::server;
using Catch::Matchers::Contains;

namespace {

wire::RequestHead head(const std::string& text) {
    auto parsed = wire::parseHead(text);
    INFO((parsed ? std::string() : parsed.error().message));
    REQUIRE(parsed.ok());
    return parsed.value();
}

std::string headError(const std::string& text) { return failure(wire::parseHead(text)).message; }

}  // namespace

TEST_CASE("wire: the end of a head is found whatever arrived so far", "[wire]") {
    CHECK_FALSE(wire::headEnd("").has_value());
    CHECK_FALSE(wire::headEnd("GET / HTTP/1.1\r\nHost: x\r\n").has_value());
    CHECK(wire::headEnd("GET / HTTP/1.1\r\nHost: x\r\n\r\n") == 27u);
    CHECK(wire::headEnd("GET / HTTP/1.1\r\n\r\nnext") == 18u);
    CHECK(wire::headEnd("GET / HTTP/1.1\n\n") == 16u);  // lenient clients
    CHECK_FALSE(wire::headEnd("\r\n\r").has_value());
}

TEST_CASE("wire: heads give method, target, version, headers and framing", "[wire]") {
    const auto get = head("GET /api/v1/vms?site=a HTTP/1.1\r\nHost: h\r\nX-Two: 1\r\nx-two: 2\r\n\r\n");
    CHECK(get.method == "GET");
    CHECK(get.target == "/api/v1/vms?site=a");
    CHECK(get.version == "HTTP/1.1");
    CHECK(get.keep_alive);
    CHECK_FALSE(get.hasBody());
    CHECK(get.header("host") == "h");
    CHECK(get.header("X-TWO") == "1");  // the first of repeated fields

    const auto post =
        head("POST /x HTTP/1.1\r\nContent-Length: 12\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n");
    CHECK(post.content_length == 12u);
    CHECK(post.expect_continue);
    CHECK_FALSE(post.keep_alive);
    CHECK(post.hasBody());

    const auto chunked = head("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    CHECK(chunked.chunked);
    CHECK_FALSE(chunked.content_length.has_value());

    CHECK_FALSE(head("GET / HTTP/1.0\r\n\r\n").keep_alive);
    CHECK(head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
    CHECK(head("POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n").content_length == 5u);
}

TEST_CASE("wire: malformed or ambiguous heads are refused with a reason", "[wire][hostile]") {
    CHECK_THAT(headError("GARBAGE\r\n\r\n"), Contains("malformed"));
    CHECK_THAT(headError("GET / HTTP/2.0\r\n\r\n"), Contains("unsupported HTTP version"));
    CHECK_THAT(headError("GET / SPDY/3\r\n\r\n"), Contains("HTTP"));
    CHECK_THAT(headError("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
               Contains("conflicting Content-Length"));
    CHECK_THAT(headError("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
               Contains("both Content-Length and Transfer-Encoding"));
    CHECK_THAT(headError("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
               Contains("unsupported Transfer-Encoding"));
    CHECK_THAT(headError("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), Contains("not a decimal number"));
    CHECK_THAT(headError("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
               Contains("not a decimal number"));
    CHECK_THAT(headError("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n"), Contains("not a decimal number"));
    CHECK_THAT(headError("GET / HTTP/1.1\r\nno colon here\r\n\r\n"), Contains("malformed"));
    CHECK_THAT(headError(std::string("GET /") + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n"), Contains("malformed"));
    std::string manyFields = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 200; ++i) manyFields += "X-" + std::to_string(i) + ": v\r\n";
    CHECK_THAT(headError(manyFields + "\r\n"), Contains("malformed"));
}

TEST_CASE("wire: chunked bodies decode across any split of the input", "[wire]") {
    const std::string encoded = "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    for (size_t step = 1; step <= encoded.size(); ++step) {
        INFO("step " << step);
        wire::ChunkedDecoder decoder(1024);
        std::string body;
        std::string pending;
        bool finished = false;
        size_t fed = 0;
        while (!finished && fed < encoded.size()) {
            pending += encoded.substr(fed, step);
            fed += step;
            std::string_view input(pending);
            auto r = decoder.feed(input, body);
            REQUIRE(r.ok());
            finished = r.value();
            pending = std::string(input);
        }
        REQUIRE(finished);
        CHECK(body == "hello, world");
        CHECK(pending + encoded.substr(std::min(fed, encoded.size())) == "NEXT");
    }
}

TEST_CASE("wire: chunked bodies are bounded and their framing checked", "[wire][hostile]") {
    const auto decode = [](const std::string& text, uint64_t limit) {
        wire::ChunkedDecoder decoder(limit);
        std::string body;
        std::string_view input(text);
        return decoder.feed(input, body);
    };
    CHECK(failure(decode("10\r\n", 8)).code == ErrorCode::PayloadTooLarge);
    CHECK(failure(decode("4\r\nabcd\r\n5\r\n", 8)).code == ErrorCode::PayloadTooLarge);
    CHECK(failure(decode("zz\r\n", 8)).code == ErrorCode::InvalidArgument);
    CHECK(failure(decode("\r\n", 8)).code == ErrorCode::InvalidArgument);
    CHECK(failure(decode("ffffffffffffffffffff\r\n", 8)).code == ErrorCode::InvalidArgument);
    CHECK(failure(decode("2\r\nabXY", 8)).code == ErrorCode::InvalidArgument);  // data not followed by CRLF
    CHECK(failure(decode(std::string(2000, '1'), 1u << 30)).code == ErrorCode::InvalidArgument);
    CHECK(decode("2\r\nab", 8).value() == false);  // more to come

    // A size line (or trailer) over its limit is refused whether its newline came with it or not,
    // so the answer does not depend on how the body was split into reads (a fuzzing finding).
    const std::string longLine = std::string(1100, 'f') + ";x\r\n";
    CHECK_THAT(failure(decode(longLine, 1u << 30)).message, Contains("chunk size line too long"));
    CHECK_THAT(failure(decode("0\r\n" + std::string(9000, 't') + "\r\n\r\n", 8)).message,
               Contains("trailer field too long"));
}

TEST_CASE("wire: responses carry length, connection and the route's headers", "[wire]") {
    Response r = jsonResponse(201, R"({"ok":true})");
    r.headers.emplace_back("Location", "/api/v1/vms/a");
    const std::string text = wire::serializeResponse(r, false, true, "paddockd/1");
    CHECK(text.rfind("HTTP/1.1 201 Created\r\n", 0) == 0);
    CHECK_THAT(text, Contains("Content-Type: application/json\r\n"));
    CHECK_THAT(text, Contains("Content-Length: 11\r\n"));
    CHECK_THAT(text, Contains("Connection: keep-alive\r\n"));
    CHECK_THAT(text, Contains("Location: /api/v1/vms/a\r\n"));
    CHECK_THAT(text, Contains("Server: paddockd/1\r\n"));
    CHECK(text.substr(text.size() - 15) == "\r\n\r\n{\"ok\":true}");

    const std::string headOnly = wire::serializeResponse(r, true, false, "");
    CHECK_THAT(headOnly, Contains("Content-Length: 11\r\n"));
    CHECK_THAT(headOnly, Contains("Connection: close\r\n"));
    CHECK(headOnly.substr(headOnly.size() - 4) == "\r\n\r\n");

    // A shared (kept) body is sent instead of `body`, and stays as it was for the next answer.
    Response shared = jsonResponse(200, "ignored");
    shared.sharedBody = std::make_shared<const std::string>(R"({"vms":[]})");
    const std::string sharedText = wire::serializeResponse(shared, false, true, "");
    CHECK_THAT(sharedText, Contains("Content-Length: 10\r\n"));
    CHECK(sharedText.substr(sharedText.size() - 14) == "\r\n\r\n{\"vms\":[]}");
    CHECK_THAT(sharedText, !Contains("ignored"));
    CHECK(*shared.sharedBody == R"({"vms":[]})");
    const std::string sharedHead = wire::serializeResponse(shared, true, true, "");
    CHECK_THAT(sharedHead, Contains("Content-Length: 10\r\n"));
    CHECK(sharedHead.substr(sharedHead.size() - 4) == "\r\n\r\n");
}

TEST_CASE("wire: a response splits into its head and the body that follows it", "[wire]") {
    const auto body = std::make_shared<const std::string>(std::string(5000, 'v'));
    Response shared = jsonResponse(200, "ignored");
    shared.sharedBody = body;
    shared.headers.emplace_back("ETag", "\"t\"");
    const std::string head = wire::serializeHead(shared, true, "paddockd");
    CHECK(head.substr(head.size() - 4) == "\r\n\r\n");
    CHECK_THAT(head, Contains("Content-Length: 5000\r\n"));
    CHECK_THAT(head, Contains("ETag: \"t\"\r\n"));
    // The body is a view of the kept text itself, not a copy.
    CHECK(wire::responseBody(shared, false).data() == body->data());
    CHECK(wire::responseBody(shared, false).size() == 5000u);
    // Head and body are exactly what serializeResponse writes, for a GET and for a HEAD.
    for (const bool headRequest : {false, true}) {
        CAPTURE(headRequest);
        CHECK(wire::serializeHead(shared, true, "paddockd") + std::string(wire::responseBody(shared, headRequest)) ==
              wire::serializeResponse(shared, headRequest, true, "paddockd"));
    }
    CHECK(wire::responseBody(shared, true).empty());  // HEAD: the length says 5000, nothing follows

    Response plain = jsonResponse(200, R"({"a":1})");
    CHECK(wire::responseBody(plain, false) == R"({"a":1})");
    CHECK(wire::serializeHead(plain, false, "") + R"({"a":1})" == wire::serializeResponse(plain, false, false, ""));

    // Statuses without a body: no Content-Type or Content-Length, nothing after the head, even
    // when the response carries one (a 304 made from a kept listing).
    for (const int status : {101, 204, 304}) {
        CAPTURE(status);
        Response none = jsonResponse(status, "dropped");
        none.sharedBody = body;
        const std::string noneHead = wire::serializeHead(none, true, "");
        CHECK_THAT(noneHead, !Contains("Content-Length"));
        CHECK_THAT(noneHead, !Contains("Content-Type"));
        CHECK(wire::responseBody(none, false).empty());
        CHECK(wire::serializeResponse(none, false, true, "") == noneHead);
    }

    // A streamed response: its head only (the pieces follow through framedBody).
    Response streamed;
    streamed.stream = [](std::string&) -> Result<bool> { return false; };
    streamed.sharedBody = body;  // ignored, as `body` is
    CHECK(wire::responseBody(streamed, false).empty());
    CHECK_THAT(wire::serializeHead(streamed, true, ""), Contains("Transfer-Encoding: chunked\r\n"));
    CHECK(wire::serializeResponse(streamed, false, true, "") == wire::serializeHead(streamed, true, ""));
}

TEST_CASE("wire: the WebSocket handshake follows RFC 6455", "[wire][websocket]") {
    const std::string ok =
        "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    // The example of RFC 6455 section 1.3.
    CHECK(wire::websocketAccept(head(ok)).value() == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    const std::string response = wire::websocketHandshakeResponse("abc", "");
    CHECK(response.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0) == 0);
    CHECK_THAT(response, Contains("Sec-WebSocket-Accept: abc\r\n"));

    const auto refusal = [&](const std::string& from, const std::string& to) {
        std::string text = ok;
        text.replace(text.find(from), from.size(), to);
        return failure(wire::websocketAccept(head(text))).message;
    };
    CHECK_THAT(refusal("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), Contains("13 is required"));
    CHECK_THAT(refusal("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ="), Contains("16 bytes"));
    CHECK_THAT(refusal("dGhlIHNhbXBsZSBub25jZQ==", "!!!"), Contains("16 bytes"));
    // Poco's decoder throws past the 16th byte (tests/fuzz http_wire seed
    // finding_base64_error_mid_key.txt); the handshake is refused like any bad key.
    CHECK_THAT(refusal("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQSec=="), Contains("16 bytes"));
    CHECK_THAT(refusal("Upgrade: websocket", "Upgrade: h2c"), Contains("Upgrade: websocket"));
    CHECK_THAT(refusal("Connection: keep-alive, Upgrade", "Connection: keep-alive"), Contains("Connection: upgrade"));
    CHECK_THAT(refusal("GET /ws", "POST /ws"), Contains("GET"));
    CHECK_THAT(refusal("HTTP/1.1", "HTTP/1.0"), Contains("HTTP/1.1"));
}

TEST_CASE("wire: a Prefer header names a preference among others, without case or values", "[wire][hostile]") {
    CHECK(wire::preferHeaderNames("respond-async", "respond-async"));
    CHECK(wire::preferHeaderNames("handling=lenient, RESPOND-ASYNC; foo=bar, wait=10", "respond-async"));
    CHECK(wire::preferHeaderNames(" \trespond-async\t;x", "respond-async"));
    CHECK(wire::preferHeaderNames("respond-async=1", "respond-async"));
    CHECK_FALSE(wire::preferHeaderNames("", "respond-async"));
    CHECK_FALSE(wire::preferHeaderNames("respond-asyncx, respond", "respond-async"));
    CHECK_FALSE(wire::preferHeaderNames("\"respond-async\"", "respond-async"));
    CHECK_FALSE(wire::preferHeaderNames("wait=respond-async", "respond-async"));
    CHECK_FALSE(wire::preferHeaderNames(",,;;==,", "respond-async"));
    CHECK_FALSE(wire::preferHeaderNames(std::string(100000, ','), "respond-async"));
}
