#pragma once
// Membership: the peers a node knows, dialling and redialling them, the
// handshake's admission rule (one connection per pair), node_up /
// node_down, gossip of members, and fault injection. Net thread only,
// unless a member's comment says otherwise.
#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/connection.hpp"
#include "cluster/log_limiter.hpp"
#include "cluster/remote_router.hpp"
#include "noexpp/cluster/cluster.hpp"
#include "noexpp/events.hpp"

namespace noexpp::cluster {

class Membership {
 public:
  /// `host` makes the connections' callbacks reach this node; `router`
  /// learns of every connection that comes up or goes; `events` gets
  /// node_up / node_down.
  Membership(ConnectionHost& host, RemoteRouter& router, EventBus& events);
  ~Membership();

  /// A connection the listener accepted: its handshake begins.
  void accepted(asio::ip::tcp::socket socket);
  /// Keeps `id` as a member and connects to it; `done` (may be empty) runs
  /// once: true when connected, or the error.
  void connect(const std::string& id, std::function<void(Result<bool>)> done);

  // The handshake's outcome (from ConnectionHost).
  std::string admit(const std::shared_ptr<Connection>& c, const std::string& id, std::uint32_t creation);
  void on_established(const std::shared_ptr<Connection>& c);
  void on_closed(const std::shared_ptr<Connection>& c, const CloseReason& why);
  /// A members frame: the ids the peer is connected to.
  void on_members(Connection& c, const Frame& f);

  std::vector<MemberInfo> members() const;
  void set_partitioned(const std::string& peer_id, bool on);
  void set_delay(const std::string& peer_id, std::chrono::microseconds delay);
  void heal_all();

  /// Stops redialling and says goodbye to every peer (graceful stop).
  void begin_stop(bool graceful);
  /// True while some established connection still has bytes to write.
  bool has_unwritten() const;
  /// Closes every connection (stop, or abort: `text` says which).
  void close_all(const std::string& text);
  /// Forgets every member, so none is redialled (abort).
  void forget_all();
  /// Turns new connections away from now on. Thread: any.
  void set_closing() { closing_.store(true); }
  bool closing() const { return closing_.load(); }

 private:
  struct Peer;
  Peer& peer(const std::string& id);
  /// Resolves the peer's host (off this thread) and connects to it.
  void dial(Peer& p);
  /// Connects to the first of `endpoints` that answers, then handshakes.
  void connect(Peer& p, std::vector<asio::ip::tcp::endpoint> endpoints);
  void schedule_redial(Peer& p);
  void finish_waiters(Peer& p, const Result<bool>& r);
  void gossip_to(Connection& c);
  void node_down(Peer& p, const std::shared_ptr<Connection>& c, const CloseReason& why);
  const std::string& local_id() const { return host_.local_id(); }
  /// Warns about a connection that never authenticated, at most once per
  /// remote address per window (a flood of them must not flood the log).
  void warn_unauthenticated(const Connection& c, const std::string& what);

  ConnectionHost& host_;
  RemoteRouter& router_;
  EventBus& events_;
  std::atomic<bool> closing_{false};
  std::unordered_map<std::string, std::unique_ptr<Peer>> peers_;
  std::vector<std::shared_ptr<Connection>> accepted_;  // handshakes under way
  LogLimiter unauthenticated_log_;
};

}  // namespace noexpp::cluster
