#pragma once
/// Nodes for the dist suites: the cluster's, plus the global registry and
/// the answering side of remote spawn (dist::create_node).
#include <noexpp/dist/node.hpp>

#include <atomic>
#include <chrono>
#include <string>

#include "../cluster/cluster_test_support.hpp"

namespace noexpp::test {

/// Polls `pred` until it holds, pausing 1 ms between looks (what a test of
/// replicated state waits on when no event says it changed); false after
/// `timeout`.
template <class Pred>
bool poll_until(Pred pred, std::chrono::milliseconds timeout = kWait) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Event never;  // never set: its wait is a bounded pause
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    never.wait(1ms);
  }
  return true;
}

/// A name no earlier test of this run used (registered names outlive a test
/// when a node is slow to stop).
inline std::string unique_name(const std::string& prefix) {
  static std::atomic<int> n{0};
  return prefix + "-" + std::to_string(n.fetch_add(1)) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

class DistTest : public ClusterTest {
 protected:
  std::shared_ptr<Node> create_node(NodeOptions n, cluster::ClusterOptions o) override {
    return dist::create_node(std::move(n), std::move(o));
  }
};

}  // namespace noexpp::test
