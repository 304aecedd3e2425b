#pragma once
// The answering side of remote spawn: the "spawn" node request.
#include "noexpp/cluster/cluster.hpp"
#include "noexpp/node.hpp"

namespace noexpp::dist {

/// Answers ("spawn", behavior, args, name) requests on `node`: spawns from
/// this OS process's behavior registry, and stops the child again when the
/// answer cannot reach the spawner. Thread: before start.
void serve_remote_spawn(Node& node, cluster::Cluster& cluster);

}  // namespace noexpp::dist
