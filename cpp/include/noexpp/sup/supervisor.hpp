#pragma once
/// Supervisors (DESIGN §5): a supervisor is a process that traps exits,
/// links to its children and restarts them by its strategy. C++ and Python
/// behaviors are supervised by this same code.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "noexpp/error.hpp"
#include "noexpp/node.hpp"
#include "noexpp/pid.hpp"
#include "noexpp/sup/child_spec.hpp"
#include "noexpp/sup/errors.hpp"

namespace noexpp::sup {

/// One child as which_children reports it.
struct ChildInfo {
  std::string id;
  Pid pid;                  ///< nil while not running (terminated, or waiting for a backoff restart)
  std::string behavior;     ///< the spec's behavior_name ("supervisor" for a nested supervisor)
  RestartType restart = RestartType::permanent;
  bool is_supervisor = false;
  int restart_count = 0;
  double started_at = 0;    ///< wall clock, seconds since the epoch (0 if not running)
  /// "running"; "restarting" (a restart is due: a backoff, or a retry after
  /// a failed start; OTP's `restarting`); "stopped" (terminated, ignored, or
  /// waiting for a group restart another child owns).
  std::string status;
  /// The node it runs (or last ran) on: the supervisor's own for a local
  /// supervisor, any member's for a distributed one.
  std::string node_id;
};

struct ChildCounts {
  int specs = 0;        ///< children the supervisor knows
  int active = 0;       ///< running now
  int supervisors = 0;  ///< of the specs, nested supervisors
  int workers = 0;
};

struct ChildStats {
  std::string id;
  Pid pid;
  int restart_count = 0;
  std::string last_error;  ///< the last abnormal exit reason, "" if none
  double uptime = 0;       ///< seconds since its last start (0 if not running)
  std::string node_id;     ///< where it runs (or last ran)
};

struct SupervisorStats {
  bool running = false;
  std::string health;          ///< healthy | degraded (restarts in the window) | restarting (a restart waits) | stopped | failed
  std::size_t child_count = 0;
  std::uint64_t total_restarts = 0;  ///< every restart, node_failure_restarts included
  /// Restarts of children lost with their node (a distributed supervisor's);
  /// they never count toward the restart intensity.
  std::uint64_t node_failure_restarts = 0;
  double uptime = 0;           ///< seconds since start (frozen when stopped)
  std::string stop_reason;     ///< "" while running
  std::error_code stop_error;  ///< SupErrc::max_restarts_exceeded when it gave up
  std::vector<ChildStats> children;
};

class RequestBox;  // shared between handles and the supervisor process

/// A handle on a running (or stopped) supervisor. Copyable; the calls are
/// synchronous requests to the supervisor process. Thread: any, except the
/// supervisor's own children calling it from init (that would deadlock, as in OTP).
class Supervisor {
 public:
  Supervisor() = default;
  Supervisor(std::shared_ptr<Node> node, Pid pid, std::shared_ptr<RequestBox> box);

  Pid pid() const { return pid_; }
  Node& node() const { return *node_; }
  bool running() const;

  /// Adds and starts a child (not for simple_one_for_one).
  Result<Pid> start_child(ChildSpec spec, Duration timeout = kInfinity);
  /// simple_one_for_one: starts a child from the template with `extra_args`
  /// appended to its args.
  Result<Pid> start_child(Term extra_args, Duration timeout = kInfinity);
  /// Stops a child and keeps its spec (deleted if temporary); not restarted.
  Result<bool> terminate_child(const std::string& id, Duration timeout = kInfinity);
  /// simple_one_for_one: stops that child and forgets it.
  Result<bool> terminate_child(Pid child, Duration timeout = kInfinity);
  /// Starts a terminated child again from its spec.
  Result<Pid> restart_child(const std::string& id, Duration timeout = kInfinity);
  /// Forgets a terminated child's spec.
  Result<bool> delete_child(const std::string& id, Duration timeout = kDefaultCallTimeout);
  /// The spec of child `id` (OTP's get_childspec).
  Result<ChildSpec> get_childspec(const std::string& id, Duration timeout = kDefaultCallTimeout);
  /// simple_one_for_one: the spec a child (by pid) was started from.
  Result<ChildSpec> get_childspec(Pid child, Duration timeout = kDefaultCallTimeout);
  Result<std::vector<ChildInfo>> which_children(Duration timeout = kDefaultCallTimeout);
  /// A handle on the running nested supervisor with child id `id` (it
  /// stops working when that supervisor is restarted: ask again).
  Result<Supervisor> child_supervisor(const std::string& id, Duration timeout = kDefaultCallTimeout);
  Result<ChildCounts> count_children(Duration timeout = kDefaultCallTimeout);
  /// Works after the supervisor stopped, too (then it reports why).
  SupervisorStats stats(Duration timeout = kDefaultCallTimeout);
  /// Stops the children in reverse start order, then the supervisor.
  Result<bool> stop(Duration timeout = kInfinity);

 private:
  std::shared_ptr<Node> node_;
  Pid pid_;
  std::shared_ptr<RequestBox> box_;
};

/// Validates `spec`, spawns the supervisor process and starts its children
/// in order. If a child fails to start, the ones already started are stopped
/// in reverse and the error (Errc::init_failed) names the child and why.
/// `opts.link_to` makes that process the supervisor's parent. Thread: any
/// (not a child's init of this supervisor).
Result<Supervisor> start_supervisor(const std::shared_ptr<Node>& node, SupervisorSpec spec,
                                    const SpawnOptions& opts = {});

}  // namespace noexpp::sup
