#pragma once
// The child's side of the lease rule (DESIGN §7). A child a distributed
// supervisor placed on this node is held under a lease from the
// supervisor's node, granted over the connection its start came by. Every
// frame that connection delivers renews it; when the connection is gone or
// replaced, or silent for the lease, the child is killed: a child cut off
// from its supervisor stops itself before the supervisor starts it again
// elsewhere. A start older (by epoch) than the one held for the same child
// is refused; a copy of an older epoch is killed when a newer one starts.
// Children are known by (supervisor, child key): simple_one_for_one
// children share an id.
//
// A node that stops gracefully first tells each supervisor which of its
// children are leaving with it ("dsup.leaving"), so that their exits read as
// a node leaving (restarted elsewhere, not counted), and that node is no
// longer offered for placement.
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "noexpp/cluster/cluster.hpp"
#include "noexpp/node.hpp"

namespace noexpp::dist {

class ChildLeases final : public NodeModule {
 public:
  ChildLeases(Node& node, cluster::Cluster& cluster);
  ~ChildLeases() override;
  ChildLeases(const ChildLeases&) = delete;
  ChildLeases& operator=(const ChildLeases&) = delete;
  const char* name() const override { return "child_leases"; }
  void start() override;
  void stopping() override;
  void stop(bool graceful) override;

  /// The child a supervisor placed: its key in that supervisor, and its id
  /// (for logs).
  struct ChildOf {
    Pid supervisor;
    std::uint64_t key = 0;
    std::string id;
  };
  /// Before child `c` starts here at `epoch`: an invalid_argument error if
  /// the copy held here is of the same or a later epoch; kills a held copy
  /// of an earlier one. Thread: any.
  Result<bool> admit(const ChildOf& c, std::uint64_t epoch);
  /// Holds `child` (just started) under a lease of `lease` from the
  /// supervisor's node; released when it exits. Killed at once if that node
  /// is not connected. Thread: any.
  void hold(const ChildOf& c, std::uint64_t epoch, Pid child, Duration lease);
  /// The start admitted at `epoch` made no child: forget it. Thread: any.
  void abandon(const ChildOf& c, std::uint64_t epoch);
  /// Children held now. Thread: any.
  std::size_t held() const;
  /// Whether `pid` (a process of another node) was announced as leaving
  /// with its node, or `node_id` as leaving. Thread: any.
  bool leaving(Pid pid) const;
  bool node_leaving(const std::string& node_id) const;

 private:
  struct Held {
    std::string id;
    std::uint64_t epoch = 0;
    Pid child;                    ///< nil between admit and hold
    Duration lease{};
    std::uint64_t connection = 0; ///< the connection the lease was granted over
  };
  using Key = std::pair<Pid, std::uint64_t>;  // (supervisor, child key)

  void run();
  /// A peer's "dsup.leaving": (pid...) of its processes. Thread: net.
  void on_leaving(const std::string& from_node, const Term& payload);
  struct Expired {
    Key key;
    Held held;
    bool silent = false;  ///< the connection is up but said nothing for the lease
  };
  /// Takes out the children whose lease ended; the caller kills them.
  std::vector<Expired> take_expired();
  void released(const Key& key, Pid child);

  Node& node_;
  cluster::Cluster& cluster_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<Key, Held> held_;
  /// Announced departures, kept for a while (a node that left and came back
  /// has a new incarnation, so its pids differ anyway).
  std::map<Pid, std::chrono::steady_clock::time_point> leaving_pids_;
  std::map<std::string, std::chrono::steady_clock::time_point> leaving_nodes_;
  bool stopping_ = false;
  std::thread checker_;
};

}  // namespace noexpp::dist
