#include "paddock/server/console_tickets.hpp"

#include "paddock/core/ids.hpp"

namespace paddock::server {

void ConsoleTickets::purgeExpired(std::chrono::steady_clock::time_point now) {
    for (auto it = tickets_.begin(); it != tickets_.end();) {
        if (it->second.expires <= now)
            it = tickets_.erase(it);
        else
            ++it;
    }
}

Result<ConsoleTicket> ConsoleTickets::issue(const std::string& site, const std::string& vm,
                                            const std::string& issuedBy) {
    const auto now = std::chrono::steady_clock::now();
    ConsoleTicket ticket{randomId("", 64), std::chrono::system_clock::now() + ttl_};
    std::lock_guard lock(mutex_);
    purgeExpired(now);
    if (tickets_.size() >= maxOutstanding_)
        return makeError(ErrorCode::Unavailable, "too many unused console tickets; try again in a minute");
    tickets_[ticket.ticket] = Entry{ConsoleGrant{site, vm, issuedBy}, now + ttl_};
    return ticket;
}

Result<ConsoleGrant> ConsoleTickets::redeem(std::string_view ticket, const std::string& vm) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    const auto it = tickets_.find(ticket);
    if (it == tickets_.end())
        return makeError(ErrorCode::Unauthorized, "unknown or already used console ticket (tickets are single use)");
    // Consumed by any presentation: a leaked ticket that was tried once is worthless.
    const Entry entry = std::move(it->second);
    tickets_.erase(it);
    if (entry.expires <= now)
        return makeError(ErrorCode::Unauthorized,
                         "console ticket expired (valid " + std::to_string(ttl_.count()) + " s)");
    if (entry.grant.vm != vm) return makeError(ErrorCode::Unauthorized, "console ticket is for another VM");
    return entry.grant;
}

}  // namespace paddock::server
