#include "paddock/server/websocket_frame.hpp"

#include <catch2/catch.hpp>

using namespace paddock::server;

namespace {

// A client frame: masked, as RFC 6455 requires of clients.
std::string clientFrame(uint8_t firstByte, const std::string& payload) {
    const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
    std::string frame(1, static_cast<char>(firstByte));
    if (payload.size() < 126) {
        frame.push_back(static_cast<char>(0x80 | payload.size()));
    } else {
        frame.push_back(static_cast<char>(0x80 | 126));
        frame.push_back(static_cast<char>(payload.size() >> 8));
        frame.push_back(static_cast<char>(payload.size() & 0xff));
    }
    frame.append(reinterpret_cast<const char*>(mask), 4);
    for (size_t i = 0; i < payload.size(); ++i) frame.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
    return frame;
}

}  // namespace

TEST_CASE("server frames are unmasked with the shortest length encoding", "[websocket]") {
    const auto small = encodeWsFrame(WsOpcode::Text, "hi");
    CHECK(small == std::string("\x81\x02hi", 4));
    const auto medium = encodeWsFrame(WsOpcode::Text, std::string(300, 'x'));
    CHECK(static_cast<uint8_t>(medium[1]) == 126);
    CHECK(medium.size() == 4 + 300);
    const auto large = encodeWsFrame(WsOpcode::Binary, std::string(70000, 'x'));
    CHECK(static_cast<uint8_t>(large[1]) == 127);
    CHECK(large.size() == 10 + 70000);
    const auto close = encodeWsClose(1008, std::string(200, 'r'));
    CHECK(static_cast<uint8_t>(close[0]) == 0x88);
    CHECK(static_cast<uint8_t>(close[1]) == 125);  // reason cut to fit a control frame
    CHECK(close.substr(2, 2) == std::string("\x03\xf0", 2));
}

TEST_CASE("the decoder unmasks client frames, also when they arrive in pieces", "[websocket]") {
    WsFrameDecoder decoder;
    const std::string bytes = clientFrame(0x89, "ping!") + clientFrame(0x81, std::string(200, 'a'));
    for (char c : bytes.substr(0, 3)) decoder.feed(std::string(1, c));
    CHECK_FALSE(decoder.next());
    decoder.feed(bytes.substr(3));
    auto ping = decoder.next();
    REQUIRE(ping);
    CHECK(ping->opcode == WsOpcode::Ping);
    CHECK(ping->payload == "ping!");
    auto text = decoder.next();
    REQUIRE(text);
    CHECK(text->opcode == WsOpcode::Text);
    CHECK(text->payload == std::string(200, 'a'));
    CHECK_FALSE(decoder.next());
    CHECK(decoder.errorCode() == 0);
}

TEST_CASE("the decoder rejects what RFC 6455 forbids", "[websocket]") {
    SECTION("unmasked client frame") {
        WsFrameDecoder decoder;
        decoder.feed(std::string("\x81\x02hi", 4));
        CHECK_FALSE(decoder.next());
        CHECK(decoder.errorCode() == kWsCloseProtocolError);
    }
    SECTION("oversized frame") {
        WsFrameDecoder decoder(100);
        decoder.feed(clientFrame(0x81, std::string(101, 'a')));
        CHECK_FALSE(decoder.next());
        CHECK(decoder.errorCode() == kWsCloseTooBig);
    }
    SECTION("fragmented control frame") {
        WsFrameDecoder decoder;
        decoder.feed(clientFrame(0x09, "x"));
        CHECK_FALSE(decoder.next());
        CHECK(decoder.errorCode() == kWsCloseProtocolError);
    }
    SECTION("reserved bits and unknown opcodes") {
        WsFrameDecoder a, b;
        a.feed(clientFrame(0xC1, "x"));
        b.feed(clientFrame(0x83, "x"));
        CHECK_FALSE(a.next());
        CHECK_FALSE(b.next());
        CHECK(a.errorCode() == kWsCloseProtocolError);
        CHECK(b.errorCode() == kWsCloseProtocolError);
    }
}
