#pragma once
/// The cluster handshake without sockets (DESIGN §6, docs/cluster.md "Wire
/// protocol"): the value of each handshake frame, parsed and checked from a
/// decoded Frame, and the two sides' state machines. A Connection reads and
/// writes the frames; everything it decides about them is decided here, so
/// the same code runs under the fuzzer (fuzz/fuzz_handshake.cpp) and the
/// unit tests (tests_cpp/cluster/handshake_messages_test.cpp) with no I/O.
///
///   A -> B  hello     [version, id_a, creation_a, nonce_a, hidden_a]
///   B -> A  challenge [id_b, creation_b, nonce_b, proof_b(nonce_a)]
///   A -> B  response  [proof_a(nonce_b)]
///   B -> A  welcome   []
///   either  reject    [code, text], then closes
///
/// The initiator A and the acceptor B each prove they hold the cookie by an
/// HMAC over the other's fresh nonce and their own id (handshake_crypto.hpp).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cluster/wire.hpp"
#include "noexpp/error.hpp"

namespace noexpp::cluster {

/// Why a handshake failed. Each code fixes how the connection ends (which
/// CloseReason kind, whether the peer is told with a reject frame); the
/// Error's detail says what exactly was wrong.
enum class HandshakeErrc {
  ok = 0,
  malformed_frame = 1,  ///< an item of the right frame has the wrong type or size: no reject
  unexpected_frame,     ///< a frame kind that is not the next step of the handshake: no reject
  version_mismatch,     ///< the hello speaks another protocol version: reject "version"
  bad_node_id,          ///< the hello's node id does not parse: reject "identity"
  own_node_id,          ///< the hello names the acceptor itself: reject "identity"
  wrong_node,           ///< the challenge comes from another node than the one dialled: reject "identity"
  wrong_cookie,         ///< the peer's proof does not verify under our cookie: reject "cookie"
  turned_away,          ///< authenticated, but the admission rule said no (duplicate, partitioned...)
  peer_rejected_credentials,  ///< the peer rejected us over cookie, version or TLS
  peer_rejected_duplicate,    ///< the acceptor turned us away as a duplicate (the quiet tie)
  peer_rejected,              ///< the peer rejected us for another reason
};
/// The category of HandshakeErrc, named "noexpp.handshake".
const std::error_category& handshake_category();
std::error_code make_error_code(HandshakeErrc e);

// ---- the frames --------------------------------------------------------------

/// A frame to write: its kind and items (encode_frame makes the bytes).
struct Outgoing {
  FrameKind kind;
  std::vector<Term> items;
};

struct Hello {
  std::int64_t version = 0;
  std::string id;
  std::int64_t creation = 0;
  std::string nonce;
  bool hidden = false;
  std::vector<Term> items() const;
};
struct Challenge {
  std::string id;
  std::int64_t creation = 0;
  std::string nonce;
  std::string proof;
  std::vector<Term> items() const;
};
struct Response {
  std::string proof;
  std::vector<Term> items() const;
};
struct Welcome {
  std::vector<Term> items() const { return {}; }
};
struct Reject {
  std::string code;  ///< "cookie" | "version" | "tls" | "identity" | "duplicate" | "partitioned" (or "?" from a peer)
  std::string text;
  std::vector<Term> items() const;
};

/// The items of a hello: the types only (malformed_frame naming the first
/// item that is wrong). A string item may also come as a binary; a hidden
/// flag that is not a bool means false. What the values mean (version,
/// node id, nonce size) is the acceptor's to check.
Result<Hello> parse_hello(const Frame& f);
Result<Challenge> parse_challenge(const Frame& f);
Result<Response> parse_response(const Frame& f);
Result<Welcome> parse_welcome(const Frame& f);
/// Never fails: a hostile peer's missing code reads "?", a missing text "".
Reject parse_reject(const Frame& f);

// ---- the state machines ------------------------------------------------------

/// This node, as the handshake presents it. The strings must outlive the
/// machine that holds them (the connection's host owns them).
struct LocalIdentity {
  std::string_view id;
  std::uint32_t creation = 0;
  std::string_view cookie;
};

/// A failed handshake: the error, and the reject code the peer is told
/// with (reject [code, error.detail]) before the close; "" to close without.
struct HandshakeFailure {
  Error error;
  std::string reject_code;
};

/// What one incoming frame makes a side do: write `send` (the next
/// handshake frame), or end with `failure`, or neither (done, or waiting).
struct Step {
  std::optional<Outgoing> send;
  std::optional<HandshakeFailure> failure;
};

enum class HandshakeState : std::uint8_t {
  awaiting_hello,      ///< acceptor: nothing read yet
  awaiting_challenge,  ///< initiator: hello sent
  awaiting_response,   ///< acceptor: challenge sent
  awaiting_welcome,    ///< initiator: response sent
  established,         ///< both proofs checked: frames may flow
  failed,              ///< a step failed: the connection closes
};
const char* to_string(HandshakeState s);

/// The accepting side B. Feed it each frame read; write what it says.
class AcceptorHandshake {
 public:
  /// After B checked A's proof: "" admits A, anything else is the reject
  /// code that turns it away (Membership's one-connection-per-pair rule).
  using Admit = std::function<std::string(const std::string& id, std::uint32_t creation)>;

  /// `nonce`: B's fresh nonce (random_nonce(); fixed in tests and the fuzzer).
  AcceptorHandshake(LocalIdentity local, std::string nonce);
  /// One frame from A. `admit` runs once, only for a peer that proved the
  /// cookie. After established or failed every frame is unexpected_frame.
  Step on_frame(const Frame& f, const Admit& admit);
  HandshakeState state() const { return state_; }
  /// A's hello, once accepted (state awaiting_response or later).
  const Hello& peer() const { return hello_; }

 private:
  Step fail(Error e, std::string reject_code = {});
  Step on_hello(const Frame& f);
  Step on_response(const Frame& f, const Admit& admit);

  LocalIdentity local_;
  std::string nonce_;
  HandshakeState state_ = HandshakeState::awaiting_hello;
  Hello hello_;
};

/// The dialling side A. Write hello() first, then feed it each frame read.
class InitiatorHandshake {
 public:
  /// `expected_peer`: the node id dialled; `nonce`: A's fresh nonce.
  InitiatorHandshake(LocalIdentity local, std::string expected_peer, std::string nonce, bool hidden);
  /// The hello that opens the handshake.
  Outgoing hello() const;
  /// One frame from B. After established or failed every frame is unexpected_frame.
  Step on_frame(const Frame& f);
  HandshakeState state() const { return state_; }
  /// B's challenge, once accepted (state awaiting_welcome or later).
  const Challenge& peer() const { return challenge_; }

 private:
  Step fail(Error e, std::string reject_code = {});
  Step on_challenge(const Frame& f);
  Step on_welcome(const Frame& f);
  /// A reject from B: the failure it means for this side.
  Step rejected(const Frame& f);

  LocalIdentity local_;
  std::string expected_peer_;
  std::string nonce_;
  bool hidden_;
  HandshakeState state_ = HandshakeState::awaiting_challenge;
  Challenge challenge_;
};

}  // namespace noexpp::cluster

template <>
struct std::is_error_code_enum<noexpp::cluster::HandshakeErrc> : std::true_type {};
