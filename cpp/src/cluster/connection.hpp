#pragma once
/// One TCP connection to a peer node, in clear or over TLS: the handshake,
/// the frame reader, the write queue and heartbeats. It only frames, authenticates and carries
/// bytes; what travels over it (calls, monitors, membership) is tracked by
/// its host (the cluster), keyed by the connection's id.
#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "cluster/failure_detector.hpp"
#include "cluster/tls.hpp"
#include "cluster/wire.hpp"
#include "noexpp/cluster/options.hpp"
#include "noexpp/error.hpp"

namespace noexpp::cluster {

class Connection;

/// How a connection ended, for the membership table and connect() callers.
struct CloseReason {
  enum class Kind : std::uint8_t {
    closed,           ///< EOF or reset: noconnection
    protocol,         ///< the peer broke the protocol (a malformed or out-of-place frame): noconnection, logged
    goodbye,          ///< the peer left on purpose: shutdown
    heartbeat,        ///< the failure detector suspected the peer
    authentication,   ///< wrong cookie or version, TLS on one side only, a refused certificate
                      ///< (connect() raises AuthenticationError)
    duplicate,        ///< a connection to that peer already exists or is being made
    local,            ///< this node closed it (stop, abort, replaced incarnation)
  };
  Kind kind = Kind::closed;
  std::string text;
};

/// What a connection needs from the node it belongs to. Every call comes on
/// the network thread.
class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  virtual asio::io_context& io() = 0;
  virtual const ClusterOptions& options() const = 0;
  virtual const std::string& local_id() const = 0;
  virtual std::uint32_t local_creation() const = 0;
  virtual const std::string& cookie() const = 0;
  /// The node's TLS context (ClusterOptions::tls), or nullptr: plain TCP.
  virtual asio::ssl::context* tls_context() { return nullptr; }
  /// Sent with each heartbeat (nodes() shows it).
  virtual std::int64_t local_process_count() const = 0;
  /// An incoming hello from `id`: "" to go on, or the reject code
  /// ("duplicate", "partitioned", ...) that turns it away.
  virtual std::string admit(const std::shared_ptr<Connection>& c, const std::string& id, std::uint32_t creation) = 0;
  /// The handshake completed: frames may flow.
  virtual void on_established(const std::shared_ptr<Connection>& c) = 0;
  /// A frame other than the connection's own (handshake, heartbeats,
  /// goodbye). Throwing std::exception closes the connection with its text.
  virtual void on_frame(Connection& c, Frame& f) = 0;
  /// The connection ended (once).
  virtual void on_closed(const std::shared_ptr<Connection>& c, const CloseReason& why) = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class Side : std::uint8_t { initiator, acceptor };
  using Clock = std::chrono::steady_clock;

  /// `expected_peer`: the id an initiator dialled ("" for an acceptor). With
  /// a host TLS context the connection runs TLS over `socket` (the TLS
  /// handshake first, then the cookie handshake inside it).
  Connection(ConnectionHost& host, asio::ip::tcp::socket socket, Side side, std::string expected_peer);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs the handshake, then reads frames until the connection ends, and
  /// reports each stage to the cluster. Thread: net.
  void start();
  /// Queues an encoded frame (see encode_frame); false once closed. An
  /// `urgent` frame (someone waits for it) is written at once by this thread
  /// when nothing is queued and the connection is plain TCP (with TLS only
  /// the network thread writes). Frames to a peer cut off by fault injection are
  /// dropped silently. Thread: any.
  bool send(std::vector<char> frame, bool urgent = false);
  /// Encodes and sends; Errc::message_too_large past the frame maximum,
  /// Errc::no_connection once closed. Thread: any.
  Result<bool> send(FrameKind kind, std::vector<Term> items);
  /// Ends the connection (idempotent); the cluster hears of it once. Thread: net.
  void close(CloseReason why);
  /// Sends goodbye; the peer reports node_down with reason shutdown. Thread: net.
  void say_goodbye();
  /// Bytes queued but not yet written. Thread: any.
  std::size_t queued_bytes() const;

  /// Backpressure (DESIGN §6): waits until a cast or send to the peer's
  /// process `serial` may be queued: the send queue is under
  /// ClusterOptions::max_send_queue_bytes and the peer has not said that
  /// process's mailbox is full. Past ClusterOptions::overload_timeout,
  /// Errc::overloaded (the queue) or Errc::mailbox_full; Errc::no_connection
  /// once closed. The network thread never waits (it returns at once
  /// there). Thread: any.
  Result<bool> wait_for_room(std::uint64_t serial);
  /// The peer says its process `serial` holds too many of our messages
  /// (`full`), or has room again. Throws std::invalid_argument past a bound
  /// on how many it may name at once. Thread: net.
  void set_peer_mailbox_full(std::uint64_t serial, bool full);

  const ClusterOptions& options() const { return host_.options(); }
  /// Unique among this OS process's connections, never 0: what calls and
  /// monitors in flight over this connection are keyed by. Thread: any.
  std::uint64_t id() const { return id_; }
  /// True once the connection has ended (or is ending). Thread: any.
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  Side side() const { return side_; }
  bool established() const { return established_.load(std::memory_order_acquire); }
  /// The peer, known once the hello or challenge arrived (the dialled id before).
  const std::string& peer_id() const { return peer_id_; }
  /// The remote IP address as text ("" if the socket had none at creation).
  const std::string& remote_address() const { return remote_address_; }
  std::uint32_t peer_index() const { return peer_index_; }
  std::uint32_t peer_creation() const { return peer_creation_; }
  bool peer_hidden() const { return peer_hidden_; }
  /// True when the connection runs over TLS. Thread: any.
  bool tls() const { return tls_ != nullptr; }
  /// When the peer last delivered a frame (any kind; the handshake's end
  /// counts): what a lease held by the peer is renewed by. Thread: any.
  Clock::time_point last_frame() const {
    return Clock::time_point(Clock::duration(last_frame_ticks_.load(std::memory_order_acquire)));
  }

  /// Fault injection: drop every frame both ways, as a cut network would
  /// (the detector then sees silence). Thread: any.
  void set_dropped(bool on) { dropped_.store(on, std::memory_order_release); }
  bool dropped() const { return dropped_.load(std::memory_order_acquire); }
  /// Fault injection: hold every frame sent to the peer for `d` (a slow
  /// link); order is kept. Zero turns it off. Thread: any.
  void set_delay(std::chrono::microseconds d) { delay_us_.store(d.count(), std::memory_order_release); }

  /// Heartbeat figures for nodes(). Thread: any.
  struct Stats {
    std::int64_t peer_process_count = -1;
    double since_heartbeat = -1;  ///< seconds since the last heartbeat arrived (-1: none yet)
    double rtt = -1;              ///< seconds, last heartbeat round trip (-1: none yet)
  };
  Stats stats() const;


 private:
  asio::awaitable<void> run();
  /// The TLS handshake (certificates both ways); fails with why. Thread: net.
  asio::awaitable<void> tls_handshake();
  /// Writes `bytes` to the socket itself, under any TLS, best effort and
  /// synchronously: what a peer of the other TLS setting can read.
  void write_plain_best_effort(std::span<const char> bytes);
  asio::awaitable<void> handshake_as_initiator();
  asio::awaitable<void> handshake_as_acceptor();
  asio::awaitable<Frame> read_frame(std::size_t max_frame);
  /// Reads until at least `need` unread bytes are buffered.
  asio::awaitable<void> fill(std::size_t need);
  asio::awaitable<void> write_now(FrameKind kind, std::vector<Term> items);
  asio::awaitable<void> heartbeats();
  void on_heartbeat(const Frame& f);
  void flush();
  /// Moves delayed frames that are due to the write queue. Thread: net.
  void release_delayed();
  /// Rejects the handshake: tells the peer why, then fails with `why`.
  [[noreturn]] void reject(const char* code, CloseReason why);

  ConnectionHost& host_;
  const std::uint64_t id_;
  asio::ip::tcp::socket socket_;
  // Over socket_ (declared after it: destroyed first). Null: plain TCP. Set
  // once in the constructor; used on the net thread only.
  std::unique_ptr<TlsStream> tls_;
  const Side side_;
  std::string peer_id_;
  std::string remote_address_;
  std::uint32_t peer_index_ = 0;
  std::uint32_t peer_creation_ = 0;
  bool peer_hidden_ = false;
  std::atomic<bool> established_{false};
  std::atomic<bool> dropped_{false};
  std::atomic<std::int64_t> delay_us_{0};
  asio::steady_timer handshake_timer_;
  asio::steady_timer heartbeat_timer_;
  asio::steady_timer delay_timer_;
  // Net thread only.
  static constexpr std::size_t kReadChunk = 64 * 1024;
  std::vector<char> rbuf_;
  std::vector<char> tls_out_;  // TLS: the frames of one flush, in one buffer (one record per 16 KiB, not per frame)
  std::size_t rstart_ = 0, rend_ = 0;  // unread bytes: rbuf_[rstart_, rend_)
  bool closing_ = false;
  bool read_ended_ = false;
  CloseReason close_reason_;
  PhiAccrualDetector detector_;
  Clock::time_point last_heartbeat_sent_{};
  Clock::time_point last_frame_at_{};  // any frame read: liveness evidence besides heartbeats
  std::atomic<Clock::rep> last_frame_ticks_{0};  // last_frame_at_ for other threads (last_frame())

  mutable std::mutex mu_;  // guards everything below (closed_ is also read without it)
  std::atomic<bool> closed_{false};
  int fd_ = -1;  // the socket, once established and if plain TCP: senders write to it directly
  std::deque<std::vector<char>> queue_;
  std::deque<std::pair<Clock::time_point, std::vector<char>>> delayed_;  // fault injection
  std::vector<std::vector<char>> writing_;
  std::size_t queued_bytes_ = 0;
  bool write_scheduled_ = false;
  // Backpressure: the peer's processes that said their mailbox is full, and
  // the senders waiting for room (woken when either changes, or on close).
  std::unordered_set<std::uint64_t> full_mailboxes_;
  std::size_t room_waiters_ = 0;
  std::condition_variable room_cv_;
  Stats stats_;
  Clock::time_point last_heartbeat_{};
};

}  // namespace noexpp::cluster
