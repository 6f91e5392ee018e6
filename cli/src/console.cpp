#include "paddock/cli/console.hpp"

#include "paddock/cli/table.hpp"
#include "paddock/server/json.hpp"

#include <Poco/Buffer.h>
#include <Poco/Net/NetException.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>

namespace paddock::cli {

Result<ControlFrame> parseControlFrame(std::string_view text) {
    auto doc = server::parseJsonValue(text);
    if (!doc) return makeError(ErrorCode::InvalidArgument, "control frame is not JSON: " + doc.error().message);
    if (!doc->IsObject()) return makeError(ErrorCode::InvalidArgument, "control frame is not a JSON object");
    if (!doc->HasMember("type") || !(*doc)["type"].IsString())
        return makeError(ErrorCode::InvalidArgument, "control frame has no string \"type\"");
    ControlFrame frame;
    frame.type = (*doc)["type"].GetString();
    const auto text_of = [&](const char* field) -> std::string {
        if (!doc->HasMember(field) || !(*doc)[field].IsString()) return std::string();
        return std::string((*doc)[field].GetString(), (*doc)[field].GetStringLength());
    };
    frame.sessionId = text_of("session_id");
    frame.code = text_of("code");
    frame.message = text_of("message");
    return frame;
}

std::string resizeFrame(unsigned cols, unsigned rows) {
    return R"({"type":"resize","cols":)" + std::to_string(cols) + R"(,"rows":)" + std::to_string(rows) + "}";
}

namespace {

int gSignalPipe[2] = {-1, -1};

void onSignal(int signal) {
    const int saved = errno;
    const unsigned char byte = static_cast<unsigned char>(signal);
    [[maybe_unused]] const ssize_t n = ::write(gSignalPipe[1], &byte, 1);
    errno = saved;
}

// The signals that end the console (instead of the process, so the terminal is restored) and
// SIGWINCH, delivered to the loop as bytes on a pipe. Restores the previous handlers.
class SignalPipe {
public:
    SignalPipe() {
        if (::pipe2(gSignalPipe, O_CLOEXEC | O_NONBLOCK) != 0) return;
        struct sigaction action{};
        action.sa_handler = onSignal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        for (size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &action, &saved_[i]);
        ok_ = true;
    }
    ~SignalPipe() {
        if (!ok_) return;
        for (size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &saved_[i], nullptr);
        ::close(gSignalPipe[0]);
        ::close(gSignalPipe[1]);
        gSignalPipe[0] = gSignalPipe[1] = -1;
    }
    SignalPipe(const SignalPipe&) = delete;
    SignalPipe& operator=(const SignalPipe&) = delete;
    bool ok() const noexcept { return ok_; }
    int fd() const noexcept { return gSignalPipe[0]; }

private:
    static constexpr std::array<int, 5> kSignals{SIGWINCH, SIGTERM, SIGHUP, SIGINT, SIGQUIT};
    std::array<struct sigaction, 5> saved_{};
    bool ok_ = false;
};

// Raw mode on a terminal for the lifetime of the object.
class RawMode {
public:
    explicit RawMode(int fd) : fd_(fd) {
        if (!::isatty(fd_) || ::tcgetattr(fd_, &saved_) != 0) return;
        termios raw = saved_;
        ::cfmakeraw(&raw);
        active_ = ::tcsetattr(fd_, TCSADRAIN, &raw) == 0;
    }
    ~RawMode() {
        if (active_) ::tcsetattr(fd_, TCSADRAIN, &saved_);
    }
    RawMode(const RawMode&) = delete;
    RawMode& operator=(const RawMode&) = delete;

private:
    int fd_;
    termios saved_{};
    bool active_ = false;
};

struct Size {
    unsigned cols = 80;
    unsigned rows = 24;
};

std::optional<Size> terminalSize() {
    for (const int fd : {STDIN_FILENO, STDOUT_FILENO}) {
        winsize ws{};
        if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0)
            return Size{std::min<unsigned>(ws.ws_col, 1000), std::min<unsigned>(ws.ws_row, 1000)};
    }
    return std::nullopt;
}

bool writeAll(int fd, const char* data, size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

struct Outcome {
    ExitCode code;
    std::string message;
};

class Session {
public:
    Session(Poco::Net::WebSocket& ws, std::string vm, int signalFd, bool interactive)
        : ws_(ws), vm_(std::move(vm)), signalFd_(signalFd), interactive_(interactive) {}

    Outcome run() {
        for (;;) {
            // Bytes Poco (or TLS) has already read do not wake poll(): drain them first.
            if (ws_.available() > 0) {
                if (auto done = onFrame()) return *done;
                continue;
            }
            // Input waits for the shell: what the server gets before its session is up is lost.
            pollfd fds[3] = {{ws_.impl()->sockfd(), POLLIN, 0},
                             {signalFd_, POLLIN, 0},
                             {stdinOpen_ && connected_ ? STDIN_FILENO : -1, POLLIN, 0}};
            if (::poll(fds, 3, -1) < 0 && errno != EINTR)
                return {ExitCode::Failure, std::string("poll failed: ") + std::strerror(errno)};
            // Signals first, whatever poll saw: a SIGWINCH that came with a keystroke was handled
            // when poll returned, and its resize must reach the shell before that keystroke.
            if (auto done = onSignals()) return *done;
            if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
                if (auto done = onFrame()) return *done;
            if (fds[2].revents & (POLLIN | POLLHUP | POLLERR))
                if (auto done = onInput()) return *done;
        }
    }

private:
    std::optional<Outcome> onSignals() {
        unsigned char signals[64];
        const ssize_t n = ::read(signalFd_, signals, sizeof signals);  // non-blocking
        for (ssize_t i = 0; i < n; ++i) {
            if (signals[i] == SIGWINCH) {
                if (const auto size = terminalSize()) sendText(resizeFrame(size->cols, size->rows));
                continue;
            }
            closeQuietly();
            return Outcome{ExitCode::Failure, "ended by signal " + std::to_string(signals[i]) + "; the session was closed"};
        }
        return std::nullopt;
    }

    std::optional<Outcome> onInput() {
        char buffer[16384];
        const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) return std::nullopt;
        if (n <= 0) {
            stdinOpen_ = false;
            // Without a terminal, the end of the input is the end of typing: a shell at its
            // prompt exits on Ctrl-D, and the server then closes.
            if (!interactive_) sendEof();
            return std::nullopt;
        }
        const size_t size = static_cast<size_t>(n);
        if (interactive_) {
            if (const void* at = std::memchr(buffer, kDetachByte, size)) {
                const size_t before = static_cast<size_t>(static_cast<const char*>(at) - buffer);
                if (before > 0) sendBinary(buffer, before);
                closeQuietly();
                return Outcome{ExitCode::Ok, "Detached from " + vm_ + "."};
            }
        }
        sendBinary(buffer, size);
        return std::nullopt;
    }

    std::optional<Outcome> onFrame() {
        int flags = 0;
        int n = 0;
        try {
            frame_.resize(0);
            n = ws_.receiveFrame(frame_, flags);
        } catch (const Poco::Exception& e) {
            return Outcome{ExitCode::Unavailable, "connection to " + vm_ + " lost: " + e.displayText()};
        }
        const int op = flags & Poco::Net::WebSocket::FRAME_OP_BITMASK;
        if ((n == 0 && flags == 0) || op == Poco::Net::WebSocket::FRAME_OP_CLOSE) {
            if (!error_.message.empty() || !error_.code.empty())
                return Outcome{exitCodeForErrorId(error_.code),
                               printable("the terminal failed: " + error_.message.substr(0, 2000) +
                                         (error_.code.empty() ? "" : " (" + error_.code.substr(0, 100) + ")"))};
            if (!connected_) return Outcome{ExitCode::Unavailable, "the server closed the terminal before it opened"};
            try {
                ws_.shutdown();
            } catch (const Poco::Exception&) {
            }
            return Outcome{ExitCode::Ok, "Connection to " + vm_ + " closed."};
        }
        const char* data = frame_.begin();
        const size_t size = static_cast<size_t>(n);
        if (op == Poco::Net::WebSocket::FRAME_OP_PING) {
            try {
                ws_.sendFrame(data, n, static_cast<int>(Poco::Net::WebSocket::FRAME_FLAG_FIN) | Poco::Net::WebSocket::FRAME_OP_PONG);
            } catch (const Poco::Exception&) {
            }
            return std::nullopt;
        }
        if (op == Poco::Net::WebSocket::FRAME_OP_TEXT) {
            auto frame = parseControlFrame(std::string_view(data, size));
            if (!frame) return std::nullopt;  // not ours to show: an unknown control message
            if (frame->type == "session") {
                connected_ = true;
                note("Connected to " + vm_ + (frame->sessionId.empty() ? "" : " (session " + printable(frame->sessionId.substr(0, 200)) + ")") +
                     (interactive_ ? ". Ctrl-] detaches." : "."));
            } else if (frame->type == "error") {
                error_ = *frame;
            }
            return std::nullopt;
        }
        if (op == Poco::Net::WebSocket::FRAME_OP_PONG) return std::nullopt;
        if (!writeAll(STDOUT_FILENO, data, size)) {
            closeQuietly();
            return Outcome{ExitCode::Failure, "cannot write to the terminal"};
        }
        // A Ctrl-D that reaches the remote terminal while its shell runs a command (or has not
        // set up its line editor yet) is lost when the shell switches modes; so after the end
        // of piped input, every answer from the far side gets another one (a bounded number).
        if (!interactive_ && !stdinOpen_ && eofsSent_ < kMaxEofs) sendEof();
        return std::nullopt;
    }

    void note(const std::string& text) {
        const std::string line = text + (interactive_ ? "\r\n" : "\n");
        writeAll(STDERR_FILENO, line.data(), line.size());
    }

    void sendBinary(const char* data, size_t size) {
        try {
            ws_.sendFrame(data, static_cast<int>(size), Poco::Net::WebSocket::FRAME_BINARY);
        } catch (const Poco::Exception&) {
            // A lost connection shows up on the next read.
        }
    }
    void sendEof() {
        ++eofsSent_;
        sendBinary("\x04", 1);
    }
    void sendText(const std::string& text) {
        try {
            ws_.sendFrame(text.data(), static_cast<int>(text.size()), Poco::Net::WebSocket::FRAME_TEXT);
        } catch (const Poco::Exception&) {
        }
    }
    void closeQuietly() {
        try {
            ws_.shutdown();
        } catch (const Poco::Exception&) {
        }
    }

    Poco::Net::WebSocket& ws_;
    std::string vm_;
    int signalFd_;
    bool interactive_;
    bool connected_ = false;
    bool stdinOpen_ = true;
    static constexpr unsigned kMaxEofs = 64;
    unsigned eofsSent_ = 0;
    ControlFrame error_;
    Poco::Buffer<char> frame_{0};
};

}  // namespace

ExitCode runConsole(const ApiClient& client, const std::string& vm) {
    const bool interactive = ::isatty(STDIN_FILENO) != 0;
    const Size size = terminalSize().value_or(Size{});
    auto ws = client.openWebSocket("/api/v1/vms/" + urlEncode(vm) + "/terminal?cols=" + std::to_string(size.cols) +
                                   "&rows=" + std::to_string(size.rows));
    if (!ws) {
        std::cerr << "paddock: " << ws.error().message << "\n";
        return exitCodeForError(ws.error().code);
    }
    // Interactive sessions wait for the user as long as they like.
    (*ws)->setReceiveTimeout(Poco::Timespan(0, 0));
    Outcome outcome{ExitCode::Ok, ""};
    {
        SignalPipe signals;
        if (!signals.ok()) {
            std::cerr << "paddock: cannot set up signal handling: " << std::strerror(errno) << "\n";
            return ExitCode::Failure;
        }
        RawMode raw(STDIN_FILENO);
        outcome = Session(**ws, vm, signals.fd(), interactive).run();
    }
    // The terminal is back in its own mode here.
    if (!outcome.message.empty())
        std::cerr << (outcome.code == ExitCode::Ok ? "" : "paddock: ") << outcome.message << "\n";
    return outcome.code;
}

}  // namespace paddock::cli
