// The client side of Paddock's terminal WebSocket for tests: sends keystrokes, collects output
// (binary frames for the native protocol, text frames for the compat one) and control frames.
// Single-threaded use.
#pragma once

#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace paddock::test {

class TerminalClient {
public:
    explicit TerminalClient(std::unique_ptr<Poco::Net::WebSocket> ws, bool textOutput = false)
        : ws_(std::move(ws)), textOutput_(textOutput), buffer_(256 * 1024) {}

    void type(const std::string& bytes) {
        ws_->sendFrame(bytes.data(), static_cast<int>(bytes.size()),
                       textOutput_ ? Poco::Net::WebSocket::FRAME_TEXT : Poco::Net::WebSocket::FRAME_BINARY);
    }
    void sendText(const std::string& text) {
        ws_->sendFrame(text.data(), static_cast<int>(text.size()), Poco::Net::WebSocket::FRAME_TEXT);
    }
    void resize(int cols, int rows) {
        sendText(R"({"type":"resize","cols":)" + std::to_string(cols) + R"(,"rows":)" + std::to_string(rows) + "}");
    }

    // Reads until the output seen since the last clearOutput() contains `needle`, the peer
    // closes, or `timeout` passes. Keeps only the last `keep` bytes of output.
    bool waitFor(const std::string& needle, std::chrono::milliseconds timeout, size_t keep = 1 << 20) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (output_.find(needle) == std::string::npos) {
            if (!readOne(deadline)) return false;
            if (output_.size() > keep) output_.erase(0, output_.size() - keep);
        }
        return true;
    }
    // Reads until `bytes` more output bytes arrived (or close/timeout); returns how many did.
    uint64_t drain(uint64_t bytes, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        const uint64_t start = totalOutput_;
        while (totalOutput_ - start < bytes) {
            if (!readOne(deadline)) break;
            if (output_.size() > 4096) output_.erase(0, output_.size() - 4096);
        }
        return totalOutput_ - start;
    }
    // The next control (text) frame of the native protocol, or nullopt on close/timeout.
    std::optional<std::string> nextControl(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        const size_t seen = controls_.size();
        while (controls_.size() == seen)
            if (!readOne(deadline)) return std::nullopt;
        return controls_[seen];
    }
    // Reads until the server's close frame (true) or timeout (false).
    bool waitClosed(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!closed_)
            if (!readOne(deadline)) break;
        return closed_;
    }

    const std::string& output() const noexcept { return output_; }
    void clearOutput() { output_.clear(); }
    uint64_t totalOutput() const noexcept { return totalOutput_; }
    const std::vector<std::string>& controls() const noexcept { return controls_; }
    const std::vector<std::string>& textFrames() const noexcept { return textFrames_; }
    bool closed() const noexcept { return closed_; }
    uint16_t closeCode() const noexcept { return closeCode_; }
    Poco::Net::WebSocket& socket() { return *ws_; }

private:
    bool readOne(std::chrono::steady_clock::time_point deadline) {
        if (closed_) return false;
        const auto left =
            std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        ws_->setReceiveTimeout(Poco::Timespan(left.count()));
        int flags = 0;
        int n = 0;
        try {
            n = ws_->receiveFrame(buffer_.data(), static_cast<int>(buffer_.size()), flags);
        } catch (const Poco::TimeoutException&) {
            return false;
        } catch (const Poco::Exception&) {
            closed_ = true;
            return false;
        }
        const int op = flags & Poco::Net::WebSocket::FRAME_OP_BITMASK;
        if ((n == 0 && flags == 0) || op == Poco::Net::WebSocket::FRAME_OP_CLOSE) {
            if (n >= 2)
                closeCode_ = static_cast<uint16_t>((static_cast<unsigned char>(buffer_[0]) << 8) |
                                                   static_cast<unsigned char>(buffer_[1]));
            closed_ = true;
            return false;
        }
        // A browser answers pings by itself (paddockd closes WebSockets that never do).
        if (op == Poco::Net::WebSocket::FRAME_OP_PING) {
            ws_->sendFrame(
                buffer_.data(), n,
                static_cast<int>(Poco::Net::WebSocket::FRAME_FLAG_FIN) | Poco::Net::WebSocket::FRAME_OP_PONG);
            return true;
        }
        if (op == Poco::Net::WebSocket::FRAME_OP_PONG) return true;
        const std::string payload(buffer_.data(), static_cast<size_t>(n));
        if (op == Poco::Net::WebSocket::FRAME_OP_TEXT) {
            textFrames_.push_back(payload);
            if (textFrames_.size() > 10000) textFrames_.erase(textFrames_.begin(), textFrames_.begin() + 5000);
            if (!textOutput_) {
                controls_.push_back(payload);
                return true;
            }
        }
        output_ += payload;
        totalOutput_ += payload.size();
        return true;
    }

    std::unique_ptr<Poco::Net::WebSocket> ws_;
    bool textOutput_;
    std::vector<char> buffer_;
    std::string output_;
    uint64_t totalOutput_ = 0;
    std::vector<std::string> controls_;
    std::vector<std::string> textFrames_;
    bool closed_ = false;
    uint16_t closeCode_ = 0;
};

}  // namespace paddock::test
