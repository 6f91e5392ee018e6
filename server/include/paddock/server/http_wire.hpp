// HTTP/1.1 on the wire, as pure functions over buffers: finding and parsing a request head
// (Poco's HTTPRequest::read does the line and field parsing, with its own limits), framing the
// body (Content-Length or chunked, decoded incrementally), serialising a response, and the
// WebSocket opening handshake (RFC 6455 section 4.2). No I/O, no state beyond the decoder's:
// the connection server feeds these whatever arrived, and the fuzz targets feed them anything.
#pragma once

#include "paddock/core/result.hpp"
#include "paddock/server/http_types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace paddock::server::wire {

struct RequestHead {
    std::string method;
    std::string target;                                        // the request-target as sent
    std::string version;                                       // "HTTP/1.1" or "HTTP/1.0"
    std::vector<std::pair<std::string, std::string>> headers;  // in order, names as sent
    std::optional<uint64_t> content_length;                    // a body of this many bytes
    bool chunked = false;                                      // a chunked body (no content_length)
    bool keep_alive = true;                                    // the client allows another request
    bool expect_continue = false;                              // "Expect: 100-continue"

    // The first value of a header (name compared without case), or nullopt.
    std::optional<std::string> header(std::string_view name) const;
    bool hasBody() const noexcept { return chunked || content_length.value_or(0) > 0; }
};

// Where the head ends: the offset just past its empty line ("\r\n\r\n", or "\n\n" from lenient
// clients), or nullopt while it is incomplete.
std::optional<size_t> headEnd(std::string_view buffer) noexcept;

// Parses a complete head (through the empty line). InvalidArgument saying what is wrong for a
// malformed line or field, an unsupported version or transfer coding, a negative or non-numeric
// Content-Length, several different Content-Lengths, or both Content-Length and chunked coding
// (request smuggling).
Result<RequestHead> parseHead(std::string_view head);

// A chunked request body, decoded as it arrives. Chunk extensions are ignored; trailer fields
// are read and dropped.
class ChunkedDecoder {
public:
    // `limit`: the most body bytes accepted (PayloadTooLarge beyond).
    explicit ChunkedDecoder(uint64_t limit) : limit_(limit) {}

    // Consumes what it can from the front of `input` (advancing it), appending body bytes to
    // `body`. True once the final chunk and its trailer have been read; false when more input
    // is needed. InvalidArgument for malformed framing.
    Result<bool> feed(std::string_view& input, std::string& body);

private:
    enum class Phase { Size, Data, DataEnd, Trailer, Done };
    Phase phase_ = Phase::Size;
    uint64_t remaining_ = 0;  // bytes left in the current chunk
    uint64_t limit_;
    uint64_t total_ = 0;
};

// The head of a response, through its empty line: status line, Content-Type (when a body may
// follow), Content-Length (of the whole body, also for a HEAD request), Connection, and the
// response's own headers. A streamed response (Response::stream) is framed
// `Transfer-Encoding: chunked`, or with `chunked` false (an HTTP/1.0 client) by the close: no
// length and Connection: close, whatever `keepAlive` says; its pieces follow through framedBody().
std::string serializeHead(const Response& response, bool keepAlive, std::string_view server, bool chunked = true);

// The body bytes that follow serializeHead()'s on the wire: Response::sharedBody when set, else
// Response::body. Empty for a HEAD request, a status without a body (statusHasBody) and a
// streamed response. A view into `response` (or its shared body): valid while that lives.
std::string_view responseBody(const Response& response, bool headRequest) noexcept;

// serializeHead() and responseBody() as one string (the body copied after the head).
std::string serializeResponse(const Response& response, bool headRequest, bool keepAlive, std::string_view server,
                              bool chunked = true);

// Whether a response of `status` carries a body: not 1xx, 204 or 304.
bool statusHasBody(int status) noexcept;

// `source` as the bytes that follow its head on the wire: each piece as a chunk
// ("<hex size>\r\n<piece>\r\n") and the last chunk after the last piece, or with `chunked` false
// the pieces as they are. An empty piece ends the body even when the source says more follows
// (it would otherwise be asked again for nothing, forever).
BodySource framedBody(BodySource source, bool chunked);

// "HTTP/1.1 100 Continue\r\n\r\n".
std::string_view continueResponse() noexcept;

// Whether a Prefer header value (RFC 7240: preferences separated by commas, each a token with an
// optional "=value" and ";parameters") names the preference `token`; tokens compare
// case-insensitively, values and parameters are ignored, anything malformed simply does not match.
bool preferHeaderNames(std::string_view header, std::string_view token) noexcept;

// Checks an upgrade request as RFC 6455 requires (GET, HTTP/1.1, Upgrade: websocket,
// Connection: upgrade, Sec-WebSocket-Version: 13, a 16-byte base64 Sec-WebSocket-Key) and
// returns the Sec-WebSocket-Accept value for it. InvalidArgument naming what is missing.
Result<std::string> websocketAccept(const RequestHead& head);

// The 101 answer completing the handshake.
std::string websocketHandshakeResponse(std::string_view accept, std::string_view server);

}  // namespace paddock::server::wire
