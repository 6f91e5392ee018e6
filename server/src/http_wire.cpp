#include "paddock/server/http_wire.hpp"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/SHA1Engine.h>
#include <Poco/String.h>

#include <charconv>
#include <cstdio>
#include <sstream>

namespace paddock::server::wire {

namespace {

constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr size_t kMaxChunkSizeLine = 1024;
constexpr size_t kMaxTrailerLine = 8192;

Error bad(std::string message) { return makeError(ErrorCode::InvalidArgument, std::move(message)); }

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// True when the comma-separated header value lists `token` (without case). With `cutAt`, each
// element ends before the first of those characters (a preference's "=value" and ";parameters").
bool listsToken(std::string_view value, std::string_view token, std::string_view cutAt = {}) noexcept {
    while (!value.empty()) {
        const size_t comma = value.find(',');
        const std::string_view element = value.substr(0, comma);
        if (iequals(trim(element.substr(0, element.find_first_of(cutAt))), token)) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

std::optional<uint64_t> parseDecimal(std::string_view text) {
    text = trim(text);
    uint64_t value = 0;
    if (text.empty()) return std::nullopt;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// RFC 9110 token characters (field names, methods).
bool isToken(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (const char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
        if (!ok) return false;
    }
    return true;
}

// One line (without its CRLF or LF) from the front of `input`, or nullopt while incomplete.
std::optional<std::string_view> takeLine(std::string_view& input) {
    const size_t lf = input.find('\n');
    if (lf == std::string_view::npos) return std::nullopt;
    std::string_view line = input.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    input.remove_prefix(lf + 1);
    return line;
}

}  // namespace

std::optional<std::string> RequestHead::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (iequals(key, name)) return value;
    return std::nullopt;
}

std::optional<size_t> headEnd(std::string_view buffer) noexcept {
    for (size_t i = buffer.find('\n'); i != std::string_view::npos; i = buffer.find('\n', i + 1)) {
        if (i + 1 < buffer.size() && buffer[i + 1] == '\n') return i + 2;
        if (i + 2 < buffer.size() && buffer[i + 1] == '\r' && buffer[i + 2] == '\n') return i + 3;
    }
    return std::nullopt;
}

Result<RequestHead> parseHead(std::string_view text) {
    // Poco skips field lines it cannot read; a request with one is refused instead, so that
    // what Paddock acts on is what a proxy in front of it would have seen.
    std::string_view lines = text;
    (void)takeLine(lines);  // the request line, checked by Poco below
    while (const auto line = takeLine(lines)) {
        if (line->empty()) break;
        if (line->front() == ' ' || line->front() == '\t') return bad("folded header lines are not accepted");
        const size_t colon = line->find(':');
        if (colon == std::string_view::npos || !isToken(line->substr(0, colon)))
            return bad("malformed header field '" + std::string(line->substr(0, 64)) + "'");
    }
    Poco::Net::HTTPRequest request;
    try {
        std::istringstream in{std::string(text)};
        request.read(in);
    } catch (const Poco::Exception& e) {
        return bad("malformed request head: " + e.displayText());
    }
    RequestHead head;
    head.method = request.getMethod();
    head.target = request.getURI();
    head.version = request.getVersion();
    if (head.version != Poco::Net::HTTPMessage::HTTP_1_1 && head.version != Poco::Net::HTTPMessage::HTTP_1_0)
        return bad("unsupported HTTP version '" + head.version.substr(0, 16) + "' (HTTP/1.1 or HTTP/1.0)");
    if (!isToken(head.method) || head.target.empty()) return bad("malformed request line");
    for (const auto& [name, value] : request) {
        if (!isToken(name)) return bad("malformed header field name '" + name.substr(0, 64) + "'");
        head.headers.emplace_back(name, value);
    }
    head.keep_alive = request.getKeepAlive();

    std::optional<std::string> length;
    for (const auto& [name, value] : head.headers) {
        if (iequals(name, "Content-Length")) {
            if (length && trim(*length) != trim(value)) return bad("conflicting Content-Length headers");
            length = value;
        } else if (iequals(name, "Transfer-Encoding")) {
            if (!iequals(trim(value), "chunked"))
                return bad("unsupported Transfer-Encoding '" + std::string(trim(value)).substr(0, 64) +
                           "' (only chunked)");
            if (head.chunked) return bad("repeated Transfer-Encoding header");
            head.chunked = true;
        } else if (iequals(name, "Expect")) {
            head.expect_continue = iequals(trim(value), "100-continue");
        }
    }
    if (length) {
        if (head.chunked) return bad("both Content-Length and Transfer-Encoding: chunked");
        head.content_length = parseDecimal(*length);
        if (!head.content_length) return bad("Content-Length is not a decimal number of bytes");
    }
    return head;
}

Result<bool> ChunkedDecoder::feed(std::string_view& input, std::string& body) {
    for (;;) {
        switch (phase_) {
            case Phase::Size: {
                // Measured up to the newline whether it has arrived or not, so that a body gets the
                // same answer however it is split into reads (found by fuzzing).
                if (input.find('\n') > kMaxChunkSizeLine) {
                    if (input.size() > kMaxChunkSizeLine) return bad("chunk size line too long");
                    return false;
                }
                std::string_view rest = input;
                const auto line = takeLine(rest);
                if (!line) return false;
                const std::string_view size = trim(line->substr(0, line->find(';')));
                uint64_t value = 0;
                const auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), value, 16);
                if (size.empty() || ec != std::errc() || end != size.data() + size.size())
                    return bad("malformed chunk size");
                input = rest;
                if (value > limit_ - total_) {
                    return makeError(ErrorCode::PayloadTooLarge, "request body is larger than the limit of " +
                                                                     std::to_string(limit_) +
                                                                     " bytes (server.max_body_bytes)");
                }
                remaining_ = value;
                phase_ = value == 0 ? Phase::Trailer : Phase::Data;
                break;
            }
            case Phase::Data: {
                if (input.empty()) return false;
                const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, input.size()));
                body.append(input.data(), n);
                input.remove_prefix(n);
                remaining_ -= n;
                total_ += n;
                if (remaining_ == 0) phase_ = Phase::DataEnd;
                break;
            }
            case Phase::DataEnd: {
                std::string_view rest = input;
                const auto line = takeLine(rest);
                if (!line) {
                    if (input.size() >= 2) return bad("chunk data not followed by CRLF");
                    return false;
                }
                if (!line->empty()) return bad("chunk data not followed by CRLF");
                input = rest;
                phase_ = Phase::Size;
                break;
            }
            case Phase::Trailer: {
                if (input.find('\n') > kMaxTrailerLine) {  // as for the size line
                    if (input.size() > kMaxTrailerLine) return bad("trailer field too long");
                    return false;
                }
                std::string_view rest = input;
                const auto line = takeLine(rest);
                if (!line) return false;
                input = rest;
                if (line->empty()) phase_ = Phase::Done;
                break;
            }
            case Phase::Done: return true;
        }
    }
}

namespace {

// The one place a response head is written (serializeHead and serializeResponse append to it).
void appendHead(std::string& out, const Response& response, bool keepAlive, std::string_view server, bool chunked) {
    const bool streamed = static_cast<bool>(response.stream);
    if (streamed && !chunked) keepAlive = false;  // the close ends the body
    // Only a status within Poco's enumeration may be cast to it (found by fuzzing: 532 was
    // undefined behaviour); any other gets Poco's own word for an unknown one.
    const std::string& reason = response.status >= Poco::Net::HTTPResponse::HTTP_CONTINUE &&
                                        response.status <= Poco::Net::HTTPResponse::HTTP_NETWORK_AUTHENTICATION_REQUIRED
                                    ? Poco::Net::HTTPResponse::getReasonForStatus(
                                          static_cast<Poco::Net::HTTPResponse::HTTPStatus>(response.status))
                                    : Poco::Net::HTTPResponse::HTTP_REASON_UNKNOWN;
    out += "HTTP/1.1 " + std::to_string(response.status) + " " + reason + "\r\n";
    if (!server.empty()) out.append("Server: ").append(server).append("\r\n");
    if (statusHasBody(response.status)) {
        out += "Content-Type: " + response.contentType + "\r\n";
        if (!streamed) {
            const size_t length = response.sharedBody ? response.sharedBody->size() : response.body.size();
            out += "Content-Length: " + std::to_string(length) + "\r\n";
        } else if (chunked) {
            out += "Transfer-Encoding: chunked\r\n";
        }
    }
    out += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    for (const auto& [name, value] : response.headers) out.append(name).append(": ").append(value).append("\r\n");
    out += "\r\n";
}

constexpr size_t kHeadReserve = 256;

}  // namespace

std::string serializeHead(const Response& response, bool keepAlive, std::string_view server, bool chunked) {
    std::string out;
    out.reserve(kHeadReserve);
    appendHead(out, response, keepAlive, server, chunked);
    return out;
}

std::string_view responseBody(const Response& response, bool headRequest) noexcept {
    if (headRequest || response.stream || !statusHasBody(response.status)) return {};
    return response.sharedBody ? std::string_view(*response.sharedBody) : std::string_view(response.body);
}

std::string serializeResponse(const Response& response, bool headRequest, bool keepAlive, std::string_view server,
                              bool chunked) {
    const std::string_view body = responseBody(response, headRequest);
    std::string out;
    out.reserve(kHeadReserve + body.size());
    appendHead(out, response, keepAlive, server, chunked);
    out.append(body);
    return out;
}

bool statusHasBody(int status) noexcept { return status >= 200 && status != 204 && status != 304; }

namespace {

// One piece of a chunked body; the empty piece is the last chunk, "0\r\n\r\n".
void appendChunk(std::string& out, std::string_view piece) {
    char size[32];
    const int n = std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    out.append(size, static_cast<size_t>(n)).append(piece).append("\r\n");
}

}  // namespace

BodySource framedBody(BodySource source, bool chunked) {
    return [source = std::move(source), chunked](std::string& out) -> Result<bool> {
        std::string piece;
        auto more = source(piece);
        if (!more) return more;
        const bool last = !more.value() || piece.empty();
        if (!chunked) {
            out += piece;
        } else {
            if (!piece.empty()) appendChunk(out, piece);
            if (last) appendChunk(out, {});
        }
        return !last;
    };
}

std::string_view continueResponse() noexcept { return "HTTP/1.1 100 Continue\r\n\r\n"; }

bool preferHeaderNames(std::string_view header, std::string_view token) noexcept {
    return listsToken(header, token, ";=");
}

Result<std::string> websocketAccept(const RequestHead& head) {
    if (head.method != "GET") return bad("a WebSocket opening handshake must be a GET");
    if (head.version != Poco::Net::HTTPMessage::HTTP_1_1) return bad("a WebSocket opening handshake needs HTTP/1.1");
    if (!listsToken(head.header("Upgrade").value_or(""), "websocket")) return bad("missing Upgrade: websocket");
    if (!listsToken(head.header("Connection").value_or(""), "upgrade")) return bad("missing Connection: upgrade");
    if (trim(head.header("Sec-WebSocket-Version").value_or("")) != "13")
        return bad("unsupported Sec-WebSocket-Version (13 is required)");
    const std::string key(trim(head.header("Sec-WebSocket-Key").value_or("")));
    std::string decoded;
    try {
        std::istringstream in(key);
        Poco::Base64Decoder decoder(in);
        decoded.assign(std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>());
    } catch (const Poco::Exception&) {
        decoded.clear();
    }
    if (decoded.size() != 16) return bad("Sec-WebSocket-Key must be 16 bytes in base64");
    Poco::SHA1Engine sha1;
    sha1.update(key);
    sha1.update(kWebSocketGuid.data(), static_cast<unsigned>(kWebSocketGuid.size()));
    const Poco::DigestEngine::Digest& digest = sha1.digest();
    std::ostringstream out;
    Poco::Base64Encoder encoder(out);
    encoder.write(reinterpret_cast<const char*>(digest.data()), static_cast<std::streamsize>(digest.size()));
    encoder.close();
    return out.str();
}

std::string websocketHandshakeResponse(std::string_view accept, std::string_view server) {
    std::string out = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    out.append("Sec-WebSocket-Accept: ").append(accept).append("\r\n");
    if (!server.empty()) out.append("Server: ").append(server).append("\r\n");
    out += "\r\n";
    return out;
}

}  // namespace paddock::server::wire
