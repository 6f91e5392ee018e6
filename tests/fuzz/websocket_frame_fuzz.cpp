// server websocket_frame: the decoder fed arbitrary client bytes whole, in pieces and byte by
// byte (as the hub's non-blocking reads deliver them) must give the same frames and the same
// error; every frame it gives obeys RFC 6455; and each frame, encoded again by the server's
// encoder and masked as a client would, decodes to itself.
#include "fuzz_support.hpp"

#include "paddock/server/websocket_frame.hpp"

namespace {

using namespace paddock;
using namespace paddock::server;

struct Decoded {
    std::vector<WsFrame> frames;
    uint16_t error = 0;
    std::string reason;
};

Decoded decode(const std::vector<std::string_view>& parts, uint64_t maxPayload) {
    WsFrameDecoder decoder(maxPayload);
    Decoded out;
    for (const auto part : parts) {
        decoder.feed(part);
        while (auto frame = decoder.next()) out.frames.push_back(std::move(*frame));
        if (decoder.errorCode() != 0) break;
    }
    out.error = decoder.errorCode();
    out.reason = decoder.errorReason();
    return out;
}

bool sameFrames(const std::vector<WsFrame>& a, const std::vector<WsFrame>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].opcode != b[i].opcode || a[i].fin != b[i].fin || a[i].payload != b[i].payload) return false;
    return true;
}

// A server frame as a client sends it: mask bit set, a mask key after the length, payload masked.
std::string masked(const std::string& serverFrame, const char key[4]) {
    const size_t lengthBytes = static_cast<uint8_t>(serverFrame[1]) == 126   ? 2
                               : static_cast<uint8_t>(serverFrame[1]) == 127 ? 8
                                                                             : 0;
    const size_t headerSize = 2 + lengthBytes;
    std::string out = serverFrame.substr(0, headerSize);
    out[1] = static_cast<char>(out[1] | 0x80);
    out.append(key, 4);
    for (size_t i = headerSize; i < serverFrame.size(); ++i)
        out.push_back(static_cast<char>(serverFrame[i] ^ key[(i - headerSize) % 4]));
    return out;
}

void checkRoundTrip(const WsFrame& frame, const char key[4]) {
    if (!frame.fin) return;  // the encoder writes whole messages only
    const Decoded again = decode({masked(encodeWsFrame(frame.opcode, frame.payload), key)}, 1u << 20);
    FUZZ_CHECK(again.error == 0 && again.frames.size() == 1);
    FUZZ_CHECK(again.frames[0].opcode == frame.opcode && again.frames[0].fin &&
               again.frames[0].payload == frame.payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input = fuzz::asText(data, size);
    for (const uint64_t maxPayload : {uint64_t{64 * 1024}, uint64_t{8}}) {
        const Decoded whole = decode({input}, maxPayload);
        for (const auto& parts : {fuzz::pieces(input), fuzz::bytewise(input)}) {
            const Decoded split = decode(parts, maxPayload);
            FUZZ_CHECK(split.error == whole.error && split.reason == whole.reason);
            FUZZ_CHECK(sameFrames(split.frames, whole.frames));
        }
        FUZZ_CHECK(whole.error == 0 || whole.error == kWsCloseProtocolError || whole.error == kWsCloseTooBig);
        const char key[4] = {size > 0 ? static_cast<char>(data[0]) : '\0', 'k', '\x80', '\xff'};
        for (const auto& frame : whole.frames) {
            FUZZ_CHECK(frame.payload.size() <= maxPayload);
            const auto op = static_cast<uint8_t>(frame.opcode);
            if (op >= 0x8) FUZZ_CHECK(frame.fin && frame.payload.size() <= 125);  // control frames (5.5)
            checkRoundTrip(frame, key);
        }
    }

    // A close frame carries the code and as much of the reason as fits in 125 bytes.
    if (size >= 2) {
        const auto code = static_cast<uint16_t>((data[0] << 8) | data[1]);
        const std::string_view reason = input.substr(2);
        const Decoded close = decode({masked(encodeWsClose(code, reason), "\x01\x02\x03\x04")}, 125);
        FUZZ_CHECK(close.error == 0 && close.frames.size() == 1 && close.frames[0].opcode == WsOpcode::Close);
        const std::string& payload = close.frames[0].payload;
        FUZZ_CHECK(payload.size() <= 125 && payload.size() >= 2);
        FUZZ_CHECK(static_cast<uint8_t>(payload[0]) == (code >> 8) &&
                   static_cast<uint8_t>(payload[1]) == (code & 0xff));
        FUZZ_CHECK(reason.starts_with(payload.substr(2)));
    }
    return 0;
}
