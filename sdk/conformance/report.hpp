// The kit's output: one line per check (PASS / FAIL / SKIP group/check), free-form notes, and a
// summary. Thread-safe: checks may report from several threads.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace paddock::conformance {

class Report {
public:
    // FAILs of these checks are printed as "WAIVED check: why" and do not count as failures:
    // known violations a test accepts until they are fixed.
    void waive(std::vector<std::string> checks) { waived_ = std::move(checks); }
    void pass(std::string_view check);
    void pass(std::string_view check, std::string_view detail);  // PASS check: detail
    void fail(std::string_view check, std::string_view why);
    void skip(std::string_view check, std::string_view why);
    // pass(check) when ok, else fail(check, why); returns ok.
    bool expect(bool ok, std::string_view check, std::string_view why);
    // A line that is not a check (tables, headings).
    void note(std::string_view line);
    void summary();

    int passed() const;
    int failed() const;
    int skipped() const;

private:
    void line(std::string_view text);

    mutable std::mutex mutex_;
    int passed_ = 0;
    int failed_ = 0;
    int skipped_ = 0;
    int waivedCount_ = 0;
    std::vector<std::string> waived_;
};

}  // namespace paddock::conformance
