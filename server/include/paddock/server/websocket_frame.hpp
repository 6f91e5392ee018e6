// RFC 6455 framing for the server side of a WebSocket, without I/O, so the WebSocket hub can
// use non-blocking sockets (Poco's WebSocket frame calls block until a whole frame has moved).
// Server frames are sent unmasked; client frames must be masked (RFC 6455 5.1). Plain values,
// one decoder per connection, used by one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace paddock::server {

enum class WsOpcode : uint8_t { Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA };

// Close codes used by Paddock (RFC 6455 7.4.1).
inline constexpr uint16_t kWsCloseNormal = 1000;
inline constexpr uint16_t kWsCloseGoingAway = 1001;
inline constexpr uint16_t kWsCloseProtocolError = 1002;
inline constexpr uint16_t kWsClosePolicyViolation = 1008;
inline constexpr uint16_t kWsCloseTooBig = 1009;
inline constexpr uint16_t kWsCloseInternalError = 1011;
inline constexpr uint16_t kWsCloseTryAgainLater = 1013;

// One complete, unfragmented server frame (FIN set).
std::string encodeWsFrame(WsOpcode opcode, std::string_view payload);
// A close frame carrying `code` and `reason` (the reason is cut to fit a control frame).
std::string encodeWsClose(uint16_t code, std::string_view reason);

struct WsFrame {
    WsOpcode opcode = WsOpcode::Text;
    bool fin = true;
    std::string payload;  // unmasked
};

class WsFrameDecoder {
public:
    // Frames with a larger payload are an error (close code 1009).
    explicit WsFrameDecoder(uint64_t maxPayload = 64 * 1024) : maxPayload_(maxPayload) {}

    void feed(std::string_view bytes) { buffer_.append(bytes); }
    // The next complete frame, or nullopt when more bytes are needed or after an error.
    std::optional<WsFrame> next();
    // Non-zero after a protocol violation: the close code to answer with.
    uint16_t errorCode() const noexcept { return errorCode_; }
    const std::string& errorReason() const noexcept { return errorReason_; }

private:
    std::optional<WsFrame> fail(uint16_t code, std::string reason);

    uint64_t maxPayload_;
    std::string buffer_;
    uint16_t errorCode_ = 0;
    std::string errorReason_;
};

}  // namespace paddock::server
