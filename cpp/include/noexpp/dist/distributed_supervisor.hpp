#pragma once
/// The distributed supervisor (DESIGN §7): a supervisor whose children run
/// on the nodes of a cluster, placed by a node selector and started there
/// by behavior name. Crashes are handled by the strategy exactly as by a
/// local supervisor (the same supervisor process and restart plan); a child
/// whose node dies or is cut off comes back on a live node, not counted
/// toward the restart intensity, once the lease rule says its old copy has
/// stopped: at most one live instance per child.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "noexpp/cluster/cluster.hpp"
#include "noexpp/error.hpp"
#include "noexpp/node.hpp"
#include "noexpp/sup/supervisor.hpp"
#include "noexpp/term.hpp"

namespace noexpp::dist {

/// Where a child runs. The candidates are the live members (hidden nodes
/// excluded) and the supervisor's own node.
struct NodeSelector {
  enum class Kind : std::uint8_t {
    local_first,   ///< the supervisor's node; the first other member when the behavior is not registered here
    round_robin,   ///< the candidates in id order, in turn (per supervisor)
    least_loaded,  ///< the fewest processes (this node's count; the others' from their heartbeats)
    random,        ///< uniformly
    node,          ///< the member `node` only
    custom,        ///< `choose`
  };
  /// Picks the id of one of `nodes` for `child_id`. Runs on the supervisor's
  /// thread; an id that is not a candidate is NoAvailableNode.
  using Choose = std::function<std::string(const std::vector<cluster::MemberInfo>& nodes, const std::string& child_id)>;

  Kind kind = Kind::local_first;
  std::string node;
  Choose choose;

  /// "local_first", ..., "{node: beta@127.0.0.1:4370}", "custom".
  std::string describe() const;
};

/// Parses "local_first", "round_robin", "least_loaded", "random".
std::optional<NodeSelector::Kind> parse_selector(std::string_view s);

/// One child: a behavior by name, started with `args` on every (re)start on
/// the node its selector picks, from that node's behavior registry.
struct DistributedChildSpec {
  std::string id;
  std::string behavior_name;
  Term args = Term::list({});
  sup::RestartType restart = sup::RestartType::permanent;
  std::optional<NodeSelector> node_selector;  ///< none: the supervisor's
  Duration shutdown = std::chrono::seconds(5);  ///< then killed; zero kills at once
  bool significant = false;
  /// Handed back by get_childspec; the engine never reads it.
  std::shared_ptr<const void> user_data;
};

struct DistributedSupervisorSpec {
  sup::Strategy strategy = sup::Strategy::one_for_one;
  NodeSelector node_selector;
  int max_restarts = 3;
  Duration within = std::chrono::seconds(5);
  sup::Backoff backoff;
  sup::AutoShutdown auto_shutdown = sup::AutoShutdown::never;
  std::vector<DistributedChildSpec> children;  ///< started in this order, stopped in reverse
  std::optional<DistributedChildSpec> child_template;  ///< simple_one_for_one
  std::string name;  ///< registers the supervisor locally; names it in events
  /// The lease rule: a node stops the children it runs for this supervisor
  /// once it has heard nothing from the supervisor's node for `lease` (or
  /// lost its connection to it), and the supervisor starts a child it lost
  /// with its node again after reclaim_wait(lease).
  Duration lease = std::chrono::seconds(1);
  /// How long a start on another node may take, its init included.
  Duration start_timeout = std::chrono::seconds(10);
};

/// The wait between losing a child's node and starting the child again:
/// the lease, a clock-rate drift of 5 %, the check interval and a stop
/// margin (dist/lease.hpp).
Duration reclaim_wait(Duration lease);

/// A handle on a distributed supervisor: a sup::Supervisor (which_children
/// and stats name each child's node) whose start_child takes distributed
/// specs. Thread: any but the supervisor's own children's init.
class DistributedSupervisor : public sup::Supervisor {
 public:
  DistributedSupervisor() = default;
  explicit DistributedSupervisor(sup::Supervisor s) : sup::Supervisor(std::move(s)) {}

  Result<Pid> start_child(DistributedChildSpec spec, Duration timeout = kInfinity);
  /// simple_one_for_one: from the template, with `extra_args` appended.
  Result<Pid> start_child(Term extra_args, Duration timeout = kInfinity);
};

/// The local form of a distributed child spec (what the supervisor process
/// runs). invalid_argument names what is wrong.
Result<sup::ChildSpec> to_child_spec(DistributedChildSpec spec);

/// The local form of a distributed supervisor spec: the supervisor process
/// runs it with a starter that places the children (made on the node it
/// starts on, which must take part in a cluster). invalid_argument names
/// what is wrong.
Result<sup::SupervisorSpec> to_supervisor_spec(DistributedSupervisorSpec spec);

/// A distributed supervisor as child `id` of another supervisor, as OTP
/// nests supervisors: the parent starts it on its own node, restarts it by
/// `restart`, stops it (and so its children on every node) with the tree,
/// and sees it exit when it gives up: the failure escalates.
Result<sup::ChildSpec> supervisor_child(std::string id, DistributedSupervisorSpec spec,
                                        sup::RestartType restart = sup::RestartType::permanent);

/// Validates `spec` and starts the supervisor on `node` (created with
/// dist::create_node, started), then its children in order. Errors as
/// sup::start_supervisor, plus NoAvailableNode, behavior_not_found naming
/// the node without the behavior, and invalid_argument for a bad selector
/// or lease. Thread: any.
Result<DistributedSupervisor> start_distributed_supervisor(const std::shared_ptr<Node>& node,
                                                           DistributedSupervisorSpec spec);

}  // namespace noexpp::dist
