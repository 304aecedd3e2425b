#pragma once
/// A node in a cluster with everything the distribution layer adds: the
/// cluster module (cluster/cluster.hpp), the global registry and the
/// answering side of remote spawn.
#include <memory>

#include "noexpp/cluster/options.hpp"
#include "noexpp/node.hpp"

namespace noexpp::dist {

/// As cluster::create_node, plus the global registry and remote spawn. Not
/// started. Throws ErrorException as cluster::create_node does.
std::shared_ptr<Node> create_node(NodeOptions node, cluster::ClusterOptions cluster,
                                  void (*deleter)(Node*) = nullptr);

}  // namespace noexpp::dist
