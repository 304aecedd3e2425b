#pragma once
/// How a node takes part in a cluster (DESIGN §6). The defaults are the
/// documented ones; tests and experiments tune the timings.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace noexpp::cluster {

/// TLS on every connection of a node (ClusterOptions::tls): mutual
/// authentication by certificates of one CA, then the cookie handshake
/// inside the encrypted channel (docs/security.md). Each path names a PEM
/// file; create_node loads and checks all three, and throws
/// ErrorException(ClusterErrc::tls_config_failed) naming the file and what
/// is wrong with it.
struct TlsOptions {
  /// This node's certificate, leaf first, then any intermediates. Signed
  /// (through them) by a CA in `cafile`; usable for both TLS server and
  /// client authentication (no extendedKeyUsage, or serverAuth and
  /// clientAuth), since every node both accepts and dials.
  std::string certfile;
  /// The private key of that certificate, unencrypted (protect it with file
  /// permissions, as the cookie file).
  std::string keyfile;
  /// The CA certificate(s) every peer's certificate must chain to. Peers
  /// are not checked against a host name: node ids are ip:port, and any
  /// holder of a certificate of this CA (and of the cookie) is a member.
  std::string cafile;
};

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
  /// Unset (the default): plain TCP, the cookie handshake in clear text.
  /// Set: every connection, accepted and dialled, is TLS 1.2 or newer
  /// (1.3 preferred) with both certificates verified against the CA, and
  /// the cookie is still required. A node with TLS and one without refuse
  /// each other (connect() fails with ClusterErrc::authentication_failed);
  /// a cluster's nodes share the setting.
  std::optional<TlsOptions> tls;
};

}  // namespace noexpp::cluster
