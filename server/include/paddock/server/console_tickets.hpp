// One-time console tickets: POST /api/v1/vms/{name}/console hands one to the lease owner's web
// app, which gives it to the student's browser; the browser presents it once (query `ticket=`)
// to open the terminal WebSocket of that VM. A ticket is bound to one VM, valid for `ttl`, and
// consumed by its first presentation whatever the outcome. Tickets live only in memory (a
// restart invalidates them) and never reach a log: errors do not contain them.
// Thread-safe.
#pragma once

#include "paddock/core/result.hpp"
#include "paddock/server/http_types.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace paddock::server {

struct ConsoleTicket {
    std::string ticket;  // 64 hex digits from the OS's random source
    std::chrono::system_clock::time_point expires_at{};
};

class ConsoleTickets {
public:
    explicit ConsoleTickets(std::chrono::seconds ttl = std::chrono::seconds(60), size_t maxOutstanding = 10000)
        : ttl_(ttl), maxOutstanding_(maxOutstanding) {}

    // Unavailable when `maxOutstanding` unexpired tickets exist already.
    Result<ConsoleTicket> issue(const std::string& site, const std::string& vm, const std::string& issuedBy);
    // Consumes `ticket`. Unauthorized when unknown, already used, expired, or for another VM
    // than `vm`.
    Result<ConsoleGrant> redeem(std::string_view ticket, const std::string& vm);

    std::chrono::seconds ttl() const noexcept { return ttl_; }

private:
    struct Entry {
        ConsoleGrant grant;
        std::chrono::steady_clock::time_point expires{};
    };
    void purgeExpired(std::chrono::steady_clock::time_point now);

    std::chrono::seconds ttl_;
    size_t maxOutstanding_;
    std::mutex mutex_;
    std::map<std::string, Entry, std::less<>> tickets_;
};

}  // namespace paddock::server
