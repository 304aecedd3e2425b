#pragma once
/// A node's part in a cluster (DESIGN §6): the listener, one connection per
/// peer, membership (seeds, gossip, reconnects), node_up / node_down events,
/// fault injection, and the routing of messages, calls, monitors and links
/// to processes on other nodes.
///
/// Threads: a dedicated network thread runs every socket, timer and
/// membership change, and never runs behaviors or takes the GIL, so a busy
/// or blocked node still answers heartbeats. Other threads only queue
/// frames on a connection (Connection::send) and read the routing table.
#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "noexpp/cluster/cluster_options.hpp"
#include "noexpp/cluster/connection.hpp"
#include "noexpp/core/behavior.hpp"
#include "noexpp/core/envelope.hpp"
#include "noexpp/core/error.hpp"
#include "noexpp/core/events.hpp"
#include "noexpp/core/fwd.hpp"

namespace noexpp::cluster {

/// The error type of a failed request to a node: this prefix, then the
/// Errc number (see Cluster::node_request and errc_of_node_request).
inline constexpr const char* kNodeRequestErrorPrefix = "noexpp.Errc.";
/// The Errc a failed node request carried, or nullopt for another failure.
std::optional<Errc> errc_of_node_request(const ExitReason& r);

/// A member as this node sees it (Node::members).
struct MemberInfo {
  std::string id;
  std::string status;               ///< "up", "connecting" or "down"
  std::uint32_t creation = 0;       ///< incarnation (0 when never connected)
  std::int64_t process_count = -1;  ///< from its last heartbeat (-1: unknown)
  double since_heartbeat = -1;      ///< seconds since its last heartbeat arrived
  double rtt = -1;                  ///< seconds, last heartbeat round trip
};

class Cluster {
 public:
  /// Resolves the cookie and binds the listener (the node id needs the port).
  /// Throws std::system_error / std::invalid_argument with a message naming
  /// the address, the cookie file or the bad option.
  Cluster(Node& node, const std::string& host, std::uint16_t port, ClusterOptions options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  /// The port the listener is bound to. Thread: any.
  std::uint16_t port() const { return port_; }
  const ClusterOptions& options() const { return options_; }

  /// Starts the network thread, accepts peers, connects to the seeds.
  void start();
  /// Says goodbye to every peer (when `graceful`), closes every connection
  /// and stops the network thread. Thread: not the network thread.
  void stop(bool graceful);

  // ---- membership (Thread: any) ----
  /// Connects to `id` (and keeps it as a member); `done` runs once, on the
  /// network thread: true when connected, or an error (authentication_failed,
  /// no_connection naming why, invalid_argument).
  void connect(const std::string& id, std::function<void(Result<bool>)> done);
  /// Blocking form of connect, bounded by `timeout`.
  Result<bool> connect_wait(const std::string& id, Duration timeout);
  /// Members known to this node, sorted by id (hidden peers excluded).
  std::vector<MemberInfo> members() const;
  /// The pseudo-pid (serial 0) of a connected peer, to call it.
  std::optional<Pid> node_pid(const std::string& id) const;
  /// node_up / node_down events: {node, creation} / {node, reason, detail}.
  EventBus& events() { return events_; }
  /// Fault injection: drop (or stop dropping) all traffic with `peer_id`,
  /// connection attempts included. Thread: any.
  void set_partitioned(const std::string& peer_id, bool on);
  /// Fault injection: delay every frame this node sends to `peer_id` by
  /// `delay` (zero: none), as a slow link. Thread: any.
  void set_delay(const std::string& peer_id, std::chrono::microseconds delay);
  /// Stops dropping and delaying traffic with every peer, and reconnects at once.
  void heal_all();
  /// Closes every connection without a goodbye, as a crashed node's peers
  /// see it (LocalCluster.kill in threads mode), and returns once they are
  /// closed. Thread: not the network thread.
  void abort_connections();

  // ---- routing, from Node (Thread: any) ----
  /// Sends an envelope (info, cast, exit_signal, stop, down) to a process of
  /// another node. no_connection when its node is not connected, ok(false)
  /// when the pid is of an older incarnation, message_too_large.
  Result<bool> route(Pid to, Envelope& e);
  /// Sends call `ref` (already in node.pending()); its reply completes it.
  /// On failure the caller completes it with the returned status.
  std::optional<CallOutcome> route_call(Pid to, Pid from, std::uint64_t ref, Term request);
  /// A monitor held by a local watcher (or callback) on a remote target.
  /// Fires at once, noconnection / noproc, if it cannot be set up.
  void monitor(std::uint64_t ref, RemoteMonitor m);
  void demonitor(Pid target, std::uint64_t ref);
  /// Starts `behavior` (a registered name) on node `id` with `args`, as
  /// Node::spawn does there. A reply that arrives after `timeout` stops the
  /// late child, so a timed-out spawn leaves no orphan. Errors: no_connection
  /// (not connected, or it went down), call_timeout, and the remote node's
  /// behavior_not_found, init_failed, duplicate_name. Thread: not the network thread.
  Result<Pid> spawn(const std::string& id, const std::string& behavior, Term args, const std::string& name,
                    Duration timeout);
  /// Sends a request to node `id` itself and waits for the answer; a failed
  /// request comes back as the remote Error. Thread: not the network thread.
  Result<Term> request(const std::string& id, Term request, Duration timeout);

  // ---- extension points for layers above (dist/) ----
  using RequestHandler = std::function<Result<Term>(const Term& request)>;
  /// Answers node requests whose first item is `op` (on an engine thread).
  void add_request_handler(std::string op, RequestHandler handler);
  using MessageHandler = std::function<void(const std::string& from_node, const Term& payload)>;
  /// Receives node messages `op` (on the network thread: must not block).
  void add_message_handler(std::string op, MessageHandler handler);
  /// One-way message to node `id` itself. Thread: any.
  Result<bool> send_node_message(const std::string& id, const std::string& op, Term payload);
  /// To every connected, non-hidden member. Thread: any.
  void broadcast_node_message(const std::string& op, const Term& payload);
  /// Ids of the members that are up (hidden peers excluded), without a trip
  /// to the network thread. Thread: any.
  std::vector<std::string> up_members() const;

  /// Links local `from` to remote `to` (`from` already has the link).
  void link(Pid from, Pid to);
  void unlink(Pid from, Pid to);

  // ---- used by Connection (Thread: net) ----
  const std::string& local_id() const;
  std::uint32_t local_creation() const;
  const std::string& cookie() const { return cookie_; }
  asio::io_context& io() { return io_; }
  std::int64_t local_process_count() const;
  /// An incoming hello from `id`: "" to go on, or the reject code
  /// ("duplicate", "partitioned") that turns it away.
  std::string admit(const std::shared_ptr<Connection>& c, const std::string& id, std::uint32_t creation);
  void on_established(const std::shared_ptr<Connection>& c);
  void on_frame(Connection& c, Frame& f);
  void on_closed(const std::shared_ptr<Connection>& c, const CloseReason& why);

 private:
  struct Peer;
  Peer& peer(const std::string& id);
  void accept_loop();
  /// Closes every connection once their queues are written, or at `deadline`.
  asio::awaitable<void> close_when_flushed(std::chrono::steady_clock::time_point deadline);
  void dial(Peer& p);
  void schedule_redial(Peer& p);
  void finish_waiters(Peer& p, const Result<bool>& r);
  void gossip_to(Connection& c);
  std::shared_ptr<Connection> route_to(std::uint32_t node_index) const;
  void node_down(Peer& p, const std::shared_ptr<Connection>& c, const CloseReason& why);
  /// Fails what was in flight to a peer that went away.
  void fail_in_flight(Connection& c);
  // Frames from a peer, applied to this node (remote.cpp).
  void on_envelope(Connection& c, Frame& f);
  void on_call(Connection& c, Frame& f);
  void on_reply(Connection& c, Frame& f);
  void on_monitor(Connection& c, Frame& f);
  void on_demonitor(Connection& c, Frame& f);
  void on_down(Connection& c, Frame& f);
  void on_link(Connection& c, Frame& f);
  void on_unlink(Connection& c, Frame& f);
  void on_members(Connection& c, Frame& f);
  void on_node_message(Connection& c, Frame& f);
  /// A call to the node itself (serial 0): members, alive, whereis, spawn,
  /// partition, heal, process_count. Runs on an engine thread.
  Result<Term> node_request(const Term& request);

  Node& node_;
  ClusterOptions options_;
  std::string cookie_;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  bool started_ = false;
  std::atomic<bool> stopping_{false};
  bool aborted_ = false;  // net thread
  EventBus events_;

  // Net thread only.
  std::unordered_map<std::string, std::unique_ptr<Peer>> peers_;
  std::vector<std::shared_ptr<Connection>> accepted_;  // handshakes under way

  // Extension handlers: registered before start, read-only after.
  std::unordered_map<std::string, RequestHandler> request_handlers_;
  std::unordered_map<std::string, MessageHandler> message_handlers_;
  // Refs of spawn requests whose reply has not arrived: a late reply stops its child.
  std::mutex spawns_mu_;
  std::unordered_map<std::uint64_t, bool> spawns_;

  // Established connections by node index, for routing from any thread.
  mutable std::mutex routes_mu_;
  std::unordered_map<std::uint32_t, std::shared_ptr<Connection>> routes_;
};

}  // namespace noexpp::cluster
