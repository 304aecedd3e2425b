#pragma once
/// How a node takes part in a cluster (DESIGN §6). The defaults are the
/// documented ones; tests and experiments tune the timings.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace noexpp::cluster {

/// A node in a cluster listens on NodeOptions::host:port (port 0: any free
/// port, which its id then names); see cluster::create_node.
struct ClusterOptions {
  /// The shared secret. Empty: read from `cookie_file` (empty path: the
  /// default, $NOEXPP_COOKIE_FILE or ~/.noexpp.cookie, created if missing).
  std::string cookie;
  std::string cookie_file;
  /// Node ids ("name@host:port") to connect to at start, retried with backoff.
  std::vector<std::string> seeds;
  /// A hidden node (Erlang's -hidden) connects only where told to and is
  /// never gossiped to others: tools and test controllers use it.
  bool hidden = false;
  /// Largest frame accepted or sent, in bytes (length prefix excluded).
  std::size_t max_frame_bytes = std::size_t{16} << 20;
  /// Heartbeats on every connection; the phi-accrual detector suspects a
  /// peer when phi passes `phi_threshold`. With these defaults a silent peer
  /// is reported down after about 1.6 s on loopback.
  std::chrono::milliseconds heartbeat_interval{200};
  double phi_threshold = 8.0;
  std::chrono::milliseconds acceptable_pause{800};
  std::chrono::milliseconds min_std_dev{100};
  /// A handshake (TCP connect included) must finish within this.
  std::chrono::milliseconds handshake_timeout{5000};
  /// Accepted connections still in their handshake (not yet authenticated):
  /// past either bound a new one is closed at once, so that anyone who can
  /// reach the port cannot hold the node's memory, and one address cannot
  /// crowd out the others.
  std::size_t max_pending_handshakes = 1024;
  std::size_t max_pending_handshakes_per_address = 64;
  /// Backpressure (DESIGN §6), so that a fast sender cannot grow either
  /// node without bound. Bytes queued on one connection past which senders
  /// of casts and sends wait (as Erlang's busy distribution port suspends
  /// them); frames of the engine's own and replies never wait.
  std::size_t max_send_queue_bytes = std::size_t{4} << 20;
  /// Messages from other nodes one mailbox may hold before this node tells
  /// their senders to wait; they go on when it is down to half.
  std::size_t remote_mailbox_limit = 10000;
  /// How long such a sender waits for room before its cast or send fails
  /// with Errc::overloaded (the queue) or Errc::mailbox_full (the mailbox):
  /// a message is never dropped after being reported as sent.
  std::chrono::milliseconds overload_timeout{5000};
  /// Reconnects to known members that are down: exponential backoff with
  /// 20% jitter between these bounds.
  std::chrono::milliseconds reconnect_initial{100};
  std::chrono::milliseconds reconnect_max{5000};
};

}  // namespace noexpp::cluster
