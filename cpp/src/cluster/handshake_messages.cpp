#include "cluster/handshake_messages.hpp"

#include <utility>

#include "cluster/handshake_crypto.hpp"
#include "noexpp/cluster/node_id.hpp"

namespace noexpp::cluster {
namespace {

class HandshakeCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "noexpp.handshake"; }
  std::string message(int c) const override {
    switch (static_cast<HandshakeErrc>(c)) {
      case HandshakeErrc::ok: return "ok";
      case HandshakeErrc::malformed_frame: return "malformed handshake frame";
      case HandshakeErrc::unexpected_frame: return "unexpected frame in the handshake";
      case HandshakeErrc::version_mismatch: return "protocol version mismatch";
      case HandshakeErrc::bad_node_id: return "malformed node id";
      case HandshakeErrc::own_node_id: return "the peer claims this node's own id";
      case HandshakeErrc::wrong_node: return "another node than the one dialled";
      case HandshakeErrc::wrong_cookie: return "the peer's cookie differs";
      case HandshakeErrc::turned_away: return "turned away by the admission rule";
      case HandshakeErrc::peer_rejected_credentials: return "the peer rejected this node's cookie, version or lack of TLS";
      case HandshakeErrc::peer_rejected_duplicate: return "the peer turned this node away as a duplicate";
      case HandshakeErrc::peer_rejected: return "the peer rejected the handshake";
    }
    return "unknown error";
  }
};

/// A reject code that refuses this node's credentials (cookie, protocol
/// version, or plain TCP at a TLS node): an authentication failure, which
/// the caller sees as AuthenticationError and membership does not redial.
bool refuses_credentials(const std::string& code) { return code == "cookie" || code == "version" || code == "tls"; }

Term bytes_term(const std::string& s) { return Term(Binary{{s.begin(), s.end()}}); }

/// The error naming item `what` of `f` and what it should have been.
Error malformed(const Frame& f, const char* what, const char* should_be) {
  return Error{HandshakeErrc::malformed_frame,
               std::string("malformed ") + to_string(f.kind) + " frame: " + what + " is not " + should_be};
}

/// Item `i` as bytes: a string, or a binary (peers may send either).
bool string_item(const Frame& f, std::size_t i, std::string& out) {
  const Term& t = f.at(i);
  if (t.is_string()) {
    out = t.as_string();
    return true;
  }
  if (t.is_binary()) {
    out.assign(t.as_binary().bytes.begin(), t.as_binary().bytes.end());
    return true;
  }
  return false;
}

bool int_item(const Frame& f, std::size_t i, std::int64_t& out) {
  if (!f.at(i).is_int()) return false;
  out = f.at(i).as_int();
  return true;
}

Error unexpected(const char* expected, FrameKind got) {
  return Error{HandshakeErrc::unexpected_frame,
               std::string("handshake: expected ") + expected + ", got " + to_string(got)};
}

/// A frame for a side whose handshake has ended: its state stays; the
/// connection never asks (after the handshake its reader takes over).
Step over(const Frame& f) {
  return Step{std::nullopt, HandshakeFailure{unexpected("nothing (the handshake is over)", f.kind), {}}};
}

}  // namespace

const std::error_category& handshake_category() {
  static HandshakeCategory c;
  return c;
}

std::error_code make_error_code(HandshakeErrc e) { return {static_cast<int>(e), handshake_category()}; }

const char* to_string(HandshakeState s) {
  switch (s) {
    case HandshakeState::awaiting_hello: return "awaiting_hello";
    case HandshakeState::awaiting_challenge: return "awaiting_challenge";
    case HandshakeState::awaiting_response: return "awaiting_response";
    case HandshakeState::awaiting_welcome: return "awaiting_welcome";
    case HandshakeState::established: return "established";
    case HandshakeState::failed: return "failed";
  }
  return "unknown";
}

// ---- the frames --------------------------------------------------------------

std::vector<Term> Hello::items() const {
  std::vector<Term> out;
  out.emplace_back(version);
  out.emplace_back(id);
  out.emplace_back(creation);
  out.push_back(bytes_term(nonce));
  out.emplace_back(hidden);
  return out;
}

std::vector<Term> Challenge::items() const {
  std::vector<Term> out;
  out.emplace_back(id);
  out.emplace_back(creation);
  out.push_back(bytes_term(nonce));
  out.push_back(bytes_term(proof));
  return out;
}

std::vector<Term> Response::items() const {
  std::vector<Term> out;
  out.push_back(bytes_term(proof));
  return out;
}

std::vector<Term> Reject::items() const { return {Term(code), Term(text)}; }

Result<Hello> parse_hello(const Frame& f) {
  Hello h;
  if (!int_item(f, 0, h.version)) return malformed(f, "version", "an integer");
  if (!string_item(f, 1, h.id)) return malformed(f, "node id", "a string");
  if (!int_item(f, 2, h.creation)) return malformed(f, "creation", "an integer");
  if (!string_item(f, 3, h.nonce)) return malformed(f, "nonce", "a string");
  h.hidden = f.at(4).is_bool() && f.at(4).as_bool();
  return h;
}

Result<Challenge> parse_challenge(const Frame& f) {
  Challenge c;
  if (!string_item(f, 0, c.id)) return malformed(f, "node id", "a string");
  if (!int_item(f, 1, c.creation)) return malformed(f, "creation", "an integer");
  if (!string_item(f, 2, c.nonce)) return malformed(f, "nonce", "a string");
  if (!string_item(f, 3, c.proof)) return malformed(f, "proof", "a string");
  return c;
}

Result<Response> parse_response(const Frame& f) {
  Response r;
  if (!string_item(f, 0, r.proof)) return malformed(f, "proof", "a string");
  return r;
}

Result<Welcome> parse_welcome(const Frame&) { return Welcome{}; }

Reject parse_reject(const Frame& f) {
  return {f.at(0).is_string() ? f.at(0).as_string() : "?", f.at(1).is_string() ? f.at(1).as_string() : ""};
}

// ---- the acceptor ------------------------------------------------------------

AcceptorHandshake::AcceptorHandshake(LocalIdentity local, std::string nonce)
    : local_(local), nonce_(std::move(nonce)) {}

Step AcceptorHandshake::fail(Error e, std::string reject_code) {
  state_ = HandshakeState::failed;
  return Step{std::nullopt, HandshakeFailure{std::move(e), std::move(reject_code)}};
}

Step AcceptorHandshake::on_frame(const Frame& f, const Admit& admit) {
  switch (state_) {
    case HandshakeState::awaiting_hello: return on_hello(f);
    case HandshakeState::awaiting_response: return on_response(f, admit);
    default: return over(f);
  }
}

Step AcceptorHandshake::on_hello(const Frame& f) {
  if (f.kind != FrameKind::hello) return fail(unexpected("hello", f.kind));
  auto parsed = parse_hello(f);
  if (!parsed) return fail(parsed.error());
  const Hello& h = parsed.value();
  if (h.version != kProtocolVersion)
    return fail({HandshakeErrc::version_mismatch, h.id + " speaks protocol version " + std::to_string(h.version) +
                                                      ", this node " + std::to_string(kProtocolVersion)},
                "version");
  if (auto id = parse_node_id(h.id); !id)
    return fail({HandshakeErrc::bad_node_id, "hello with a bad node id: " + id.error().detail}, "identity");
  // Stateless, so safe before the proof: a peer claiming this node's own id.
  if (h.id == local_.id)
    return fail({HandshakeErrc::own_node_id, "a hello naming this node itself (" + h.id + ")"}, "identity");
  if (h.nonce.size() != kNonceBytes) return fail({HandshakeErrc::malformed_frame, "hello with a nonce of the wrong size"});
  hello_ = std::move(parsed.value());
  state_ = HandshakeState::awaiting_response;
  const Challenge c{std::string(local_.id), static_cast<std::int64_t>(local_.creation), nonce_,
                    handshake_proof(local_.cookie, kAcceptingRole, hello_.nonce, local_.id)};
  return Step{Outgoing{FrameKind::challenge, c.items()}, std::nullopt};
}

Step AcceptorHandshake::on_response(const Frame& f, const Admit& admit) {
  if (f.kind == FrameKind::reject) {
    const Reject r = parse_reject(f);
    const auto code = refuses_credentials(r.code) ? HandshakeErrc::peer_rejected_credentials
                                                                  : HandshakeErrc::peer_rejected;
    return fail({code, hello_.id + " rejected the handshake (" + r.code + "): " + r.text});
  }
  if (f.kind != FrameKind::response) return fail(unexpected("response", f.kind));
  auto parsed = parse_response(f);
  if (!parsed) return fail(parsed.error());
  if (!proofs_equal(parsed.value().proof, handshake_proof(local_.cookie, kConnectingRole, nonce_, hello_.id)))
    return fail({HandshakeErrc::wrong_cookie, hello_.id + " failed the cookie check: its cookie differs from this node's"},
                "cookie");
  // Only now, authenticated, may the peer take part in the duplicate rule
  // and the table of node ids: an unauthenticated hello that names a member
  // must not keep the real member out (it did, for good).
  if (auto code = admit(hello_.id, static_cast<std::uint32_t>(hello_.creation)); !code.empty())
    return fail({HandshakeErrc::turned_away, "turned away " + hello_.id + " (" + code + ")"}, code);
  state_ = HandshakeState::established;
  return Step{Outgoing{FrameKind::welcome, Welcome{}.items()}, std::nullopt};
}

// ---- the initiator -----------------------------------------------------------

InitiatorHandshake::InitiatorHandshake(LocalIdentity local, std::string expected_peer, std::string nonce,
                                       bool hidden)
    : local_(local), expected_peer_(std::move(expected_peer)), nonce_(std::move(nonce)), hidden_(hidden) {}

Outgoing InitiatorHandshake::hello() const {
  const Hello h{kProtocolVersion, std::string(local_.id), static_cast<std::int64_t>(local_.creation), nonce_, hidden_};
  return Outgoing{FrameKind::hello, h.items()};
}

Step InitiatorHandshake::fail(Error e, std::string reject_code) {
  state_ = HandshakeState::failed;
  return Step{std::nullopt, HandshakeFailure{std::move(e), std::move(reject_code)}};
}

Step InitiatorHandshake::on_frame(const Frame& f) {
  switch (state_) {
    case HandshakeState::awaiting_challenge: return on_challenge(f);
    case HandshakeState::awaiting_welcome: return on_welcome(f);
    default: return over(f);
  }
}

Step InitiatorHandshake::rejected(const Frame& f) {
  const Reject r = parse_reject(f);
  // The duplicate rule runs after the proof (only authenticated peers take
  // part in it), so a duplicate comes after the response: the quiet tie.
  const auto code = refuses_credentials(r.code) ? HandshakeErrc::peer_rejected_credentials
                    : r.code == "duplicate"                      ? HandshakeErrc::peer_rejected_duplicate
                                                                 : HandshakeErrc::peer_rejected;
  return fail({code, expected_peer_ + " rejected the handshake (" + r.code + "): " + r.text});
}

Step InitiatorHandshake::on_challenge(const Frame& f) {
  if (f.kind == FrameKind::reject) return rejected(f);
  if (f.kind != FrameKind::challenge) return fail(unexpected("challenge", f.kind));
  auto parsed = parse_challenge(f);
  if (!parsed) return fail(parsed.error());
  const Challenge& c = parsed.value();
  if (c.id != expected_peer_)
    return fail({HandshakeErrc::wrong_node, "dialled " + expected_peer_ + " but the node there is " + c.id},
                "identity");
  if (!proofs_equal(c.proof, handshake_proof(local_.cookie, kAcceptingRole, nonce_, c.id)))
    return fail({HandshakeErrc::wrong_cookie, c.id + " failed the cookie check: its cookie differs from this node's"},
                "cookie");
  challenge_ = std::move(parsed.value());
  state_ = HandshakeState::awaiting_welcome;
  const Response r{handshake_proof(local_.cookie, kConnectingRole, challenge_.nonce, local_.id)};
  return Step{Outgoing{FrameKind::response, r.items()}, std::nullopt};
}

Step InitiatorHandshake::on_welcome(const Frame& f) {
  if (f.kind == FrameKind::reject) return rejected(f);
  if (f.kind != FrameKind::welcome) return fail(unexpected("welcome", f.kind));
  if (auto w = parse_welcome(f); !w) return fail(w.error());
  state_ = HandshakeState::established;
  return {};
}

}  // namespace noexpp::cluster
