#pragma once
// Remote spawn's internals: the answering side (the "spawn" node request),
// and the placed start a distributed supervisor makes (dist/placement.hpp).
#include <memory>
#include <string>

#include "dist/child_leases.hpp"
#include "noexpp/cluster/cluster.hpp"
#include "noexpp/node.hpp"

namespace noexpp::dist {

/// A start of a distributed supervisor's child: the child is linked to the
/// supervisor and held under its lease on the node it lands on.
struct Placement {
  ChildLeases::ChildOf child;
  std::uint64_t epoch = 0;
  Duration lease{};
};

/// As dist::spawn, placed: linked to `p.child.supervisor` from before its
/// init, and held under the lease. The answering node refuses a stale epoch
/// (invalid_argument).
Result<Pid> spawn_placed(Node& node, const std::string& node_id, const std::string& behavior, Term args,
                         const Placement& p, Duration timeout);

/// Answers ("spawn", behavior, args, name, token, placement) requests on
/// `node`: spawns from this OS process's behavior registry, holds placed
/// children in `leases`, and stops the child again when the answer cannot
/// reach the spawner. Thread: before start.
void serve_remote_spawn(Node& node, cluster::Cluster& cluster, std::shared_ptr<ChildLeases> leases);

}  // namespace noexpp::dist
