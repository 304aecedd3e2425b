#pragma once
/// Nodes for the dist suites: the cluster's, plus the global registry and
/// the answering side of remote spawn (dist::create_node).
#include <noexpp/dist/node.hpp>

#include "../cluster/cluster_test_support.hpp"

namespace noexpp::test {

class DistTest : public ClusterTest {
 protected:
  std::shared_ptr<Node> create_node(NodeOptions n, cluster::ClusterOptions o) override {
    return dist::create_node(std::move(n), std::move(o));
  }
};

}  // namespace noexpp::test
