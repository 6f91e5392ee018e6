#include "report.hpp"

#include <cstdio>

namespace paddock::conformance {

namespace {

constexpr size_t kMaxReason = 400;

// A reason on one short line: control characters (a plugin's message may hold newlines) become
// spaces, and a long one (a message quoting a 10 KB name) is cut.
std::string oneLine(std::string_view text) {
    std::string out(text.substr(0, kMaxReason));
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    }
    if (text.size() > kMaxReason) out += "...";
    return out;
}

}  // namespace

void Report::line(std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void Report::pass(std::string_view check) {
    std::lock_guard lock(mutex_);
    ++passed_;
    line("PASS " + std::string(check));
}

void Report::pass(std::string_view check, std::string_view detail) {
    std::lock_guard lock(mutex_);
    ++passed_;
    line("PASS " + std::string(check) + ": " + oneLine(detail));
}

void Report::fail(std::string_view check, std::string_view why) {
    std::lock_guard lock(mutex_);
    for (const auto& w : waived_) {
        if (w == check) {
            ++waivedCount_;
            line("WAIVED " + std::string(check) + ": " + oneLine(why));
            return;
        }
    }
    ++failed_;
    line("FAIL " + std::string(check) + ": " + oneLine(why));
}

void Report::skip(std::string_view check, std::string_view why) {
    std::lock_guard lock(mutex_);
    ++skipped_;
    line("SKIP " + std::string(check) + ": " + oneLine(why));
}

bool Report::expect(bool ok, std::string_view check, std::string_view why) {
    if (ok) {
        pass(check);
    } else {
        fail(check, why);
    }
    return ok;
}

void Report::note(std::string_view text) {
    std::lock_guard lock(mutex_);
    line(text);
}

void Report::summary() {
    std::lock_guard lock(mutex_);
    line("summary: " + std::to_string(passed_) + " passed, " + std::to_string(failed_) + " failed, " +
         std::to_string(skipped_) + " skipped" +
         (waivedCount_ > 0 ? ", " + std::to_string(waivedCount_) + " waived" : std::string()));
}

int Report::passed() const {
    std::lock_guard lock(mutex_);
    return passed_;
}

int Report::failed() const {
    std::lock_guard lock(mutex_);
    return failed_;
}

int Report::skipped() const {
    std::lock_guard lock(mutex_);
    return skipped_;
}

}  // namespace paddock::conformance
