#pragma once
// The supervisor's decisions as pure functions (OTP's supervisor.erl):
// given the strategy, the children as the supervisor sees them, one event
// and a clock reading, what to stop, forget and start. The supervisor
// process applies a plan (supervisor_server.cpp); the distributed
// supervisor reuses it over children on many nodes. Nothing here touches a
// process or reads a clock, so every rule is tested as a table
// (tests_cpp/sup/restart_plan_test.cpp).
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "noexpp/exit_reason.hpp"
#include "noexpp/sup/backoff.hpp"
#include "noexpp/sup/child_spec.hpp"

namespace noexpp::sup::plan {

using TimePoint = std::chrono::steady_clock::time_point;

/// Where a child stands (OTP's child pid: a pid, `undefined` or `{restarting, _}`).
enum class ChildState : std::uint8_t {
  running,     ///< started, not known to have exited
  stopped,     ///< not running and nothing will start it by itself
  restarting,  ///< owns a restart that is due later (a backoff delay or a retry after a failed start)
};

/// One child as the plan sees it. Children are given in start order.
struct Child {
  std::uint64_t key = 0;
  RestartType restart = RestartType::permanent;
  bool significant = false;
  ChildState state = ChildState::stopped;
  TimePoint started{};  ///< the last start (for backoff's healthy period)
  int attempt = 0;      ///< consecutive restarts (backoff's exponent)
};

/// The supervisor's settings and memory that decisions depend on.
struct Supervisor {
  Strategy strategy = Strategy::one_for_one;
  AutoShutdown auto_shutdown = AutoShutdown::never;
  int max_restarts = 3;
  Duration within = std::chrono::seconds(5);
  Backoff backoff;
  std::deque<TimePoint> restarts;  ///< restarts counted within the last `within`
  std::vector<Child> children;     ///< in start order
};

/// What happened. The supervisor records a child's exit (its state is
/// `stopped` in the view) before it asks what to do about it.
struct ChildExited {
  std::uint64_t key;
  ExitReason reason;
  Directive directive = Directive::restart;  ///< the decider's answer (restart when none)
  /// Set when the child was lost with its node (a distributed supervisor's
  /// child whose node died or was cut off): it comes back after this wait
  /// (the lease rule, DESIGN §7: its old copy has stopped itself by then),
  /// without counting toward the restart intensity and without backoff.
  std::optional<Duration> node_lost;
};
/// A restart owned by a child came due (OTP's try_again_restart). `counted`:
/// the restart was counted toward the intensity already (a backoff delay
/// after the exit); a retry after a failed start is counted now.
struct RestartDue {
  std::uint64_t key;
  bool counted = false;
};
/// Starting child `key` failed while a plan was applied (the children
/// after it in that plan were not started).
struct StartFailed {
  std::uint64_t key;
};

/// What to do. Apply in this order: stops (newest first), forgets, starts
/// (in start order; at the first failure, stop starting and report it as
/// StartFailed), then `restart_later`, then `end`.
struct Plan {
  /// The supervisor itself stops (OTP: {stop, shutdown}): a child escalated,
  /// the restart intensity was exceeded (both: "failed"), or auto_shutdown.
  enum class End : std::uint8_t { none, escalated, intensity_exceeded, auto_shutdown };
  End end = End::none;
  std::vector<std::uint64_t> stop;    ///< running children to stop, newest first
  std::vector<std::uint64_t> forget;  ///< children to drop from the supervisor
  /// Members of this restart's group that were waiting for a restart of
  /// their own: this one takes it over (they become stopped, their own
  /// RestartDue void), so the group comes back once, in start order.
  std::vector<std::uint64_t> absorbed;
  std::vector<std::uint64_t> start;   ///< children to start now, in start order
  /// A child that becomes `restarting`: its RestartDue comes after `delay`
  /// (zero: through a message to self, so that requests get in between).
  std::optional<std::uint64_t> restart_later;
  Duration delay = Duration::zero();
  bool delay_counted = false;  ///< the RestartDue's `counted`
  /// The supervisor's counted restarts after this event, and whether this
  /// event counted one.
  std::deque<TimePoint> restarts;
  bool counted = false;
  /// New attempt counts (backoff), by key.
  std::vector<std::pair<std::uint64_t, int>> attempts;

  bool ends() const { return end != End::none; }
};

/// OTP's restart table: does a child of this restart type come back after
/// an exit with this reason? (permanent: always; transient: after an
/// abnormal exit; temporary: never.)
bool should_restart(RestartType type, const ExitReason& reason);

/// Counts one restart at `now` in `restarts` (forgetting those older than
/// `within`); false when it is one more than `max_restarts`.
bool count_restart(std::deque<TimePoint>& restarts, int max_restarts, Duration within, TimePoint now);
/// Restarts within the period before `now`.
int recent_restarts(std::deque<TimePoint> restarts, Duration within, TimePoint now);

/// The children a restart of `key` takes down and brings back, in start
/// order: itself (one_for_one, simple_one_for_one), everyone (one_for_all),
/// itself and those started after it (rest_for_one).
std::vector<std::uint64_t> restart_group(Strategy strategy, const std::vector<Child>& children, std::uint64_t key);

/// `unit_random` (uniform in [0, 1)) drives the backoff jitter.
Plan on_exit(const Supervisor& sup, const ChildExited& e, TimePoint now, double unit_random);
Plan on_restart_due(const Supervisor& sup, const RestartDue& e, TimePoint now, double unit_random);
Plan on_start_failed(const Supervisor& sup, const StartFailed& e, TimePoint now, double unit_random);

/// Whether the end of significant child `exited` (not restarted) ends the
/// supervisor: any_significant always, all_significant once no other
/// significant child runs or waits to restart.
bool auto_shutdown_due(AutoShutdown mode, const std::vector<Child>& children, std::uint64_t exited);

}  // namespace noexpp::sup::plan
