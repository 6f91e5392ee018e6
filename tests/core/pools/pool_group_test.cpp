// The balancing rule of a pool spanning sites (pool_group.hpp): how a shortfall is handed out and
// a surplus taken back under each policy, and what a site that does not count gets; and the
// allocation rule: which member's idle VM a lease takes.
#include "paddock/core/pool_group.hpp"

#include <catch2/catch.hpp>

#include <vector>

using paddock::allocationOrder;
using paddock::balanceTargets;
using paddock::MemberLoad;
using paddock::PlacementPolicy;
using paddock::PoolMemberStatus;
using Order = std::vector<size_t>;
using Targets = std::vector<uint32_t>;

namespace {

MemberLoad up(size_t ready, size_t idle, size_t total, size_t room) { return MemberLoad{true, ready, idle, total, room}; }
MemberLoad down() { return MemberLoad{}; }

PoolMemberStatus member(size_t idle, size_t allocated, bool connected = true, bool recovered = true) {
    PoolMemberStatus s;
    s.connected = connected;
    s.recovered = recovered;
    s.counts.idle = idle;
    s.counts.allocated = allocated;
    s.counts.total = idle + allocated;
    return s;
}

}  // namespace

TEST_CASE("pool balance: a shortfall goes to the emptiest site (spread) or the first with room (pack)", "[pool][group]") {
    // Empty pool, three sites with room: min_idle 4.
    const std::vector<MemberLoad> empty{up(0, 0, 0, 10), up(0, 0, 0, 10), up(0, 0, 0, 10)};
    CHECK(balanceTargets(empty, 4, PlacementPolicy::Spread) == Targets{2, 1, 1});
    CHECK(balanceTargets(empty, 4, PlacementPolicy::Pack) == Targets{4, 0, 0});
    // What a site already holds stays; only the shortfall moves.
    const std::vector<MemberLoad> uneven{up(3, 3, 5, 5), up(0, 0, 0, 10)};
    CHECK(balanceTargets(uneven, 5, PlacementPolicy::Spread) == Targets{3, 2});
    CHECK(balanceTargets(uneven, 5, PlacementPolicy::Pack) == Targets{5, 0});
    // Room (max_total less every other site's VMs) limits a site; pack then moves on to the next.
    const std::vector<MemberLoad> tight{up(0, 0, 3, 1), up(0, 0, 0, 2)};
    CHECK(balanceTargets(tight, 4, PlacementPolicy::Pack) == Targets{1, 2});
    CHECK(balanceTargets(tight, 4, PlacementPolicy::Spread) == Targets{1, 2});
    // Nothing is asked of a site with no room at all.
    CHECK(balanceTargets({up(0, 0, 4, 0), up(0, 0, 0, 0)}, 2, PlacementPolicy::Spread) == Targets{0, 0});
}

TEST_CASE("pool balance: a site that is down is written off and the others refill for it", "[pool][group]") {
    // Site b held two of the four idle VMs; it goes down: a is asked for all four.
    const std::vector<MemberLoad> lost{up(2, 2, 3, 7), down()};
    CHECK(balanceTargets(lost, 4, PlacementPolicy::Spread) == Targets{4, 0});
    CHECK(balanceTargets(lost, 4, PlacementPolicy::Pack) == Targets{4, 0});
    // Every site down: nothing to ask of anyone.
    CHECK(balanceTargets({down(), down()}, 3, PlacementPolicy::Spread) == Targets{0, 0});
}

TEST_CASE("pool balance: a surplus (a site came back) is taken back from the fullest (spread) or the last (pack)",
          "[pool][group]") {
    // a refilled to 4 while b was down; b is back with its 2: two too many.
    const std::vector<MemberLoad> back{up(4, 4, 4, 10), up(2, 2, 2, 10)};
    CHECK(balanceTargets(back, 4, PlacementPolicy::Spread) == Targets{2, 2});
    CHECK(balanceTargets(back, 4, PlacementPolicy::Pack) == Targets{4, 0});
    // Only idle VMs are taken back: VMs still being made are judged once they are idle.
    const std::vector<MemberLoad> making{up(3, 1, 3, 10), up(0, 0, 0, 10)};
    CHECK(balanceTargets(making, 1, PlacementPolicy::Spread) == Targets{2, 0});
    // Exactly min_idle: nobody changes.
    CHECK(balanceTargets({up(1, 1, 2, 5), up(2, 2, 2, 5)}, 3, PlacementPolicy::Spread) == Targets{1, 2});
    CHECK(balanceTargets({up(1, 1, 2, 5), up(2, 2, 2, 5)}, 3, PlacementPolicy::Pack) == Targets{1, 2});
    // min_idle 0: every idle VM is surplus.
    CHECK(balanceTargets({up(2, 2, 2, 5), up(1, 1, 1, 5)}, 0, PlacementPolicy::Spread) == Targets{0, 0});
}

TEST_CASE("pool allocation: spread takes the most idle, then the fewest allocated; pack the first", "[pool][group]") {
    // Nothing handed out yet, a tie: configuration order.
    CHECK(allocationOrder({member(1, 0), member(1, 0)}, PlacementPolicy::Spread) == Order{0, 1});
    // a handed out one and refilled: the tie goes to b, which has handed out none (whether or not
    // a's refill had finished, the second lease lands on b).
    CHECK(allocationOrder({member(1, 1), member(1, 0)}, PlacementPolicy::Spread) == Order{1, 0});
    CHECK(allocationOrder({member(0, 1), member(1, 0)}, PlacementPolicy::Spread) == Order{1});
    // More idle wins over fewer allocated.
    CHECK(allocationOrder({member(3, 5), member(1, 0)}, PlacementPolicy::Spread) == Order{0, 1});
    // Pack: configuration order, whatever the counts.
    CHECK(allocationOrder({member(1, 1), member(3, 0)}, PlacementPolicy::Pack) == Order{0, 1});
    // Down, still recovering, or with no idle VM: never tried.
    CHECK(allocationOrder({member(2, 0, false), member(2, 0, true, false), member(0, 0), member(1, 9)},
                          PlacementPolicy::Spread) == Order{3});
    CHECK(allocationOrder({}, PlacementPolicy::Pack).empty());
}
