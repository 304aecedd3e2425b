#pragma once
// How a distributed supervisor starts its children (sup's ChildStarter):
// a node picked by the child's or the supervisor's selector among the live
// members, and there a start by behavior name, linked to the supervisor and
// held under its lease (dist/remote_spawn.hpp, dist/child_leases.hpp).
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "dist/child_leases.hpp"
#include "noexpp/dist/distributed_supervisor.hpp"
#include "sup/internal/child_starter.hpp"

namespace noexpp::dist {

/// The node `selector` picks for `child_id` among `candidates` (the live
/// members and this node, sorted by id). `here` is this node's id;
/// `registered_here` whether the behavior is in this process's registry;
/// `turn` the supervisor's round-robin counter, advanced. SupErrc::no_available_node
/// names the child and the selector. Pure but for a custom selector's code.
Result<std::string> pick_node(const NodeSelector& selector, const std::vector<cluster::MemberInfo>& candidates,
                              const std::string& here, bool registered_here, const std::string& child_id,
                              std::uint64_t& turn, double unit_random);

class PlacingStarter final : public sup::ChildStarter {
 public:
  /// `leases`: the supervisor's node's (it knows which peers announced
  /// they are leaving); `here` that node's id.
  PlacingStarter(NodeSelector selector, Duration lease, Duration start_timeout, const ChildLeases& leases,
                 std::string here);

  Result<sup::StartedChild> start(Node& node, const sup::ChildStart& which, const sup::ChildSpec& spec,
                                  const SpawnOptions& here) override;
  bool distributed() const override { return true; }
  std::optional<Duration> lost_with_node(Pid child, const ExitReason& reason) const override;

 private:
  /// The live members and this node, sorted by id; process counts only when
  /// the selector needs them (they take a trip to the network thread).
  /// Members that announced they are leaving are left out.
  std::vector<cluster::MemberInfo> candidates(Node& node, const NodeSelector& selector) const;

  const ChildLeases& leases_;
  std::string here_;
  NodeSelector selector_;
  Duration lease_;
  Duration start_timeout_;
  std::uint64_t turn_ = 0;  ///< round_robin (the supervisor's thread only)
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace noexpp::dist
