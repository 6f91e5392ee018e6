#include "paddock/core/runtime.hpp"

#include <algorithm>

namespace paddock {

PlacementTicket::~PlacementTicket() {
    if (runtime_ != nullptr) runtime_->releasePlacement(id_);
}

void Runtime::releasePlacement(uint64_t id) {
    std::lock_guard lock(placementMutex_);
    pendingCreates_.erase(id);
    ++finishedCreates_;
}

Result<PlacedCreate> Runtime::placeCreate(const CreateVmRequest& request, const std::string& siteName) {
    if (sites_.empty()) return makeError(ErrorCode::Unavailable, "no site is configured");
    const std::string templateName = request.template_name.value_or("");
    std::vector<const SiteEntry*> entries;
    if (siteName.empty()) {
        for (const auto& e : sites_) entries.push_back(&e);
    } else {
        auto named = entry(siteName);
        if (!named) return std::move(named).error();
        entries.push_back(named.value());
    }

    // The sites' loads and name lookups are taken without the lock: before a site's first full
    // listing they may be a live call to a host that hangs until keepalive gives up, and creates
    // on the other sites must not wait for it. They come from indexes the sites keep, never a
    // listing of every domain per create. A create that finished meanwhile makes them stale (its
    // name, its room): then they are taken again, a few times at most; beyond, the create itself
    // still refuses a name taken on its own site.
    std::unique_lock lock(placementMutex_, std::defer_lock);
    std::vector<Result<SiteLoad>> loads;
    std::vector<Result<bool>> taken;
    for (int attempt = 0;; ++attempt) {
        lock.lock();
        const uint64_t finishedBefore = finishedCreates_;
        lock.unlock();
        loads.clear();
        taken.clear();
        for (const auto& e : sites_) {
            loads.push_back(e.site->load());
            taken.push_back(e.site->hasDomain(request.name));
        }
        lock.lock();
        if (finishedCreates_ == finishedBefore || attempt == 2) break;
        lock.unlock();
    }

    for (const auto& [id, pending] : pendingCreates_)
        if (pending.name == request.name)
            return makeError(ErrorCode::AlreadyExists, "VM '" + request.name + "' is being created on site '" +
                                                           pending.site + "'");
    const auto indexOf = [&](const SiteEntry* e) { return static_cast<size_t>(e - sites_.data()); };
    std::vector<PlacementCandidate> candidates;
    for (const SiteEntry* e : entries) {
        PlacementCandidate c = placementCandidate(e->site->config(), loads[indexOf(e)], templateName,
                                                  request.memory_mb.value_or(0), e->site->placementFacts(templateName));
        for (const auto& [id, pending] : pendingCreates_) {
            if (pending.site != c.site) continue;
            ++c.vm_count;
            c.committed_memory_mb += pending.memory_mb;
            // The host's figure predates creates still in flight: they will take theirs too.
            if (c.free_memory_mb) c.free_memory_mb = *c.free_memory_mb - std::min(*c.free_memory_mb, pending.memory_mb);
        }
        candidates.push_back(std::move(c));
    }
    // Names are unique per deployment: every reachable site is asked, not only the candidates.
    for (const auto& e : sites_) {
        const auto& exists = taken[indexOf(&e)];
        if (exists && exists.value())
            // One site: the words the create itself (and COMPAT.md's clients) always had.
            return makeError(ErrorCode::AlreadyExists, "VM '" + request.name + "' already exists" +
                                                           (sites_.size() > 1 ? " on site '" + e.site->name() + "'" : ""));
    }

    PlacementDecision decision;
    // With one site there is nothing to choose: it is treated as named, so that a missing template
    // or a down hypervisor answers as the create always has (400 naming the templates, 503).
    if (siteName.empty() && sites_.size() > 1) {
        auto chosen = choosePlacement(candidates, PlacementRequest{templateName, config_.placement.policy});
        if (!chosen) return std::move(chosen).error();
        decision = std::move(chosen.value());
    } else {
        PlacementCandidate c = candidates.front();
        c.selector_matches = true;  // a named site is the client's choice; only its capacity counts
        // Not checked for files either: the create goes to the hypervisor, which refuses a
        // base image it does not have, as it always has.
        c.template_unusable.clear();
        // Down, or without the template: the create itself answers as it always has (503, 400).
        const bool capacityOnly = c.up && c.has_template;
        if (auto why = placementRefusal(c, PlacementRequest{templateName, PlacementPolicy::Pack}); why && capacityOnly)
            return makeError(ErrorCode::Conflict, "site '" + c.site + "' is full: " + *why);
        decision = siteName.empty()
                       ? PlacementDecision{c.site, std::string(enumName(config_.placement.policy)), "the only site"}
                       : PlacementDecision{c.site, "requested", "the request named the site"};
    }
    const SiteEntry* target = *std::find_if(entries.begin(), entries.end(),
                                            [&](const SiteEntry* e) { return e->site->name() == decision.site; });
    const PlacementCandidate& placed = *std::find_if(candidates.begin(), candidates.end(),
                                                     [&](const PlacementCandidate& c) { return c.site == decision.site; });
    const uint64_t id = nextPlacement_++;
    pendingCreates_.emplace(id, PendingCreate{decision.site, request.name, placed.new_vm_memory_mb});
    return PlacedCreate{target->vms.get(), std::move(decision), PlacementTicket(this, id)};
}

}  // namespace paddock
