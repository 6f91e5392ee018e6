#include "paddock/core/domain_cache.hpp"

namespace paddock {

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

std::optional<DomainInfo> DomainCache::find(const std::string& name) const {
    std::lock_guard lock(mutex_);
    const auto it = domains_.find(name);
    if (it == domains_.end()) return std::nullopt;
    return it->second;
}

void DomainCache::put(DomainInfo info) {
    std::lock_guard lock(mutex_);
    ++generation_;
    const std::string name = info.name;
    domains_[name] = std::move(info);
}

void DomainCache::erase(const std::string& name) {
    std::lock_guard lock(mutex_);
    ++generation_;
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
                valid_ = false;  // the site is unreachable: callers go live and get the error
                continue;
            }
            // A put/erase raced with this listing: the listing may predate it. Try again at once.
            if (generation_ != before) {
                relist_ = true;
                continue;
            }
            domains_.clear();
            for (auto& d : listed.value()) {
                const std::string name = d.name;
                domains_[name] = std::move(d);
            }
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
                domains_[name] = std::move(one.value());
            } else if (one.error().code == ErrorCode::NotFound) {
                domains_.erase(name);
            } else {
                relist_ = true;
            }
        }
    }
}

}  // namespace paddock
