#include "noexpp/dist/node.hpp"

#include "dist/remote_spawn.hpp"
#include "noexpp/cluster/cluster.hpp"
#include "noexpp/dist/global_registry.hpp"

namespace noexpp::dist {

std::shared_ptr<Node> create_node(NodeOptions node, cluster::ClusterOptions cluster, void (*deleter)(Node*)) {
  auto n = cluster::create_node(std::move(node), std::move(cluster), deleter);
  auto& c = *cluster::cluster_of(*n);
  n->attach(std::make_shared<GlobalRegistry>(*n, c));
  auto leases = std::make_shared<ChildLeases>(*n, c);
  n->attach(leases);
  serve_remote_spawn(*n, c, leases);
  return n;
}

}  // namespace noexpp::dist
