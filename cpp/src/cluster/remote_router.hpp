#pragma once
// The routing layer between a node and its peers: implements the core's
// Router (messages, calls, monitors and links to other nodes' processes
// become frames on the peer's connection), applies the process frames that
// arrive, and keeps what is in flight per connection: calls (bound to the
// connection's id in the node's PendingCalls), monitors either way. When a
// connection goes, all of it fails with noconnection.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cluster/connection.hpp"
#include "cluster/wire.hpp"
#include "core/internal/router.hpp"
#include "noexpp/node.hpp"

namespace noexpp::cluster {

class RemoteRouter final : public Router {
 public:
  /// Answers a request to this node itself (a call to serial 0): `answer`
  /// sends the reply frame and says whether it could leave.
  using NodeRequestHandler = std::function<void(Term request, std::function<bool(CallOutcome)> answer)>;

  RemoteRouter(Node& node, NodeRequestHandler node_requests);

  // ---- Router (Thread: any) ----
  Result<bool> send(Pid to, const Envelope& e) override;
  void call(Pid to, Pid from, std::uint64_t ref, Term request, CallWaiterRef waiter, Deadline deadline) override;
  void monitor(std::uint64_t ref, Pid watcher, Pid target, Node::MonitorCallback cb) override;
  void demonitor(Pid target, std::uint64_t ref) override;
  void link(Pid local, Pid remote) override;
  void unlink(Pid local, Pid remote) override;
  void tell_backpressure(Pid local, std::uint64_t route, bool full) override;

  // ---- routes ----
  /// `c` is established: its peer's processes are reachable. Thread: net.
  void route_up(const std::shared_ptr<Connection>& c);
  /// `c` has closed (it was up): every call and monitor in flight over it
  /// fails with noconnection, monitors its peer held on local processes are
  /// removed, local links to its peer's processes break. Thread: net.
  void route_down(const std::shared_ptr<Connection>& c);
  /// The established connection to node `node_index`, or null. Thread: any.
  std::shared_ptr<Connection> route_to(std::uint32_t node_index) const;
  /// Every established connection. Thread: any.
  std::vector<std::shared_ptr<Connection>> routes() const;

  /// A process frame from a peer (envelope, call, reply, monitor, demonitor,
  /// down, link, unlink). Every field is checked before use; a malformed
  /// frame throws std::invalid_argument, which closes that connection.
  /// Thread: net.
  void on_frame(Connection& c, Frame& f);
  static bool is_process_frame(FrameKind k);

 private:
  /// A monitor a local watcher (or callback) holds on a process of a peer.
  struct RemoteMonitor {
    std::uint64_t route;  ///< the connection it was set up over
    Pid watcher;          ///< nil when `callback` is used
    Pid target;
    Node::MonitorCallback callback;
  };
  /// A monitor the peer holds on one of our processes: the local monitor
  /// that forwards its DOWN, so a demonitor (or the peer's loss) removes it.
  struct InstalledMonitor {
    Pid target;
    std::uint64_t local_ref = 0;
  };

  /// Delivers a remote monitor's DOWN: the one place that does.
  void fire_down(std::uint64_t ref, RemoteMonitor m, ExitReason reason);
  /// Takes out monitor `ref` if it still exists (and came over `route`, when nonzero).
  std::optional<RemoteMonitor> take_monitor(std::uint64_t ref, std::uint64_t route = 0);
  /// Breaks local `local`'s link to `remote` at once (exit signal `reason`).
  void break_link(Pid local, Pid remote, ExitReason reason);

  void on_envelope(Connection& c, Frame& f);
  void on_call(Connection& c, Frame& f);
  void on_reply(Connection& c, Frame& f);
  void on_monitor(Connection& c, Frame& f);
  void on_demonitor(Connection& c, Frame& f);
  void on_down(Connection& c, Frame& f);
  void on_link(Connection& c, Frame& f);
  void on_unlink(Connection& c, Frame& f);
  void on_mailbox_full(Connection& c, Frame& f, bool full);

  Node& node_;
  NodeRequestHandler node_requests_;

  mutable std::mutex routes_mu_;
  std::unordered_map<std::uint32_t, std::shared_ptr<Connection>> routes_;  // by node index

  std::mutex monitors_mu_;  // guards both tables
  std::unordered_map<std::uint64_t, RemoteMonitor> monitors_;  // by monitor ref
  std::map<std::pair<std::uint64_t, std::uint64_t>, InstalledMonitor> installed_;  // by (route, peer's ref)
};

}  // namespace noexpp::cluster
