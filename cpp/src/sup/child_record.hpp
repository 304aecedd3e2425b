#pragma once
// A supervisor's record of one child: its spec and what happened to it.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "noexpp/pid.hpp"
#include "noexpp/sup/child_spec.hpp"
#include "sup/restart_plan.hpp"

namespace noexpp::sup {

class RequestBox;
class ChildExit;

struct ChildRecord {
  std::uint64_t key = 0;  ///< unique within the supervisor (ids of simple_one_for_one children repeat)
  ChildSpec spec;
  Pid pid;                ///< nil while not running
  /// The last pid it ran as: a simple_one_for_one child is known by it, also
  /// while it waits to restart.
  Pid last_pid;
  plan::ChildState state = plan::ChildState::stopped;
  /// The scheduled restart (a timer or message to self) a `restarting` child
  /// waits for; a restart message with another token is stale and ignored
  /// (the child was terminated and restarted by hand since it was sent).
  std::uint64_t restart_token = 0;
  int restart_count = 0;  ///< restarts since the child was added
  int attempt = 0;        ///< consecutive restarts; back to 0 after a healthy period
  std::chrono::steady_clock::time_point started_mono{};
  double started_at = 0;  ///< wall clock of the last start
  std::string last_error;
  /// The node it runs (or last ran) on.
  std::string node_id;
  /// Set while a child lost with its node waits to be placed again: the
  /// node it was lost with (its next start is a migration).
  std::string lost_from;
  bool lost_with_leaving_node = false;  ///< its node said it was stopping (else: found down)
  /// Why it last went down: its exit reason, or ChildStartError when a start
  /// failed (what a restart that comes due later is about).
  ExitReason last_failure;
  /// A nested supervisor's request box (handles on it come from here).
  std::shared_ptr<RequestBox> nested;
  /// The decider's answer, written in the child's thread when a handler
  /// raises and read by the supervisor when the child's EXIT arrives.
  std::shared_ptr<std::atomic<Directive>> directive = std::make_shared<std::atomic<Directive>>(Directive::restart);
  /// How its current run ends (set when it starts; see ChildExit).
  std::shared_ptr<ChildExit> exit;

  bool running() const { return state == plan::ChildState::running; }
  bool restarting() const { return state == plan::ChildState::restarting; }
};

}  // namespace noexpp::sup
