#include "paddock/core/crash_point.hpp"

#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <mutex>

namespace paddock {

namespace detail {
std::atomic<bool> crashPointArmed{false};
}  // namespace detail

namespace {

constexpr const char* kEnvironmentVariable = "PADDOCK_CRASH_POINT";

// Written only by armCrashPoint, before the threads that reach crash points exist.
std::string armedName;
uint64_t armedHit = 1;
std::atomic<uint64_t> hits{0};

void writeAll(const std::string& text) noexcept {
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(STDERR_FILENO, text.data() + done, text.size() - done);
        if (n <= 0) return;
        done += static_cast<size_t>(n);
    }
}

}  // namespace

namespace detail {

void reachCrashPoint(std::string_view name) noexcept {
    if (name != armedName) return;
    if (hits.fetch_add(1) + 1 != armedHit) return;
    writeAll("paddockd: crash point " + armedName + " reached (hit " + std::to_string(armedHit) + "): SIGKILL\n");
    ::kill(::getpid(), SIGKILL);
    for (;;) ::pause();  // SIGKILL cannot be caught; nothing after this step may run
}

}  // namespace detail

Status armCrashPoint(std::string_view spec) {
    detail::crashPointArmed.store(false);
    armedName.clear();
    armedHit = 1;
    hits.store(0);
    if (spec.empty()) return {};
    std::string_view name = spec;
    uint64_t hit = 1;
    if (const auto colon = spec.find(':'); colon != std::string_view::npos) {
        name = spec.substr(0, colon);
        const std::string_view count = spec.substr(colon + 1);
        const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), hit);
        if (ec != std::errc() || end != count.data() + count.size() || hit == 0)
            return makeError(ErrorCode::InvalidArgument, std::string(kEnvironmentVariable) + ": '" +
                                                             std::string(count) + "' is not a hit count >= 1 (" +
                                                             std::string(spec) + ")");
    }
    if (!isCrashPoint(name)) {
        std::string known;
        for (const auto point : kCrashPoints) known.append(known.empty() ? "" : ", ").append(point);
        return makeError(ErrorCode::InvalidArgument, std::string(kEnvironmentVariable) + ": unknown crash point '" +
                                                         std::string(name) + "' (known: " + known + ")");
    }
    armedName = std::string(name);
    armedHit = hit;
    detail::crashPointArmed.store(true);
    return {};
}

Status armCrashPointFromEnvironment() {
    const char* value = std::getenv(kEnvironmentVariable);
    return armCrashPoint(value == nullptr ? std::string_view() : std::string_view(value));
}

std::string armedCrashPoint() { return detail::crashPointArmed.load() ? armedName : std::string(); }

}  // namespace paddock
