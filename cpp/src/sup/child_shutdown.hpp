#pragma once
// Stopping children as OTP's supervisor does: an orderly shutdown request,
// `shutdown` time to exit, then kill.
#include <utility>
#include <vector>

#include "noexpp/exit_reason.hpp"
#include "noexpp/node.hpp"

namespace noexpp::sup {

struct ChildToStop {
  Pid pid;
  Duration shutdown;     ///< kBrutalKill (0) kills at once; kInfinity waits
  ExitReason exited_with;  ///< filled in: the reason the child exited with
};

/// Stops every child in `children` at once and waits for all of them: each
/// gets its shutdown time from now, then is killed. `self` is the
/// supervisor (the sender of the signals; it unlinks first, so the children's
/// exits do not come back as EXIT messages). Blocks the calling thread; on
/// an engine thread a spare thread stands in. Thread: the supervisor's run.
void shutdown_children(Node& node, Pid self, std::vector<ChildToStop>& children);

}  // namespace noexpp::sup
