// plugins/ansible redactor.cpp + ansible_output.cpp: ansible-playbook output, redacted and parsed.
//
// Input: the become secret up to the first '\n' (ignored when the plugin would refuse it), then
// output lines; a line starting with 0x01 is on stderr (the byte dropped). Every line is fed
// twice: whole, and cut into pieces (as a line longer than the runner's limit arrives).
// Invariants: the redacted text of a line does not depend on how it was cut, every piece handed
// on is at most kMaxLinePiece bytes and only the last one ends the line; no form of the secret
// survives redaction (unless the secret holds '*', which "********" itself is made of); the
// parser reads the same facts from whole lines as from pieces; recap counts are never negative;
// every verdict is a known status, OK only for exit status 0, with a bounded message otherwise.
#include "fuzz_support.hpp"

#include "ansible_output.hpp"
#include "ansible_inputs.hpp"
#include "redactor.hpp"

#include <paddock/cpp/error.hpp>

#include <cerrno>
#include <string>

namespace {

using namespace paddock;
using namespace paddock::ansible;

struct Fed {
    std::string text;  // the line as redacted, pieces joined
    size_t pieces = 0;
};

Fed redactLine(LineRedactor& redactor, const std::vector<std::string_view>& parts) {
    Fed fed;
    bool ended = false;
    const LineRedactor::Emit emit = [&](std::string_view piece, bool endOfLine) {
        FUZZ_CHECK(!ended);
        FUZZ_CHECK(piece.size() <= kMaxLinePiece);
        fed.text.append(piece);
        ++fed.pieces;
        ended = endOfLine;
    };
    for (size_t i = 0; i < parts.size(); ++i) redactor.feed(parts[i], i + 1 == parts.size(), emit);
    FUZZ_CHECK(ended);
    return fed;
}

void feedPieces(OutputParser& parser, OutputStream stream, std::string_view line) {
    const std::vector<std::string_view> parts = fuzz::pieces(line);
    if (parts.empty()) {
        parser.feed(stream, line, true);
        return;
    }
    for (size_t i = 0; i < parts.size(); ++i) parser.feed(stream, parts[i], i + 1 == parts.size());
}

bool sameFacts(const OutputParser& a, const OutputParser& b) {
    const RecapTotals &x = a.recap(), &y = b.recap();
    if (x.seen != y.seen || x.ok != y.ok || x.changed != y.changed || x.failed != y.failed ||
        x.unreachable != y.unreachable || x.skipped != y.skipped || x.rescued != y.rescued || x.ignored != y.ignored) {
        return false;
    }
    if (a.fatals().size() != b.fatals().size()) return false;
    for (size_t i = 0; i < a.fatals().size(); ++i) {
        const FatalReport &f = a.fatals()[i], &g = b.fatals()[i];
        if (f.unreachable != g.unreachable || f.task != g.task || f.host != g.host || f.message != g.message) return false;
    }
    return a.error() == b.error() && a.fileNotFound() == b.fileNotFound() && a.lastStderr() == b.lastStderr();
}

void checkVerdicts(const OutputParser& parser) {
    const RecapTotals& r = parser.recap();
    for (const int64_t n : {r.ok, r.changed, r.unreachable, r.failed, r.skipped, r.rescued, r.ignored}) FUZZ_CHECK(n >= 0);
    const RunContext context{"ansible-playbook", "vm1", "127.0.0.1:22001", 2500};
    for (const ProcessEnd end : {ProcessEnd::NotStarted, ProcessEnd::Exited, ProcessEnd::Signalled,
                                 ProcessEnd::TimedOut, ProcessEnd::Cancelled}) {
        for (const int code : {0, 1, 2, 4, 5, 250}) {
            ProcessOutcome o;
            o.end = end;
            o.exitCode = code;
            o.signal = 9;
            o.spawnErrno = ENOENT;
            const Verdict v = classify(parser, o, context);
            switch (v.status) {
                case PDK_OK:
                    FUZZ_CHECK(end == ProcessEnd::Exited && code == 0);
                    FUZZ_CHECK(v.message.empty());
                    break;
                case PDK_ERR_INVALID_ARGUMENT:
                case PDK_ERR_UNAVAILABLE:
                case PDK_ERR_FORBIDDEN:
                case PDK_ERR_INTERNAL:
                case PDK_ERR_TIMEOUT:
                case PDK_ERR_CANCELLED:
                    FUZZ_CHECK(!v.message.empty());
                    FUZZ_CHECK(v.message.size() < 4096);
                    break;
                default: FUZZ_CHECK(false);
            }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input = fuzz::asText(data, size);
    const size_t newline = input.find('\n');
    std::string_view secret = input.substr(0, newline);
    input = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
    try {
        checkBecomeSecret(secret);
    } catch (const pdk::Error&) {
        secret = {};
    }
    const SecretForms forms(secret);
    const bool starFree = secret.find('*') == std::string_view::npos;

    LineRedactor wholeOut(forms), wholeErr(forms), cutOut(forms), cutErr(forms);
    OutputParser whole, cut;
    while (!input.empty()) {
        const size_t end = input.find('\n');
        std::string_view line = input.substr(0, end);
        input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
        const bool err = !line.empty() && line[0] == '\x01';
        if (err) line.remove_prefix(1);
        const OutputStream stream = err ? OutputStream::Stderr : OutputStream::Stdout;

        const Fed a = redactLine(err ? wholeErr : wholeOut, {line});
        std::vector<std::string_view> parts = fuzz::pieces(line);
        if (parts.empty()) parts.push_back(line);
        const Fed b = redactLine(err ? cutErr : cutOut, parts);
        FUZZ_CHECK(a.text == b.text);
        FUZZ_CHECK(a.text == forms.redact(line));
        if (starFree) FUZZ_CHECK(forms.find(a.text, 0).first == std::string_view::npos);

        whole.feed(stream, a.text, true);
        feedPieces(cut, stream, a.text);
    }
    FUZZ_CHECK(sameFacts(whole, cut));
    checkVerdicts(whole);
    return 0;
}
