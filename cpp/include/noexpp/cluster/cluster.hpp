#pragma once
/// A node's part in a cluster (DESIGN §6): membership (seeds, gossip,
/// reconnects), node_up / node_down events, requests to other nodes, fault
/// injection, and the extension points the layers above use (dist/).
///
/// The cluster is a module of its node (Node::attach): create the node with
/// cluster::create_node (or dist::create_node, which adds the global
/// registry and remote spawn), and reach its cluster with cluster_of.
///
/// Threads: a dedicated network thread runs every socket, timer and
/// membership change, and never runs behaviors or takes the GIL, so a busy
/// or blocked node still answers heartbeats.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "noexpp/call.hpp"
#include "noexpp/cluster/options.hpp"
#include "noexpp/error.hpp"
#include "noexpp/events.hpp"
#include "noexpp/node.hpp"
#include "noexpp/pid.hpp"
#include "noexpp/term.hpp"

namespace noexpp::cluster {

/// The cluster's own errors (category "noexpp.cluster"); a call or request
/// that fails on the way reports the core's no_connection, call_timeout or
/// message_too_large.
enum class ClusterErrc {
  ok = 0,
  authentication_failed = 1,  ///< a peer's cookie, protocol version or TLS setting or certificate did not match
  listen_failed,              ///< the node could not listen on its address
  tls_config_failed,          ///< ClusterOptions::tls names a file that is missing, unreadable or wrong
};
const std::error_category& cluster_category();
std::error_code make_error_code(ClusterErrc e);

/// A member as this node sees it (Cluster::members).
struct MemberInfo {
  std::string id;
  std::string status;               ///< "up", "connecting" or "down"
  std::uint32_t creation = 0;       ///< incarnation (0 when never connected)
  std::int64_t process_count = -1;  ///< from its last heartbeat (-1: unknown)
  double since_heartbeat = -1;      ///< seconds since its last heartbeat arrived
  double rtt = -1;                  ///< seconds, last heartbeat round trip
};

/// The connection to a member, as a lease held by that member is judged
/// (DESIGN §7): by the connection it was granted over and the last frame
/// that connection delivered.
struct PeerLink {
  std::uint64_t connection = 0;  ///< unique per connection: a reconnect has a new one
  std::chrono::steady_clock::time_point last_frame{};  ///< the last frame read from the member
};

/// What a node-request handler answers: a value or an error, and what to
/// do if that answer cannot reach the asking node (it went away meanwhile):
/// remote spawn stops the child it started, so no orphan is left.
struct RequestAnswer {
  RequestAnswer(Result<Term> r) : result(std::move(r)) {}  // NOLINT: handlers `return value;`
  RequestAnswer(Term t) : result(std::move(t)) {}          // NOLINT
  RequestAnswer(Error e) : result(std::move(e)) {}         // NOLINT
  Result<Term> result;
  std::function<void()> if_undelivered;
};

class Cluster {
 public:
  virtual ~Cluster() = default;

  /// The port the listener is bound to. Thread: any.
  virtual std::uint16_t port() const = 0;
  virtual const ClusterOptions& options() const = 0;

  // ---- membership (Thread: any) ----
  /// Connects to `id` (and keeps it as a member); `done` runs once, on the
  /// network thread: true when connected, or an error (authentication_failed,
  /// no_connection naming why, invalid_argument, node_stopped).
  virtual void connect(const std::string& id, std::function<void(Result<bool>)> done) = 0;
  /// Blocking form of connect, bounded by `timeout`.
  virtual Result<bool> connect_wait(const std::string& id, Duration timeout) = 0;
  /// Members known to this node, sorted by id (hidden peers excluded).
  virtual std::vector<MemberInfo> members() const = 0;
  /// Ids of the members that are up (hidden peers excluded), without a trip
  /// to the network thread.
  virtual std::vector<std::string> up_members() const = 0;
  /// The pseudo-pid (serial 0) of a connected peer, to call it.
  virtual std::optional<Pid> node_pid(const std::string& id) const = 0;
  /// The connection to `id` (hidden peers too), or none when not connected;
  /// without a trip to the network thread. Traffic dropped by fault
  /// injection delivers no frame.
  virtual std::optional<PeerLink> peer_link(const std::string& id) const = 0;
  /// Closes the connection to `id` now (links to its processes break with
  /// noconnection, node_down follows; membership dials again later), and
  /// returns once it is closed. `why` goes to the log and the event.
  /// Thread: not the network thread.
  virtual void disconnect(const std::string& id, const std::string& why) = 0;
  /// node_up / node_down events: {node, creation} / {node, creation, reason, detail}.
  virtual EventBus& events() = 0;

  // ---- requests to other nodes (Thread: not the network thread) ----
  /// Sends a request to node `id` itself and waits for the answer; a failed
  /// request comes back as the remote Error.
  virtual Result<Term> request(const std::string& id, Term request, Duration timeout) = 0;
  /// As request, without waiting: `done` runs once with the answer, on an
  /// engine thread (or at once when the node is not connected). With
  /// kInfinity the request stays open until answered or the node is lost.
  /// Thread: any.
  virtual void request_async(const std::string& id, Term request, Duration timeout,
                             std::function<void(Result<Term>)> done) = 0;
  /// Whether `pid`, a process of another node, is alive (its node is asked;
  /// false when that node is not connected).
  virtual bool alive(Pid pid, Duration timeout) = 0;

  // ---- fault injection (Thread: any) ----
  /// Drops (or stops dropping) all traffic with `peer_id`, connection
  /// attempts included, as a cut network would.
  virtual void set_partitioned(const std::string& peer_id, bool on) = 0;
  /// Delays every frame this node sends to `peer_id` by `delay` (zero:
  /// none), as a slow link; order is kept.
  virtual void set_delay(const std::string& peer_id, std::chrono::microseconds delay) = 0;
  /// Stops dropping and delaying traffic with every peer, and reconnects at once.
  virtual void heal_all() = 0;

  // ---- extension points for the layers above (register before start) ----
  /// Answers node requests whose first item is `op` (on an engine thread).
  using RequestHandler = std::function<RequestAnswer(const Term& request)>;
  virtual void add_request_handler(std::string op, RequestHandler handler) = 0;
  /// Receives node messages `op` (on the network thread: must not block).
  using MessageHandler = std::function<void(const std::string& from_node, const Term& payload)>;
  virtual void add_message_handler(std::string op, MessageHandler handler) = 0;
  /// One-way message to node `id` itself. Thread: any.
  virtual Result<bool> send_node_message(const std::string& id, const std::string& op, Term payload) = 0;
  /// To every connected, non-hidden member. Thread: any.
  virtual void broadcast_node_message(const std::string& op, const Term& payload) = 0;
};

/// The cluster of `node`, or null when it does not take part in one. Thread: any.
Cluster* cluster_of(Node& node);

/// Creates a node that listens on node.host:node.port (port 0: any free
/// port, named in its id) and takes part in clusters, with `cluster`'s
/// settings. Not started. Throws ErrorException: invalid_argument (an
/// option, a seed, an address that is not an IP address), listen_failed,
/// or the cookie file's error. `deleter` as in Node::create.
std::shared_ptr<Node> create_node(NodeOptions node, ClusterOptions cluster, void (*deleter)(Node*) = nullptr);

}  // namespace noexpp::cluster

template <>
struct std::is_error_code_enum<noexpp::cluster::ClusterErrc> : std::true_type {};
