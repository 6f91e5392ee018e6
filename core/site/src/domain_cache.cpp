#include "paddock/core/domain_cache.hpp"

#include <algorithm>

namespace paddock {

namespace {

// Field by field: DomainInfo has no operator== and backend.hpp is included everywhere.
bool sameDomain(const DomainInfo& a, const DomainInfo& b) {
    return a.name == b.name && a.uuid == b.uuid && a.id == b.id && a.state == b.state &&
           a.max_memory_kib == b.max_memory_kib && a.memory_kib == b.memory_kib && a.vcpus == b.vcpus &&
           a.cpu_time_ns == b.cpu_time_ns && a.has_managed_save == b.has_managed_save && a.metadata == b.metadata;
}

}  // namespace

void DomainCache::start(ListAll listAll, GetOne getOne, Listed listed) {
    listAll_ = std::move(listAll);
    getOne_ = std::move(getOne);
    listed_ = std::move(listed);
    thread_ = std::thread([this] { run(); });
}

void DomainCache::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::optional<std::vector<DomainInfo>> DomainCache::snapshot() const {
    std::lock_guard lock(mutex_);
    if (!valid_) return std::nullopt;
    std::vector<DomainInfo> out;
    out.reserve(domains_.size());
    for (const auto& [name, info] : domains_) out.push_back(info);
    return out;
}

std::optional<uint64_t> DomainCache::version() const {
    std::lock_guard lock(mutex_);
    if (!valid_) return std::nullopt;
    return version_;
}

std::optional<DomainInfo> DomainCache::find(const std::string& name) const {
    std::lock_guard lock(mutex_);
    const auto it = domains_.find(name);
    if (it == domains_.end()) return std::nullopt;
    return it->second;
}

void DomainCache::put(DomainInfo info) {
    std::lock_guard lock(mutex_);
    ++generation_;
    ++version_;
    const std::string name = info.name;
    domains_[name] = std::move(info);
}

void DomainCache::erase(const std::string& name) {
    std::lock_guard lock(mutex_);
    ++generation_;
    ++version_;
    domains_.erase(name);
}

void DomainCache::touch(const std::string& name) {
    {
        std::lock_guard lock(mutex_);
        touched_.insert(name);
    }
    wake_.notify_all();
}

void DomainCache::invalidate() {
    {
        std::lock_guard lock(mutex_);
        valid_ = false;
        relist_ = true;
        ++version_;
    }
    wake_.notify_all();
}

void DomainCache::setInterval(std::chrono::milliseconds interval) {
    std::lock_guard lock(mutex_);
    interval_ = interval;
}

void DomainCache::run() {
    auto nextFull = std::chrono::steady_clock::now();
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        wake_.wait_until(lock, nextFull, [&] { return stopping_ || relist_ || !touched_.empty(); });
        if (stopping_) break;
        const bool full = relist_ || std::chrono::steady_clock::now() >= nextFull;
        if (full) {
            relist_ = false;
            const uint64_t before = generation_;
            lock.unlock();
            auto listed = listAll_();
            if (listed && listed_) listed_(listed.value());
            lock.lock();
            nextFull = std::chrono::steady_clock::now() + interval_;
            if (!listed) {
                if (valid_) ++version_;
                valid_ = false;  // the site is unreachable: callers go live and get the error
                continue;
            }
            // A put/erase raced with this listing: the listing may predate it. Try again at once.
            if (generation_ != before) {
                relist_ = true;
                continue;
            }
            std::map<std::string, DomainInfo> fresh;
            for (auto& d : listed.value()) {
                const std::string name = d.name;
                fresh[name] = std::move(d);
            }
            // Counters (cpu_time, memory) move on their own: most listings of running domains
            // differ, an idle or shut-off set does not, and then whatever was derived stays good.
            const bool same =
                valid_ && fresh.size() == domains_.size() &&
                std::equal(fresh.begin(), fresh.end(), domains_.begin(), [](const auto& a, const auto& b) {
                    return a.first == b.first && sameDomain(a.second, b.second);
                });
            if (!same) ++version_;
            domains_.swap(fresh);
            touched_.clear();
            valid_ = true;
            continue;
        }
        std::set<std::string> names;
        names.swap(touched_);
        for (const auto& name : names) {
            const uint64_t before = generation_;
            lock.unlock();
            auto one = getOne_(name);
            lock.lock();
            if (generation_ != before) continue;  // a synchronous update is newer
            if (one) {
                ++version_;
                domains_[name] = std::move(one.value());
            } else if (one.error().code == ErrorCode::NotFound) {
                ++version_;
                domains_.erase(name);
            } else {
                relist_ = true;
            }
        }
    }
}

}  // namespace paddock
