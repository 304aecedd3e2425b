#pragma once
// The cluster module of a node: the network thread and its io_context, the
// listener, and the parts it ties together: Membership (peers, handshake
// admission, gossip), RemoteRouter (the core's Router: frames between
// processes) and NodeRequests (requests to the node itself).
#include <asio.hpp>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "cluster/connection.hpp"
#include "cluster/membership.hpp"
#include "cluster/node_requests.hpp"
#include "cluster/remote_router.hpp"
#include "noexpp/cluster/cluster.hpp"
#include "noexpp/node.hpp"

namespace noexpp::cluster {

class ClusterImpl final : public Cluster, public NodeModule, public ConnectionHost {
 public:
  /// Resolves the cookie, checks the options, loads the TLS files (if
  /// any) and binds the listener (the node id names the bound port, so this
  /// comes before the node). Throws ErrorException naming the address, the
  /// cookie file, the TLS file or the bad option.
  ClusterImpl(const std::string& host, std::uint16_t port, ClusterOptions options);
  ~ClusterImpl() override;

  /// Joins `node` (created with this listener's port): installs the router
  /// and the built-in node requests. Thread: the creator, before start.
  void attach(Node& node);

  // ---- NodeModule ----
  const char* name() const override { return "cluster"; }
  /// Starts the network thread, accepts peers, connects to the seeds.
  void start() override;
  /// Says goodbye to every peer (when `graceful`), closes every connection
  /// and stops the network thread. Thread: not the network thread.
  void stop(bool graceful) override;
  /// Closes every connection without a goodbye, as a crashed node's peers
  /// see it, and returns once they are closed. Thread: not the network thread.
  void abort() override;

  // ---- Cluster ----
  std::uint16_t port() const override { return port_; }
  const ClusterOptions& options() const override { return options_; }
  void connect(const std::string& id, std::function<void(Result<bool>)> done) override;
  Result<bool> connect_wait(const std::string& id, Duration timeout) override;
  std::vector<MemberInfo> members() const override;
  std::vector<std::string> up_members() const override;
  std::optional<Pid> node_pid(const std::string& id) const override;
  std::optional<PeerLink> peer_link(const std::string& id) const override;
  void disconnect(const std::string& id, const std::string& why) override;
  EventBus& events() override { return *events_; }
  Result<Term> request(const std::string& id, Term request, Duration timeout) override;
  void request_async(const std::string& id, Term request, Duration timeout,
                     std::function<void(Result<Term>)> done) override;
  bool alive(Pid pid, Duration timeout) override;
  void set_partitioned(const std::string& peer_id, bool on) override;
  void set_delay(const std::string& peer_id, std::chrono::microseconds delay) override;
  void heal_all() override;
  void add_request_handler(std::string op, RequestHandler handler) override;
  void add_message_handler(std::string op, MessageHandler handler) override;
  Result<bool> send_node_message(const std::string& id, const std::string& op, Term payload) override;
  void broadcast_node_message(const std::string& op, const Term& payload) override;

  // ---- ConnectionHost (Thread: net) ----
  asio::io_context& io() override { return io_; }
  const std::string& local_id() const override;
  std::uint32_t local_creation() const override;
  const std::string& cookie() const override { return cookie_; }
  asio::ssl::context* tls_context() override { return tls_.get(); }
  std::int64_t local_process_count() const override;
  std::string admit(const std::shared_ptr<Connection>& c, const std::string& id, std::uint32_t creation) override;
  void on_established(const std::shared_ptr<Connection>& c) override;
  void on_frame(Connection& c, Frame& f) override;
  void on_closed(const std::shared_ptr<Connection>& c, const CloseReason& why) override;

 private:
  void accept_loop();
  /// Closes every connection once their queues are written, or at `deadline`.
  asio::awaitable<void> close_when_flushed(std::chrono::steady_clock::time_point deadline);
  /// A request from a peer to this node: run on an engine thread, answered.
  void answer_node_request(Term request, std::function<bool(CallOutcome)> answer);
  void add_builtin_requests();

  Node* node_ = nullptr;
  ClusterOptions options_;
  std::string cookie_;
  std::unique_ptr<asio::ssl::context> tls_;  // ClusterOptions::tls loaded; null: plain TCP
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  bool started_ = false;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<EventBus> events_;
  std::unique_ptr<RemoteRouter> router_;
  std::unique_ptr<Membership> membership_;  // net thread only
  // Registered before start, read-only after.
  NodeRequests requests_;
  std::unordered_map<std::string, MessageHandler> message_handlers_;
};

}  // namespace noexpp::cluster
