// `paddock vm console NAME`: an interactive terminal on a VM over paddockd's terminal WebSocket
// (binary frames both ways; {"type":"resize","cols","rows"} text frames; the server's text
// frames are JSON control messages). With a terminal on stdin: raw mode, restored on every way
// out (RAII, and SIGTERM/SIGHUP/SIGINT/SIGQUIT end the loop instead of the process), SIGWINCH
// sends the new size, Ctrl-] detaches. Without one (a pipe): stdin is sent as it is and its end
// sends Ctrl-D (again after each answer, a bounded number of times), so a shell at its prompt exits.
#pragma once

#include "paddock/cli/api_client.hpp"
#include "paddock/cli/exit_codes.hpp"
#include "paddock/core/result.hpp"

#include <string>
#include <string_view>

namespace paddock::cli {

// The byte that detaches (Ctrl-], as telnet's escape).
inline constexpr char kDetachByte = 0x1d;

struct ControlFrame {
    std::string type;  // "session", "error", or another the server may add
    std::string sessionId;
    std::string code;
    std::string message;
};

// A server text frame; InvalidArgument when it is not a JSON object with a string "type".
Result<ControlFrame> parseControlFrame(std::string_view text);
// The resize frame for `cols` x `rows`.
std::string resizeFrame(unsigned cols, unsigned rows);

// Runs the console until detach, remote close or a signal; messages go to stderr. Exit code:
// Ok on detach and on a normal close, else the failure's class.
ExitCode runConsole(const ApiClient& client, const std::string& vm);

}  // namespace paddock::cli
