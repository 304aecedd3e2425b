// fuzz_handshake: the cluster handshake (cluster/handshake_messages.hpp, the
// state machines Connection::handshake_as_acceptor / _as_initiator drive)
// fed hostile bytes, without sockets. The input (fuzz/handshake_fixture.hpp)
// picks a side and the admission rule's answer, then holds the peer's byte
// stream; it is cut into frames as Connection::read_frame does (4-byte
// length, at most kHandshakeMaxFrame, decode_frame) and each frame goes to
// the side's machine, also after the handshake ended. A loopback mode runs
// both machines against each other through the frame codec, with a cookie
// from the input.
// Checks: no crash, sanitizer report or leak; the heap in use stays under a
// bound at every step; a step either fails (state failed, a handshake error
// code, a detail, the reject code that code calls for, no frame sent) or
// sends exactly the next frame, which fits the handshake's frame limit and
// parses back; an authenticated peer is admitted at most once and only
// after its proof verified; the acceptor is established exactly when it
// admitted the peer, the initiator only after the acceptor's proof
// verified; a machine whose handshake ended refuses every further frame and
// keeps its state; in loopback the handshake completes exactly when the
// cookies match (among valid cookies: see run_loopback), and otherwise each
// side fails as it must.
#include <sanitizer/allocator_interface.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <span>
#include <string>

#include "cluster/cookie.hpp"
#include "cluster/handshake_crypto.hpp"
#include "cluster/handshake_messages.hpp"
#include "cluster/wire.hpp"
#include "handshake_fixture.hpp"
#include "noexpp/cluster/node_id.hpp"

using namespace noexpp;
using namespace noexpp::cluster;
namespace fx = noexpp::fuzz_handshake;

namespace {

/// Heap a handshake may hold at once beyond what was in use before the
/// input: a 4 KiB frame decodes to at most ~160 KiB of terms (the codec's
/// budget), and a machine keeps a few strings of at most that frame's size.
constexpr std::size_t kHeapBound = 1 << 20;

[[noreturn]] void die(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz_handshake: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
  std::abort();
}

std::size_t heap_base = 0;
void check_heap() {
  const std::size_t now = __sanitizer_get_current_allocated_bytes();
  if (now > heap_base + kHeapBound) die("the handshake holds over 1 MiB of heap", std::to_string(now - heap_base));
}

/// FUZZ_HANDSHAKE_TRACE=1: each input's outcome on stderr (to see what a
/// seed or a reproducer reaches).
const bool tracing = std::getenv("FUZZ_HANDSHAKE_TRACE") != nullptr;
void trace(const char* side, HandshakeState end, const std::optional<HandshakeFailure>& first_failure) {
  if (!tracing) return;
  std::fprintf(stderr, "fuzz_handshake: %s ends %s%s%s%s\n", side, to_string(end), first_failure ? ": " : "",
               first_failure ? first_failure->error.detail.c_str() : "",
               first_failure && !first_failure->reject_code.empty()
                   ? (" [reject " + first_failure->reject_code + "]").c_str()
                   : "");
}

const LocalIdentity kLocal{fx::kLocalId, fx::kLocalCreation, fx::kCookie};

HandshakeErrc code_of(const Step& s) { return static_cast<HandshakeErrc>(s.failure->error.code.value()); }

/// The reject code a failure must send (the text is its detail).
std::string reject_code_for(HandshakeErrc c, const std::string& admit_answer) {
  switch (c) {
    case HandshakeErrc::version_mismatch: return "version";
    case HandshakeErrc::bad_node_id:
    case HandshakeErrc::own_node_id:
    case HandshakeErrc::wrong_node: return "identity";
    case HandshakeErrc::wrong_cookie: return "cookie";
    case HandshakeErrc::turned_away: return admit_answer;
    default: return "";
  }
}

void check_failure(const Step& s, HandshakeState state, const std::string& admit_answer) {
  if (state != HandshakeState::failed) die("a failed step left the state at", to_string(state));
  if (s.send) die("a failed step also sends a frame");
  const Error& e = s.failure->error;
  if (e.code.category() != handshake_category() || !e.code) die("a failure without a handshake error code");
  if (e.detail.empty()) die("a failure does not say what was wrong", e.code.message());
  if (s.failure->reject_code != reject_code_for(code_of(s), admit_answer))
    die("wrong reject code for", e.code.message() + " (" + e.detail + "): '" + s.failure->reject_code + "'");
  // A reject may echo up to a frame of peer text and then not fit the
  // handshake's limit: the connection skips it (best effort), but it must
  // encode.
  if (!s.failure->reject_code.empty() &&
      !encode_frame(FrameKind::reject, Reject{s.failure->reject_code, e.detail}.items(),
                    std::numeric_limits<std::uint32_t>::max()))
    die("a reject does not encode", e.detail);
}

/// A frame this node sends: within the handshake's frame limit, decoding
/// back to the same kind.
Frame sent_frame(const Outgoing& o) {
  auto bytes = encode_frame(o.kind, o.items, kHandshakeMaxFrame);
  if (!bytes) die("a frame this node sends does not fit the handshake limit", to_string(o.kind));
  const auto& b = bytes.value();
  if (frame_length(reinterpret_cast<const unsigned char*>(b.data())) != b.size() - kFrameHeaderBytes)
    die("a sent frame's header is wrong", to_string(o.kind));
  auto f = decode_frame(std::span<const char>(b).subspan(kFrameHeaderBytes));
  if (!f || f.value().kind != o.kind) die("a sent frame does not decode", to_string(o.kind));
  return std::move(f.value());
}

/// The peer's byte stream cut into frames, as Connection::read_frame cuts
/// a socket's: nullopt where the connection would stop reading (too short,
/// over the limit, or undecodable).
struct Stream {
  std::span<const std::uint8_t> rest;
  std::optional<Frame> next() {
    if (rest.size() < kFrameHeaderBytes) return std::nullopt;
    const std::size_t n = frame_length(rest.data());
    if (n > kHandshakeMaxFrame || rest.size() - kFrameHeaderBytes < n) return std::nullopt;
    auto f = decode_frame(std::span<const char>(reinterpret_cast<const char*>(rest.data()) + kFrameHeaderBytes, n));
    rest = rest.subspan(kFrameHeaderBytes + n);
    if (!f) return std::nullopt;
    return std::move(f.value());
  }
};

bool ended(HandshakeState s) { return s == HandshakeState::established || s == HandshakeState::failed; }

/// A frame for a machine whose handshake ended: refused, state kept.
void check_after_end(const Step& s, HandshakeState before, HandshakeState after) {
  if (after != before) die("a frame after the end changed the state to", to_string(after));
  if (s.send || !s.failure || code_of(s) != HandshakeErrc::unexpected_frame || !s.failure->reject_code.empty())
    die("a frame after the end was not refused as unexpected");
}

void check_bounded(const std::string& s) {
  if (s.size() > kHandshakeMaxFrame) die("a handshake field larger than a handshake frame");
}

void run_acceptor(Stream in, const std::string& answer) {
  AcceptorHandshake hs(kLocal, fx::kLocalNonce);
  int admitted = 0;
  const Frame* current = nullptr;
  std::optional<HandshakeFailure> failed;
  const AcceptorHandshake::Admit admit = [&](const std::string& id, std::uint32_t creation) {
    ++admitted;
    if (hs.state() != HandshakeState::awaiting_response) die("admit outside the response step");
    if (id != hs.peer().id || creation != static_cast<std::uint32_t>(hs.peer().creation))
      die("admit names another peer than the hello", id);
    auto r = parse_response(*current);
    if (!r || !proofs_equal(r.value().proof, handshake_proof(fx::kCookie, kConnectingRole, fx::kLocalNonce, id)))
      die("admitted a peer whose proof does not verify", id);
    return answer;
  };
  while (auto f = in.next()) {
    current = &*f;
    const auto before = hs.state();
    Step s = hs.on_frame(*f, admit);
    check_heap();
    if (ended(before)) {
      check_after_end(s, before, hs.state());
      continue;
    }
    if (s.failure) {
      check_failure(s, hs.state(), answer);
      failed = s.failure;
    } else if (hs.state() == HandshakeState::awaiting_response) {
      if (before != HandshakeState::awaiting_hello || !s.send || s.send->kind != FrameKind::challenge)
        die("the hello step did not send a challenge");
      const Hello& h = hs.peer();
      check_bounded(h.id);
      if (h.version != kProtocolVersion || !parse_node_id(h.id) || h.id == fx::kLocalId ||
          h.nonce.size() != kNonceBytes)
        die("accepted a hello it should refuse", h.id);
      auto c = parse_challenge(sent_frame(*s.send));
      if (!c || c.value().id != fx::kLocalId || c.value().nonce != fx::kLocalNonce ||
          !proofs_equal(c.value().proof, handshake_proof(fx::kCookie, kAcceptingRole, h.nonce, fx::kLocalId)))
        die("the challenge sent is not this node's", h.id);
    } else if (hs.state() == HandshakeState::established) {
      if (!s.send || s.send->kind != FrameKind::welcome) die("established without sending welcome");
      (void)sent_frame(*s.send);
    } else {
      die("a step neither failed nor moved on, in state", to_string(hs.state()));
    }
  }
  trace("acceptor", hs.state(), failed);
  if (admitted > 1) die("admitted twice");
  if ((hs.state() == HandshakeState::established) != (admitted == 1 && answer.empty()))
    die("established does not match the admission");
}

void run_initiator(Stream in, const std::string& answer, bool hidden) {
  InitiatorHandshake hs(kLocal, std::string(fx::kPeerId), fx::kLocalNonce, hidden);
  auto hello = parse_hello(sent_frame(hs.hello()));
  if (!hello || hello.value().id != fx::kLocalId || hello.value().nonce != fx::kLocalNonce ||
      hello.value().version != kProtocolVersion || hello.value().hidden != hidden)
    die("the hello sent is not this node's");
  std::optional<HandshakeFailure> failed;
  while (auto f = in.next()) {
    const auto before = hs.state();
    Step s = hs.on_frame(*f);
    check_heap();
    if (ended(before)) {
      check_after_end(s, before, hs.state());
      continue;
    }
    if (s.failure) {
      check_failure(s, hs.state(), answer);
      failed = s.failure;
    } else if (hs.state() == HandshakeState::awaiting_welcome) {
      const Challenge& c = hs.peer();
      check_bounded(c.nonce);
      if (c.id != fx::kPeerId ||
          !proofs_equal(c.proof, handshake_proof(fx::kCookie, kAcceptingRole, fx::kLocalNonce, fx::kPeerId)))
        die("accepted a challenge whose proof does not verify", c.id);
      if (!s.send || s.send->kind != FrameKind::response) die("the challenge step did not send a response");
      auto r = parse_response(sent_frame(*s.send));
      if (!r || !proofs_equal(r.value().proof, handshake_proof(fx::kCookie, kConnectingRole, c.nonce, fx::kLocalId)))
        die("the response sent does not prove this node's cookie");
    } else if (hs.state() == HandshakeState::established) {
      if (before != HandshakeState::awaiting_welcome || s.send) die("established out of order");
    } else {
      die("a step neither failed nor moved on, in state", to_string(hs.state()));
    }
  }
  trace("initiator", hs.state(), failed);
}

/// Both machines against each other through the frame codec: this node
/// accepts with kCookie; kPeerId dials it with `cookie`. HMAC pads a key
/// shorter than its block with zero bytes and hashes a longer one, so
/// "fuzz-cookie" and "fuzz-cookie\0" are one key: the handshake is sure to
/// tell cookies apart only among those validate_cookie accepts (printable
/// ASCII), the only ones a cluster takes. For other input cookies only the
/// sides' agreement is checked.
void run_loopback(const std::string& cookie, const std::string& answer) {
  AcceptorHandshake b(kLocal, fx::kLocalNonce);
  InitiatorHandshake a({fx::kPeerId, static_cast<std::uint32_t>(fx::kPeerCreation), cookie},
                       std::string(fx::kLocalId), fx::kPeerNonce, false);
  int admitted = 0;
  const AcceptorHandshake::Admit admit = [&](const std::string& id, std::uint32_t) {
    ++admitted;
    if (id != fx::kPeerId) die("loopback: admitted another id", id);
    return answer;
  };
  std::optional<Outgoing> to_b = a.hello(), to_a;
  std::optional<HandshakeFailure> a_failed, b_failed;
  for (int turn = 0; turn < 8 && (to_a || to_b); ++turn) {
    if (to_b) {
      Step s = b.on_frame(sent_frame(*to_b), admit);
      to_b.reset();
      if (s.failure) {
        check_failure(s, b.state(), answer);
        b_failed = s.failure;
        if (!s.failure->reject_code.empty())
          to_a = Outgoing{FrameKind::reject, Reject{s.failure->reject_code, s.failure->error.detail}.items()};
      } else {
        to_a = std::move(s.send);
      }
    }
    if (to_a) {
      Step s = a.on_frame(sent_frame(*to_a));
      to_a.reset();
      if (s.failure) {
        check_failure(s, a.state(), "");
        a_failed = s.failure;
        if (!s.failure->reject_code.empty())
          to_b = Outgoing{FrameKind::reject, Reject{s.failure->reject_code, s.failure->error.detail}.items()};
      } else {
        to_b = std::move(s.send);
      }
    }
    check_heap();
  }
  trace("loopback acceptor", b.state(), b_failed);
  trace("loopback initiator", a.state(), a_failed);
  auto code = [](const std::optional<HandshakeFailure>& f) {
    return f ? static_cast<HandshakeErrc>(f->error.code.value()) : HandshakeErrc::ok;
  };
  const bool same_key = validate_cookie(cookie) ? cookie == fx::kCookie : admitted == 1;
  if (!same_key) {
    // B proves first, so A finds out and tells B.
    if (code(a_failed) != HandshakeErrc::wrong_cookie || code(b_failed) != HandshakeErrc::peer_rejected_credentials ||
        admitted != 0)
      die("loopback: another cookie did not fail as wrong_cookie / peer_rejected_credentials");
    return;
  }
  if (admitted != 1) die("loopback: the same cookie was not admitted once");
  if (answer.empty()) {
    if (a.state() != HandshakeState::established || b.state() != HandshakeState::established)
      die("loopback: the same cookie did not complete the handshake");
    if (b.peer().id != fx::kPeerId || b.peer().creation != fx::kPeerCreation || a.peer().id != fx::kLocalId ||
        a.peer().creation != fx::kLocalCreation)
      die("loopback: the sides learnt the wrong ids");
    return;
  }
  const auto expected =
      answer == "duplicate" ? HandshakeErrc::peer_rejected_duplicate : HandshakeErrc::peer_rejected;
  if (code(b_failed) != HandshakeErrc::turned_away || code(a_failed) != expected)
    die("loopback: a turned-away peer did not hear why", answer);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  heap_base = __sanitizer_get_current_allocated_bytes();
  const std::uint8_t flags = data[0];
  const std::string answer = fx::kAdmitAnswers[(flags >> fx::kAdmitShift) & 3];
  const auto rest = std::span<const std::uint8_t>(data + 1, size - 1);
  if (flags & fx::kLoopback)
    run_loopback(std::string(rest.begin(), rest.end()), answer);
  else if (flags & fx::kDials)
    run_initiator(Stream{rest}, answer, (flags & fx::kHidden) != 0);
  else
    run_acceptor(Stream{rest}, answer);
  return 0;
}
