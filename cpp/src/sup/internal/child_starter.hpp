#pragma once
// How a supervisor starts its workers: the surface the sup layer offers the
// distributed supervisor (dist/), which places children on other nodes. The
// supervisor process is the same either way (one implementation of the
// strategies, intensity, events and stops, DESIGN §7); only this differs.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "noexpp/error.hpp"
#include "noexpp/node.hpp"
#include "noexpp/pid.hpp"
#include "noexpp/sup/child_spec.hpp"
#include "noexpp/sup/supervisor.hpp"

namespace noexpp::sup {

/// Which child of which supervisor a start is for.
struct ChildStart {
  Pid supervisor;
  std::uint64_t key = 0;  ///< unique in the supervisor (simple_one_for_one children share an id)
  /// Grows with every start of this supervisor: a node refuses a start older
  /// than the copy of the same child it holds.
  std::uint64_t epoch = 0;
};

/// One run of a child, as a starter made it.
struct StartedChild {
  Pid pid;              ///< nil when its init answered ignore
  std::string node_id;  ///< where it runs
};

class ChildStarter {
 public:
  virtual ~ChildStarter() = default;
  /// Starts a run of worker `spec`, linked to the supervisor (which traps
  /// exits). `here` holds what a spawn on this node uses (the link, the
  /// name, the decider's hook, the exit watch set before init); a child
  /// started elsewhere is linked there and watched once started.
  /// Errc::ignored for ignore. Thread: the supervisor's.
  virtual Result<StartedChild> start(Node& node, const ChildStart& which, const ChildSpec& spec,
                                     const SpawnOptions& here) = 0;
  /// True when children may run on other nodes (events then name the node).
  virtual bool distributed() const { return false; }
  /// Whether the exit of `child` with `reason` means it was lost with its
  /// node rather than failed; then the wait before it starts again: the
  /// lease rule's for a node found down (reason noconnection, DESIGN §7),
  /// none for a node that said it is leaving (its exit is certain). Such a
  /// restart never counts toward the intensity. None: an exit as any other.
  virtual std::optional<Duration> lost_with_node(Pid child, const ExitReason& reason) const {
    (void)child;
    (void)reason;
    return std::nullopt;
  }
};

/// The local supervisor's starter: spawns on the supervisor's node.
class LocalStarter final : public ChildStarter {
 public:
  Result<StartedChild> start(Node& node, const ChildStart& which, const ChildSpec& spec,
                             const SpawnOptions& here) override;
};

/// Validates `spec` and starts a supervisor process whose workers `starter`
/// starts (nested supervisors always run beside it).
Result<Supervisor> start_supervisor_with(const std::shared_ptr<Node>& node, SupervisorSpec spec,
                                         std::shared_ptr<ChildStarter> starter, const SpawnOptions& opts = {});

}  // namespace noexpp::sup
