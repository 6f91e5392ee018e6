// Reads ansible-playbook's output (the default stdout callback, as the sink sees it: already
// redacted) and says how the run went. Pure: no I/O; fed line by line.
//
// What it picks up:
//  - PLAY RECAP lines ("vm1 : ok=3 changed=1 unreachable=0 failed=0 skipped=0 rescued=0
//    ignored=0"), summed over hosts;
//  - the current task ("TASK [name] ***", "RUNNING HANDLER [name] ***");
//  - "fatal: [host]: FAILED! => {json}" and "fatal: [host]: UNREACHABLE! => {json}" (the JSON
//    may span lines at -vvv), the `msg` in it, and "...ignoring" after one;
//  - "ERROR! ..." blocks (bad options, a playbook that is missing or does not parse).
// classify() turns that plus how the process ended into a pdk_status and a plain message.
#pragma once

#include "process_runner.hpp"

#include <paddock/pdk_plugin.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace paddock::ansible {

struct RecapTotals {
    bool seen = false;  // false: no PLAY RECAP (every count below is meaningless)
    int64_t ok = 0, changed = 0, unreachable = 0, failed = 0, skipped = 0, rescued = 0, ignored = 0;
};

// One "fatal:" report.
struct FatalReport {
    bool unreachable = false;  // UNREACHABLE! rather than FAILED!
    std::string task;          // the task it happened in ("" when none was announced)
    std::string host;
    std::string message;       // msg (and stderr where there is one), or what could be read
};

class OutputParser {
public:
    // A line (endOfLine) or a piece of a longer one; pieces are joined (up to a limit) first.
    void feed(OutputStream stream, std::string_view piece, bool endOfLine);

    const RecapTotals& recap() const noexcept { return recap_; }
    // Fatal reports not followed by "...ignoring", oldest first (the last few only).
    const std::vector<FatalReport>& fatals() const noexcept { return fatals_; }
    // The text of the first ERROR! block ("" when none) and whether it says a file could not be found.
    const std::string& error() const noexcept { return error_; }
    bool fileNotFound() const noexcept { return fileNotFound_; }
    // The last non-empty line on stderr other than a warning.
    const std::string& lastStderr() const noexcept { return lastStderr_; }

private:
    void line(OutputStream stream, std::string_view text);
    bool continueJson(std::string_view text);
    void startFatal(std::string_view text);
    void finishFatal(bool parsed);

    std::string partial_[2];  // a line arriving in pieces, per stream
    RecapTotals recap_;
    bool inRecap_ = false;
    std::string task_;
    std::vector<FatalReport> fatals_;
    FatalReport pending_;      // a fatal report whose JSON is still arriving
    std::string pendingJson_;  // non-empty while it is
    size_t pendingLines_ = 0;
    std::string error_;
    size_t errorLines_ = 0;
    bool inError_ = false;
    bool fileNotFound_ = false;
    std::string lastStderr_;
};

// What the run was, for messages.
struct RunContext {
    std::string command;  // as configured, e.g. "ansible-playbook" or a path
    std::string vm;
    std::string target;   // "host:port"
    uint32_t timeoutMs = 0;
};

struct Verdict {
    pdk_status status = PDK_OK;
    std::string message;  // empty for PDK_OK
};

// The outcome of a run:
//  - not started: PDK_ERR_UNAVAILABLE "<command> not found (install the ansible package, or set
//    provisioning.settings.command)" (other spawn errors say what failed);
//  - timed out: PDK_ERR_TIMEOUT "ansible-playbook did not finish within N s (killed)";
//  - cancelled: PDK_ERR_CANCELLED;
//  - exit status 0: PDK_OK;
//  - otherwise, the first that applies: an unreachable host (ssh's reason, e.g. "Host key
//    verification failed") PDK_ERR_UNAVAILABLE; become refused ("Incorrect sudo password",
//    "Missing sudo password") PDK_ERR_FORBIDDEN; a failed task PDK_ERR_INTERNAL with its name
//    and msg; a missing file or a playbook that does not parse (ERROR!, exit status 4 or 5)
//    PDK_ERR_INVALID_ARGUMENT; anything else PDK_ERR_INTERNAL with the status and last error.
Verdict classify(const OutputParser& output, const ProcessOutcome& outcome, const RunContext& context);

}  // namespace paddock::ansible
