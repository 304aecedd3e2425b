#pragma once
// Stopping children as OTP's supervisor does: an orderly shutdown request,
// `shutdown` time to exit, then kill.
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "noexpp/exit_reason.hpp"
#include "noexpp/node.hpp"

namespace noexpp::sup {

/// How one run of a child ended, told by a monitor set before its init ran.
/// A child that exits by itself just before its supervisor stops it is then
/// reported with its own reason, not noproc (OTP's supervisor takes that
/// reason from the child's EXIT when its monitor says noproc).
class ChildExit {
 public:
  /// Watches `child`, a process that exists (call it from SpawnOptions::on_created).
  static std::shared_ptr<ChildExit> watch(Node& node, Pid child);
  /// Calls `done(reason)` once the child has exited: now if it has. Once per
  /// run; `done` runs on the child's thread or here. Thread: any.
  void when_exited(std::function<void(const ExitReason&)> done);

 private:
  void exited(const ExitReason& reason);

  std::mutex mu_;
  std::optional<ExitReason> reason_;
  std::function<void(const ExitReason&)> done_;
};

struct ChildToStop {
  Pid pid;
  Duration shutdown;                ///< kBrutalKill (0) kills at once; kInfinity waits
  std::shared_ptr<ChildExit> exit;  ///< from the child's start
  ExitReason exited_with;           ///< filled in: the reason the child exited with
};

/// Stops every child in `children` at once and waits for all of them: each
/// gets its shutdown time from now, then is killed. `self` is the
/// supervisor (the sender of the signals; it unlinks first, so the children's
/// exits do not come back as EXIT messages). Blocks the calling thread; on
/// an engine thread a spare thread stands in. Thread: the supervisor's run.
void shutdown_children(Node& node, Pid self, std::vector<ChildToStop>& children);

}  // namespace noexpp::sup
