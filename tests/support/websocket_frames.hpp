// Reading a client WebSocket in tests: the next text frame within a deadline (answering pings
// as a browser does), and waiting for a JSON frame that satisfies a predicate.
#pragma once

#include <Poco/Exception.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/Timespan.h>
#include <rapidjson/document.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace paddock::test {

// The next text frame, or nullopt on timeout or close.
inline std::optional<std::string> nextText(Poco::Net::WebSocket& ws, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<char> buffer(256 * 1024);
    while (true) {
        const auto left =
            std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        ws.setReceiveTimeout(Poco::Timespan(left.count()));
        int flags = 0;
        int n = 0;
        try {
            n = ws.receiveFrame(buffer.data(), static_cast<int>(buffer.size()), flags);
        } catch (const Poco::Exception&) {  // timeout included
            return std::nullopt;
        }
        const int op = flags & Poco::Net::WebSocket::FRAME_OP_BITMASK;
        if ((n == 0 && flags == 0) || op == Poco::Net::WebSocket::FRAME_OP_CLOSE) return std::nullopt;
        if (op == Poco::Net::WebSocket::FRAME_OP_PING)
            ws.sendFrame(buffer.data(), n,
                         static_cast<int>(Poco::Net::WebSocket::FRAME_FLAG_FIN) | Poco::Net::WebSocket::FRAME_OP_PONG);
        if (op == Poco::Net::WebSocket::FRAME_OP_TEXT) return std::string(buffer.data(), static_cast<size_t>(n));
    }
}

// A frame's JSON; fails the test when it is not JSON.
inline rapidjson::Document parseFrame(const std::string& text) {
    rapidjson::Document doc;
    doc.Parse(text.c_str(), text.size());
    INFO(text);
    REQUIRE_FALSE(doc.HasParseError());
    return doc;
}

// Reads frames until one satisfies `wanted` (called with the parsed frame); false when none did
// within `timeout`.
template <class Predicate>
bool waitForFrame(Poco::Net::WebSocket& ws, std::chrono::milliseconds timeout, Predicate wanted) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        const auto text = nextText(
            ws, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
        if (!text) return false;
        if (wanted(parseFrame(*text))) return true;
    }
    return false;
}

}  // namespace paddock::test
