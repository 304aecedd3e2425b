#pragma once
/// Helpers for the cluster suites: real nodes on 127.0.0.1 over real TCP,
/// each with its own listener, and a recorder of node_up / node_down events.
#include <noexpp/cluster/cluster.hpp>

#include <string>
#include <vector>

#include "../core/test_support.hpp"

namespace noexpp::test {

inline constexpr const char* kCookie = "cluster-test-cookie";

/// A node_up / node_down as a subscriber saw it.
struct MembershipEvent {
  std::string type;
  std::string node;
  std::string reason;  ///< node_down: shutdown | noconnection
  std::string detail;
};

inline std::string map_string(const Term& map, const char* key) {
  if (!map.is_map()) return {};
  for (auto& [k, v] : map.as_map().items)
    if (k.is(key) && v.is_string()) return v.as_string();
  return {};
}

class ClusterTest : public NodeTest {
 protected:
  /// The cluster layer's nodes; the dist suites add the global registry
  /// and remote spawn (DistTest).
  virtual std::shared_ptr<Node> create_node(NodeOptions n, cluster::ClusterOptions o) {
    return cluster::create_node(std::move(n), std::move(o));
  }

  /// Timings for the suites: fast heartbeats so a silent peer is found in
  /// about 0.7 s (the defaults' bound is checked by the Python suite), with
  /// room for sanitizer builds on a loaded machine.
  static cluster::ClusterOptions fast_options() {
    cluster::ClusterOptions o;
    o.cookie = kCookie;
    o.heartbeat_interval = std::chrono::milliseconds(50);
    o.acceptable_pause = std::chrono::milliseconds(500);
    o.min_std_dev = std::chrono::milliseconds(50);
    o.reconnect_initial = std::chrono::milliseconds(20);
    o.reconnect_max = std::chrono::milliseconds(200);
    return o;
  }

  std::shared_ptr<Node> make_cluster_node(const std::string& name, std::vector<std::string> seeds = {},
                                          cluster::ClusterOptions o = fast_options(), std::uint16_t port = 0) {
    NodeOptions n;
    n.name = name;
    n.threads = 2;
    n.port = port;
    o.seeds = std::move(seeds);
    auto node = create_node(n, std::move(o));
    node->start();
    nodes_.push_back(node);
    return node;
  }

  /// Records the membership events of `node` from now on.
  std::shared_ptr<Recorder<MembershipEvent>> watch_membership(Node& node) {
    auto log = std::make_shared<Recorder<MembershipEvent>>();
    cluster::cluster_of(node)->events().subscribe([log](const LifecycleEvent& e) {
      log->push({e.type, map_string(e.fields, "node"), map_string(e.fields, "reason"), map_string(e.fields, "detail")});
    });
    return log;
  }

  /// Waits until `node` reports every id in `ids` up (woken by its events),
  /// and until those node_up events have reached their subscribers, so that
  /// a log opened afterwards starts with what the test does next.
  bool wait_members_up(Node& node, const std::vector<std::string>& ids, std::chrono::milliseconds timeout = kWait) {
    auto log = watch_membership(node);
    const bool up = log->wait_until(
        [&](const std::vector<MembershipEvent>&) {
          for (auto& id : ids)
            if (!cluster::cluster_of(node)->node_pid(id)) return false;
          return true;
        },
        timeout);
    // A route is visible just before its node_up is emitted, on the network
    // thread: members() is a round trip through that thread, then the flush
    // delivers what it emitted.
    (void)cluster::cluster_of(node)->members();
    cluster::cluster_of(node)->events().flush(timeout);
    return up;
  }

  static bool connect(Node& from, Node& to) {
    auto r = cluster::cluster_of(from)->connect_wait(to.id(), kWait);
    return r.ok();
  }
};

}  // namespace noexpp::test
