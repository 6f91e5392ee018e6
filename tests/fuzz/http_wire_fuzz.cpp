// server http_wire: what the connection server does with the bytes a client sends (and the input
// as a Prefer header, wire::preferHeaderNames). headEnd finds
// the head, parseHead parses it (and websocketAccept answers an upgrade), and the bytes after it
// go through ChunkedDecoder::feed as they would arrive: whole, in pieces and byte by byte, which
// must all decode the same body, end at the same byte and fail the same way. A response made of
// the input splits into a head and a body that together are what serializeResponse writes.
#include "fuzz_support.hpp"

#include "paddock/server/http_wire.hpp"

#include <memory>

namespace {

using namespace paddock;
using namespace paddock::server;

struct Decoded {
    enum class State { More, Done, Failed } state = State::More;
    std::string body;
    std::string rest;   // input after the final chunk and trailer (Done)
    std::string error;  // Failed
};

// Feeds `parts` as the connection server does: what the decoder leaves is kept and the next
// arrival is appended to it.
Decoded decode(const std::vector<std::string_view>& parts, uint64_t limit) {
    wire::ChunkedDecoder decoder(limit);
    Decoded out;
    std::string buffer;
    for (size_t i = 0; i < parts.size(); ++i) {
        buffer.append(parts[i]);
        std::string_view input(buffer);
        auto finished = decoder.feed(input, out.body);
        buffer.erase(0, buffer.size() - input.size());
        if (!finished) {
            out.state = Decoded::State::Failed;
            out.error = std::string(errorCodeId(finished.error().code)) + ": " + finished.error().message;
            return out;
        }
        if (finished.value()) {
            out.state = Decoded::State::Done;
            out.rest = buffer;
            for (size_t k = i + 1; k < parts.size(); ++k) out.rest.append(parts[k]);
            return out;
        }
    }
    out.rest = buffer;
    return out;
}

void checkSame(const Decoded& a, const Decoded& b) {
    FUZZ_CHECK(a.state == b.state);
    FUZZ_CHECK(a.error == b.error);
    if (a.state == Decoded::State::Done) {
        FUZZ_CHECK(a.body == b.body);
        FUZZ_CHECK(a.rest == b.rest);
    }
}

void checkChunked(std::string_view bytes, uint64_t limit) {
    const Decoded whole = decode({bytes}, limit);
    FUZZ_CHECK(whole.body.size() <= limit);
    checkSame(whole, decode(fuzz::pieces(bytes), limit));
    checkSame(whole, decode(fuzz::bytewise(bytes), limit));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input = fuzz::asText(data, size);

    const auto end = wire::headEnd(input);
    if (end) {
        FUZZ_CHECK(*end >= 2 && *end <= input.size());
        const std::string_view head = input.substr(0, *end);
        FUZZ_CHECK(head.ends_with("\n\n") || head.ends_with("\n\r\n"));
        FUZZ_CHECK(!wire::headEnd(head.substr(0, *end - 1)));  // the first empty line, not a later one
    }

    const auto head = wire::parseHead(end ? input.substr(0, *end) : input);
    if (head) {
        FUZZ_CHECK(head->version == "HTTP/1.1" || head->version == "HTTP/1.0");
        FUZZ_CHECK(!head->method.empty() && !head->target.empty());
        FUZZ_CHECK(!(head->chunked && head->content_length));  // never both: request smuggling
        const auto accept = wire::websocketAccept(head.value());
        if (accept) {
            FUZZ_CHECK(accept->size() == 28);  // base64 of a SHA-1
            FUZZ_CHECK(wire::websocketHandshakeResponse(accept.value(), "paddock").ends_with("\r\n\r\n"));
        }
    }

    // The whole input as a Prefer header value: a match names the token somewhere, in any case.
    if (wire::preferHeaderNames(input, "respond-async")) {
        std::string lower(input);
        for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        FUZZ_CHECK(lower.find("respond-async") != std::string::npos);
    }

    // What follows a head is the body; without a head the whole input stands for one.
    const std::string_view body = end ? input.substr(*end) : input;
    checkChunked(body, 1024 * 1024);  // server.max_body_bytes by default
    checkChunked(body, 16);           // small enough that inputs reach it

    // The head sent before a body kept elsewhere (a shared listing) and that body are the bytes
    // of the whole response, for any status, GET or HEAD.
    Response response =
        jsonResponse(100 + (input.empty() ? 100 : static_cast<uint8_t>(input[0]) * 2), std::string(body));
    if (size % 2 == 1) response.sharedBody = std::make_shared<const std::string>(input);
    const std::string responseHead = wire::serializeHead(response, size % 3 == 0, "paddockd");
    FUZZ_CHECK(responseHead.ends_with("\r\n\r\n"));
    for (const bool headRequest : {false, true}) {
        const std::string_view sent = wire::responseBody(response, headRequest);
        FUZZ_CHECK(responseHead + std::string(sent) ==
                   wire::serializeResponse(response, headRequest, size % 3 == 0, "paddockd"));
        FUZZ_CHECK(sent.empty() || (!headRequest && wire::statusHasBody(response.status)));
    }
    return 0;
}
