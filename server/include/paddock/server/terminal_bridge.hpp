// The WebSocket side of browser terminals: joins a client on the WebSocketHub to a session of
// the TerminalMux (core). Native protocol (WS /api/v1/vms/{name}/terminal): terminal bytes in
// binary frames both ways (client text frames are input too); a client text frame
// {"type":"resize","cols":N,"rows":M} resizes the PTY; the server's text frames are JSON control
// messages: {"type":"session","session_id","host_key"} once connected, {"type":"error","message"}
// before closing on failure. Compat protocol (WS /ws/vm/{name}/terminal, COMPAT.md): text frames
// both ways, output always valid UTF-8, a failure is one plain text frame, then close.
// Output is paced by the hub's queue (see TerminalSink::room), so a flood stops at SSH.
// Thread-safe; the mux and the hub must outlive the bridge (and the hub must be stopped before
// the mux is destroyed, so no hub callback reaches a dead mux).
#pragma once

#include "paddock/core/terminal_mux.hpp"
#include "paddock/core/utf8.hpp"
#include "paddock/server/websocket_hub.hpp"

#include <string>
#include <string_view>

namespace paddock::server {

enum class TerminalProtocol { Native, Compat };

class TerminalBridge {
public:
    // Output queued per client before reading from SSH pauses.
    static constexpr size_t kHighWater = 256 * 1024;

    TerminalBridge(TerminalMux& mux, WebSocketHub& hub) : mux_(mux), hub_(hub) {}

    // Hands the upgraded socket to the hub and starts the session (connecting in the background).
    // `owner`: whose WebSocket cap it counts against (empty: the total only).
    void attach(std::unique_ptr<Transport> transport, const std::string& route, const std::string& owner,
                TerminalRequest request, TerminalProtocol protocol);

private:
    TerminalMux& mux_;
    WebSocketHub& hub_;
};

}  // namespace paddock::server
