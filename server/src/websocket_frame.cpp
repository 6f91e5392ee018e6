#include "paddock/server/websocket_frame.hpp"

namespace paddock::server {

std::string encodeWsFrame(WsOpcode opcode, std::string_view payload) {
    std::string frame;
    frame.reserve(payload.size() + 10);
    frame.push_back(static_cast<char>(0x80 | static_cast<uint8_t>(opcode)));
    const uint64_t n = payload.size();
    if (n < 126) {
        frame.push_back(static_cast<char>(n));
    } else if (n <= 0xffff) {
        frame.push_back(static_cast<char>(126));
        frame.push_back(static_cast<char>(n >> 8));
        frame.push_back(static_cast<char>(n & 0xff));
    } else {
        frame.push_back(static_cast<char>(127));
        for (int shift = 56; shift >= 0; shift -= 8) frame.push_back(static_cast<char>((n >> shift) & 0xff));
    }
    frame.append(payload);
    return frame;
}

std::string encodeWsClose(uint16_t code, std::string_view reason) {
    std::string payload;
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xff));
    // Control frames carry at most 125 bytes (RFC 6455 5.5).
    payload.append(reason.substr(0, 123));
    return encodeWsFrame(WsOpcode::Close, payload);
}

std::optional<WsFrame> WsFrameDecoder::fail(uint16_t code, std::string reason) {
    errorCode_ = code;
    errorReason_ = std::move(reason);
    buffer_.clear();
    return std::nullopt;
}

std::optional<WsFrame> WsFrameDecoder::next() {
    if (errorCode_ != 0 || buffer_.size() < 2) return std::nullopt;
    const auto byte = [this](size_t i) { return static_cast<uint8_t>(buffer_[i]); };
    const bool fin = (byte(0) & 0x80) != 0;
    if ((byte(0) & 0x70) != 0) return fail(kWsCloseProtocolError, "reserved bits set");
    const uint8_t op = byte(0) & 0x0f;
    const bool control = (op & 0x08) != 0;
    if (!(op <= 0x2 || op == 0x8 || op == 0x9 || op == 0xA)) return fail(kWsCloseProtocolError, "unknown opcode");
    if ((byte(1) & 0x80) == 0) return fail(kWsCloseProtocolError, "client frames must be masked");
    uint64_t length = byte(1) & 0x7f;
    size_t offset = 2;
    if (length == 126) {
        if (buffer_.size() < 4) return std::nullopt;
        length = (uint64_t{byte(2)} << 8) | byte(3);
        offset = 4;
    } else if (length == 127) {
        if (buffer_.size() < 10) return std::nullopt;
        length = 0;
        for (size_t i = 2; i < 10; ++i) length = (length << 8) | byte(i);
        offset = 10;
    }
    if (control && (length > 125 || !fin)) return fail(kWsCloseProtocolError, "malformed control frame");
    if (length > maxPayload_) return fail(kWsCloseTooBig, "frame too large");
    if (buffer_.size() < offset + 4 + length) return std::nullopt;
    const uint8_t mask[4] = {byte(offset), byte(offset + 1), byte(offset + 2), byte(offset + 3)};
    offset += 4;
    WsFrame frame;
    frame.opcode = static_cast<WsOpcode>(op);
    frame.fin = fin;
    frame.payload = buffer_.substr(offset, static_cast<size_t>(length));
    for (size_t i = 0; i < frame.payload.size(); ++i)
        frame.payload[i] = static_cast<char>(frame.payload[i] ^ mask[i % 4]);
    buffer_.erase(0, offset + static_cast<size_t>(length));
    return frame;
}

}  // namespace paddock::server
