// TMPDIR set for a scope and restored after it, also when a REQUIRE ends a test early: the
// plugin makes its run directories under $TMPDIR. Not thread-safe (setenv).
#pragma once

#include <cstdlib>
#include <optional>
#include <string>

class ScopedTmpdir {
public:
    explicit ScopedTmpdir(const std::string& dir) {
        if (const char* old = std::getenv("TMPDIR")) old_ = old;
        ::setenv("TMPDIR", dir.c_str(), 1);
    }
    ~ScopedTmpdir() {
        if (old_)
            ::setenv("TMPDIR", old_->c_str(), 1);
        else
            ::unsetenv("TMPDIR");
    }
    ScopedTmpdir(const ScopedTmpdir&) = delete;
    ScopedTmpdir& operator=(const ScopedTmpdir&) = delete;

private:
    std::optional<std::string> old_;
};
