#pragma once
// A supervisor's record of one child: its spec and what happened to it.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "noexpp/core/behavior.hpp"
#include "noexpp/core/pid.hpp"
#include "noexpp/sup/child_spec.hpp"

namespace noexpp::sup {

class SupervisorState;

struct ChildRecord {
  std::uint64_t key = 0;  ///< unique within the supervisor (ids of simple_one_for_one children repeat)
  ChildSpec spec;
  Pid pid;                ///< nil while not running
  bool restart_pending = false;  ///< waiting (backoff or retry) to be started again
  /// The scheduled restart (a timer or message to self) this wait belongs
  /// to; a restart message with another token is stale and ignored (the
  /// child was terminated and restarted by hand, or joined a newer group
  /// restart, since it was sent).
  std::uint64_t restart_token = 0;
  int restart_count = 0;  ///< restarts since the child was added
  int attempt = 0;        ///< consecutive restarts; back to 0 after a healthy period
  std::chrono::steady_clock::time_point started_mono{};
  double started_at = 0;  ///< wall clock of the last start
  std::string last_error;
  /// The decider's answer, written in the child's thread when a handler
  /// raises and read by the supervisor when the child's EXIT arrives.
  /// A nested supervisor's shared state (handles on it come from here).
  std::shared_ptr<SupervisorState> nested_state;
  std::shared_ptr<std::atomic<Directive>> directive = std::make_shared<std::atomic<Directive>>(Directive::restart);

  bool running() const { return !pid.is_nil(); }
};

}  // namespace noexpp::sup
