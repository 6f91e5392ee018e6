#include "ansible_output.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace paddock::ansible {

namespace {

constexpr size_t kMaxParsedLine = 64 * 1024;   // longer lines are parsed truncated
constexpr size_t kMaxJson = 256 * 1024;        // a fatal report's JSON, over all its lines
constexpr size_t kMaxJsonLines = 4000;
constexpr size_t kMaxFatals = 16;
constexpr size_t kMaxMessage = 900;            // pdk_error holds 1023 bytes
constexpr size_t kMaxErrorLines = 12;

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string_view trimmed(std::string_view s) {
    while (!s.empty() && std::strchr(" \t\r\n", s.front()) != nullptr) s.remove_prefix(1);
    while (!s.empty() && std::strchr(" \t\r\n", s.back()) != nullptr) s.remove_suffix(1);
    return s;
}

std::string capped(std::string_view s, size_t max = kMaxMessage) {
    if (s.size() <= max) return std::string(s);
    return std::string(s.substr(0, max)) + "...";
}

void appendCapped(std::string& to, std::string_view s, size_t max) {
    if (to.size() < max) to.append(s.substr(0, max - to.size()));
}

// "TASK [name] *****" -> "name"; empty when the line is not shaped so.
std::string_view bracketed(std::string_view line, std::string_view prefix) {
    std::string_view rest = line.substr(prefix.size());
    while (!rest.empty() && (rest.back() == '*' || rest.back() == ' ')) rest.remove_suffix(1);
    if (rest.empty() || rest.back() != ']') return {};
    rest.remove_suffix(1);
    return rest;
}

std::string stringOf(const rapidjson::Value& v) {
    if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
    if (v.IsArray()) {
        std::string joined;
        for (const auto& item : v.GetArray()) {
            if (!item.IsString()) continue;
            if (!joined.empty()) joined += "; ";
            joined.append(item.GetString(), item.GetStringLength());
        }
        return joined;
    }
    return {};
}

std::string member(const rapidjson::Value& obj, const char* name) {
    const auto it = obj.FindMember(name);
    return it == obj.MemberEnd() ? std::string() : stringOf(it->value);
}

// What a fatal report's JSON says went wrong: msg, with the command's stderr when there is one.
std::string messageOf(const rapidjson::Value& result) {
    std::string msg(trimmed(member(result, "msg")));
    for (const char* more : {"module_stderr", "stderr", "reason", "module_stdout"}) {
        const std::string text(trimmed(member(result, more)));
        if (text.empty() || msg.find(text) != std::string::npos) continue;
        msg = msg.empty() ? text : msg + ": " + text;
        break;
    }
    return capped(msg, 4 * kMaxMessage);
}

// ssh's own words from an UNREACHABLE msg, without ansible's preamble.
std::string sshReason(std::string_view msg) {
    for (const std::string_view marker : {std::string_view("via ssh: "), std::string_view("over ssh: ")}) {
        const size_t at = msg.find(marker);
        if (at != std::string_view::npos) {
            msg.remove_prefix(at + marker.size());
            break;
        }
    }
    if (msg.find("Host key verification failed") != std::string_view::npos) {
        return "Host key verification failed (the host key it presented is not the one Paddock pinned for it)";
    }
    std::string_view last;
    while (!msg.empty()) {
        const size_t end = msg.find_first_of("\r\n");
        const std::string_view line = trimmed(msg.substr(0, end));
        if (!line.empty()) last = line;
        if (end == std::string_view::npos) break;
        msg.remove_prefix(end + 1);
    }
    return capped(last.empty() ? std::string_view("no reason given") : last, 400);
}

// "Incorrect sudo password", "Missing sudo password" (any become method: ansible's wording).
bool becomeRefused(std::string_view msg) {
    for (const std::string_view lead : {std::string_view("Incorrect "), std::string_view("Missing ")}) {
        for (size_t at = msg.find(lead); at != std::string_view::npos; at = msg.find(lead, at + 1)) {
            const std::string_view rest = msg.substr(at + lead.size(), 24);
            const size_t space = rest.find(' ');
            if (space != std::string_view::npos && startsWith(rest.substr(space), " password")) return true;
        }
    }
    return false;
}

std::string seconds(uint32_t ms) {
    std::string s = std::to_string(ms / 1000);
    if (ms % 1000 != 0) {
        char frac[8];
        std::snprintf(frac, sizeof frac, ".%03u", ms % 1000);
        std::string f = frac;
        while (f.back() == '0') f.pop_back();
        s += f;
    }
    return s;
}

}  // namespace

void OutputParser::feed(OutputStream stream, std::string_view piece, bool endOfLine) {
    std::string& partial = partial_[stream == OutputStream::Stderr ? 1 : 0];
    if (!endOfLine) {
        appendCapped(partial, piece, kMaxParsedLine);
        return;
    }
    if (partial.empty()) {
        line(stream, piece.substr(0, kMaxParsedLine));
        return;
    }
    appendCapped(partial, piece, kMaxParsedLine);
    const std::string whole = std::move(partial);
    partial.clear();
    line(stream, whole);
}

void OutputParser::line(OutputStream stream, std::string_view text) {
    if (!pendingJson_.empty() && continueJson(text)) return;
    if (inError_) {
        if (stream == OutputStream::Stderr && errorLines_ < kMaxErrorLines) {
            ++errorLines_;
            const std::string_view t = trimmed(text);
            if (!t.empty()) {
                error_ += ' ';
                appendCapped(error_, t, 2 * kMaxMessage);
            }
            return;
        }
        inError_ = false;
    }
    if (stream == OutputStream::Stderr && !trimmed(text).empty() && !startsWith(text, "[WARNING]") &&
        !startsWith(text, "[DEPRECATION WARNING]")) {
        lastStderr_ = capped(trimmed(text));
    }
    for (const std::string_view lead : {std::string_view("ERROR! "), std::string_view("[ERROR]: ")}) {
        if (!startsWith(text, lead)) continue;
        if (error_.empty()) {
            error_ = capped(trimmed(text.substr(lead.size())), 2 * kMaxMessage);
            inError_ = true;
            errorLines_ = 0;
        }
        if (text.find("could not be found") != std::string_view::npos) fileNotFound_ = true;
        return;
    }
    if (startsWith(text, "PLAY RECAP")) {
        recap_ = RecapTotals{};
        recap_.seen = true;
        inRecap_ = true;
        return;
    }
    if (startsWith(text, "PLAY [")) {
        inRecap_ = false;
        return;
    }
    for (const std::string_view lead : {std::string_view("TASK ["), std::string_view("RUNNING HANDLER [")}) {
        if (!startsWith(text, lead)) continue;
        task_ = capped(bracketed(text, lead), 300);
        inRecap_ = false;
        return;
    }
    if (startsWith(text, "fatal: [")) {
        startFatal(text);
        return;
    }
    if (trimmed(text) == "...ignoring") {
        if (!fatals_.empty()) fatals_.pop_back();
        return;
    }
    if (inRecap_ && stream == OutputStream::Stdout) {
        const size_t colon = text.find(" : ");
        if (colon == std::string_view::npos) return;
        std::string_view rest = text.substr(colon + 3);
        while (!rest.empty()) {
            while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
            const std::string_view token = rest.substr(0, rest.find(' '));
            rest.remove_prefix(token.size());
            const size_t eq = token.find('=');
            if (eq == std::string_view::npos) continue;
            int64_t n = 0;
            const std::string_view digits = token.substr(eq + 1);
            const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
            if (ec != std::errc() || end != digits.data() + digits.size() || n < 0 || n > 1000000000) continue;
            const std::string_view key = token.substr(0, eq);
            int64_t* slot = key == "ok"            ? &recap_.ok
                            : key == "changed"     ? &recap_.changed
                            : key == "unreachable" ? &recap_.unreachable
                            : key == "failed"      ? &recap_.failed
                            : key == "skipped"     ? &recap_.skipped
                            : key == "rescued"     ? &recap_.rescued
                            : key == "ignored"     ? &recap_.ignored
                                                   : nullptr;
            if (slot != nullptr && *slot < (int64_t(1) << 40)) *slot += n;
        }
    }
}

// A fatal report's JSON spread over lines (-vvv indents it): inner lines are indented and the
// last is "}". Anything else ends it unread and is a line of its own (returns false).
bool OutputParser::continueJson(std::string_view text) {
    if (text.empty() || (text.front() != ' ' && text.front() != '\t' && text.front() != '}')) {
        finishFatal(false);
        return false;
    }
    pendingJson_ += '\n';
    appendCapped(pendingJson_, text, kMaxJson);
    ++pendingLines_;
    if (text.front() == '}') {
        rapidjson::Document doc;
        doc.Parse(pendingJson_.data(), pendingJson_.size());
        if (!doc.HasParseError() && doc.IsObject()) {
            pending_.message = messageOf(doc);
            pendingJson_.clear();
            finishFatal(true);
            return true;
        }
    }
    if (pendingLines_ >= kMaxJsonLines || pendingJson_.size() >= kMaxJson) finishFatal(false);
    return true;
}

void OutputParser::startFatal(std::string_view text) {
    std::string_view rest = text.substr(std::strlen("fatal: ["));
    const size_t close = rest.find("]: ");
    pending_ = FatalReport{};
    pending_.task = task_;
    if (close == std::string_view::npos) {
        pending_.message = capped(rest);
        finishFatal(true);
        return;
    }
    pending_.host = capped(rest.substr(0, close), 200);
    rest.remove_prefix(close + 3);
    pending_.unreachable = startsWith(rest, "UNREACHABLE!");
    const size_t arrow = rest.find("=> ");
    const std::string_view json = arrow == std::string_view::npos ? std::string_view() : rest.substr(arrow + 3);
    if (json.empty() || json.front() != '{') {
        pending_.message = capped(trimmed(rest));
        finishFatal(true);
        return;
    }
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    if (!doc.HasParseError() && doc.IsObject()) {
        pending_.message = messageOf(doc);
        finishFatal(true);
        return;
    }
    pendingJson_.assign(json.substr(0, kMaxJson));
    pendingLines_ = 1;
}

void OutputParser::finishFatal(bool parsed) {
    if (!parsed) {
        // Unreadable JSON: its first line says more than nothing.
        const std::string_view first = std::string_view(pendingJson_).substr(0, pendingJson_.find('\n'));
        pending_.message = capped(trimmed(first));
    }
    pendingJson_.clear();
    pendingLines_ = 0;
    if (fatals_.size() == kMaxFatals) fatals_.erase(fatals_.begin());
    fatals_.push_back(std::move(pending_));
    pending_ = FatalReport{};
}

Verdict classify(const OutputParser& output, const ProcessOutcome& outcome, const RunContext& context) {
    switch (outcome.end) {
        case ProcessEnd::NotStarted:
            if (outcome.spawnErrno == ENOENT || outcome.spawnErrno == ENOTDIR) {
                return {PDK_ERR_UNAVAILABLE, context.command +
                                                 " not found (install the ansible package, or set "
                                                 "provisioning.settings.command)"};
            }
            if (outcome.spawnErrno == EACCES || outcome.spawnErrno == ENOEXEC || outcome.spawnErrno == EPERM) {
                return {PDK_ERR_UNAVAILABLE,
                        context.command + " cannot be executed: " + std::strerror(outcome.spawnErrno)};
            }
            return {PDK_ERR_INTERNAL, "cannot start " + context.command + ": " + std::strerror(outcome.spawnErrno)};
        case ProcessEnd::TimedOut:
            return {PDK_ERR_TIMEOUT, "ansible-playbook did not finish within " + seconds(context.timeoutMs) +
                                         " s (killed)"};
        case ProcessEnd::Cancelled:
            return {PDK_ERR_CANCELLED, "the run on " + context.vm + " was cancelled (ansible-playbook killed)"};
        case ProcessEnd::Signalled: {
            const char* name = ::sigabbrev_np(outcome.signal);
            return {PDK_ERR_INTERNAL, "ansible-playbook was killed by signal " + std::to_string(outcome.signal) +
                                          (name != nullptr ? std::string(" (SIG") + name + ")" : std::string())};
        }
        case ProcessEnd::Exited: break;
    }
    if (outcome.exitCode == 0) return {};

    const std::vector<FatalReport>& fatals = output.fatals();
    for (const FatalReport& f : fatals) {
        if (!f.unreachable) continue;
        return {PDK_ERR_UNAVAILABLE, "cannot reach " + context.vm + " over ssh at " + context.target + ": " +
                                         sshReason(f.message)};
    }
    for (const FatalReport& f : fatals) {
        if (!becomeRefused(f.message)) continue;
        return {PDK_ERR_FORBIDDEN, "privilege escalation (become) refused on " + context.vm + ": " + capped(f.message)};
    }
    if (!fatals.empty()) {
        const FatalReport& f = fatals.back();
        const std::string where = f.task.empty() ? std::string("a task") : "task \"" + f.task + "\"";
        return {PDK_ERR_INTERNAL, where + " failed on " + context.vm + ": " +
                                      capped(f.message.empty() ? std::string_view("no message") : f.message)};
    }
    if (output.fileNotFound() || (!output.error().empty() && (outcome.exitCode == 4 || outcome.exitCode == 5))) {
        return {PDK_ERR_INVALID_ARGUMENT, capped(output.error())};
    }
    std::string message = "ansible-playbook exited with status " + std::to_string(outcome.exitCode);
    const std::string& detail = !output.error().empty() ? output.error() : output.lastStderr();
    if (!detail.empty()) message += ": " + capped(detail);
    return {PDK_ERR_INTERNAL, message};
}

}  // namespace paddock::ansible
