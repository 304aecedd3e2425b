#include "cluster/wire.hpp"

#include "core/internal/codec.hpp"

namespace noexpp::cluster {

bool is_known_kind(std::int64_t kind) {
  switch (static_cast<FrameKind>(kind)) {
    case FrameKind::hello: case FrameKind::challenge: case FrameKind::response:
    case FrameKind::welcome: case FrameKind::reject: case FrameKind::heartbeat:
    case FrameKind::heartbeat_ack: case FrameKind::goodbye: case FrameKind::members:
    case FrameKind::envelope: case FrameKind::call: case FrameKind::reply:
    case FrameKind::monitor: case FrameKind::demonitor: case FrameKind::down:
    case FrameKind::link: case FrameKind::unlink: case FrameKind::node_message:
    case FrameKind::mailbox_full: case FrameKind::mailbox_room:
      return true;
  }
  return false;
}

const char* to_string(FrameKind k) {
  switch (k) {
    case FrameKind::hello: return "hello";
    case FrameKind::challenge: return "challenge";
    case FrameKind::response: return "response";
    case FrameKind::welcome: return "welcome";
    case FrameKind::reject: return "reject";
    case FrameKind::heartbeat: return "heartbeat";
    case FrameKind::heartbeat_ack: return "heartbeat_ack";
    case FrameKind::goodbye: return "goodbye";
    case FrameKind::members: return "members";
    case FrameKind::envelope: return "envelope";
    case FrameKind::call: return "call";
    case FrameKind::reply: return "reply";
    case FrameKind::monitor: return "monitor";
    case FrameKind::demonitor: return "demonitor";
    case FrameKind::down: return "down";
    case FrameKind::link: return "link";
    case FrameKind::unlink: return "unlink";
    case FrameKind::node_message: return "node_message";
    case FrameKind::mailbox_full: return "mailbox_full";
    case FrameKind::mailbox_room: return "mailbox_room";
  }
  return "unknown";
}

Result<std::vector<char>> encode_frame(FrameKind kind, std::vector<Term> items, std::size_t max_frame) {
  items.insert(items.begin(), Term(static_cast<std::int64_t>(kind)));
  std::vector<char> out(kFrameHeaderBytes);
  codec::encode(Term::list(std::move(items)), out);
  const std::size_t body = out.size() - kFrameHeaderBytes;
  if (body > max_frame)
    return Error{Errc::message_too_large, "message encodes to " + std::to_string(body) +
                                              " bytes, over the cluster's frame maximum of " +
                                              std::to_string(max_frame) + " bytes"};
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((body >> (24 - 8 * i)) & 0xff);
  return out;
}

std::uint32_t frame_length(const unsigned char* h) {
  return (std::uint32_t(h[0]) << 24) | (std::uint32_t(h[1]) << 16) | (std::uint32_t(h[2]) << 8) | h[3];
}

const Term& Frame::at(std::size_t i) const {
  static const Term nil;
  return i < items.size() ? items[i] : nil;
}

Term Frame::take(std::size_t i) { return i < items.size() ? std::move(items[i]) : Term{}; }

Result<Frame> decode_frame(std::span<const char> body) {
  auto decoded = codec::decode(body);
  if (!decoded) return Error{Errc::bad_term, "malformed frame: " + decoded.error().detail};
  Term& t = decoded.value();
  if (!t.is_list() || t.as_list().items.empty())
    return Error{Errc::bad_term, "malformed frame: not a non-empty msgpack array"};
  auto& items = const_cast<std::vector<Term>&>(t.as_list().items);
  if (!items[0].is_int()) return Error{Errc::bad_term, "malformed frame: its kind is not an integer"};
  const auto kind = items[0].as_int();
  if (!is_known_kind(kind)) return Error{Errc::bad_term, "unknown frame kind " + std::to_string(kind)};
  Frame f{static_cast<FrameKind>(kind), {}};
  f.items.assign(std::make_move_iterator(items.begin() + 1), std::make_move_iterator(items.end()));
  return f;
}

}  // namespace noexpp::cluster
