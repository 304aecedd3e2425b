#pragma once
// The lease rule's timing (DESIGN §7), in one place for both of its sides:
// the node that runs a child (dist/child_leases.hpp) and the distributed
// supervisor that places it again after losing its node (dist/placement.hpp).
#include <chrono>

#include "noexpp/call.hpp"

namespace noexpp::dist::lease {

/// How often a node checks the leases it holds: a child outlives its lease
/// by at most this.
inline constexpr Duration kCheckEvery = std::chrono::milliseconds(50);
/// The clock-rate drift allowed between two nodes: 5 % (quartz drifts by
/// about 0.01 %; a loaded virtual machine's timers by more). No shared clock
/// is needed: each side measures its own interval.
inline constexpr double kDrift = 0.05;
/// A kill is unconditional and immediate; this covers the scheduling of the
/// check and frames still in flight when the supervisor closed the link.
inline constexpr Duration kStopMargin = std::chrono::milliseconds(200);

/// How long a supervisor that lost a child's node waits before it starts
/// the child elsewhere: by then the lost copy has certainly stopped itself.
constexpr Duration reclaim_wait(Duration lease) {
  return lease + std::chrono::duration_cast<Duration>(lease * kDrift) + kCheckEvery + kStopMargin;
}

}  // namespace noexpp::dist::lease
