#pragma once
/// The wire format (DESIGN §6): a 4-byte big-endian length, then one msgpack
/// array whose first item is the frame kind. Every frame a node sends or
/// reads is built and checked here.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "noexpp/error.hpp"
#include "noexpp/term.hpp"

namespace noexpp::cluster {

inline constexpr std::int64_t kProtocolVersion = 3;
inline constexpr std::size_t kFrameHeaderBytes = 4;
/// Frames before the handshake completes are small; an unauthenticated peer
/// cannot make a node allocate more than this.
inline constexpr std::size_t kHandshakeMaxFrame = 4096;

/// Frame kinds. Handshake kinds are only valid before it completes, the rest
/// only after. Layouts are [kind, ...] with the items named in each comment.
enum class FrameKind : std::int64_t {
  hello = 1,      ///< version, node id, creation, nonce, hidden
  challenge = 2,  ///< node id, creation, nonce, proof of the hello's nonce
  response = 3,   ///< proof of the challenge's nonce
  welcome = 4,    ///< (none): the acceptor checked the response
  reject = 5,     ///< code ("cookie" | "version" | "tls" | "duplicate" | "identity" | "partitioned"), text
  heartbeat = 10,      ///< send time (µs, sender's clock), process count
  heartbeat_ack = 11,  ///< the heartbeat's send time, echoed: the sender's round trip
  goodbye = 12,        ///< reason: the peer is leaving on purpose
  members = 13,        ///< [node id...]: members the sender is connected to
  envelope = 20,  ///< Envelope::Kind, to, from, ref, term, reason (nil or ExitReason term)
  call = 21,      ///< to, from, ref, request
  reply = 22,     ///< ref, status (a core Errc of CallOutcome), value (ok), reason (ExitReason term or nil), detail (string or nil)
  monitor = 23,   ///< watcher, target, ref
  demonitor = 24, ///< target, ref
  down = 25,      ///< watcher, target, ref, reason
  link = 26,      ///< from, to
  unlink = 27,    ///< from, to
  node_message = 28,  ///< op, payload: one-way, node to node (the global registry's replication)
  mailbox_full = 29,  ///< pid (the sender's): hold back casts and sends to it over this connection
  mailbox_room = 30,  ///< pid (the sender's): it has room again
};

/// True for kinds this protocol version knows.
bool is_known_kind(std::int64_t kind);
const char* to_string(FrameKind k);

/// Encodes `[kind, items...]` behind its length prefix. Fails with
/// Errc::message_too_large past `max_frame` bytes, or Errc::bad_term.
Result<std::vector<char>> encode_frame(FrameKind kind, std::vector<Term> items, std::size_t max_frame);

/// The length a frame header announces.
std::uint32_t frame_length(const unsigned char* header);

/// A decoded frame: its kind and the items after it.
struct Frame {
  FrameKind kind;
  std::vector<Term> items;
  /// Item `i`, or nil past the end (callers check types before use).
  const Term& at(std::size_t i) const;
  /// Item `i` moved out, or nil past the end: a peer decides how many items
  /// a frame has, so no handler may index `items` directly.
  Term take(std::size_t i);
};

/// Decodes one frame body (without its header). Errors name the problem:
/// malformed msgpack, not an array, a kind that is not an integer, an
/// unknown kind.
Result<Frame> decode_frame(std::span<const char> body);

}  // namespace noexpp::cluster
