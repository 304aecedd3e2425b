// The handshake without sockets (cluster/handshake_messages.hpp): each
// frame's parser names what is wrong, the two state machines complete a
// handshake with each other through the frame codec, and every way a peer
// can break it ends in the error and reject code the connection acts on.
// One case per rule of docs/cluster.md "Wire protocol"; the same machines
// run under fuzz/fuzz_handshake.cpp.
#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cluster/handshake_crypto.hpp"
#include "cluster/handshake_messages.hpp"
#include "cluster/wire.hpp"

namespace noexpp::test {
namespace {

using namespace cluster;

const std::string kCookie = "test-cookie";
const std::string kA = "alpha@127.0.0.1:4001";
const std::string kB = "beta@127.0.0.1:4002";
const std::string kNonceA(32, 'a');
const std::string kNonceB(32, 'b');

/// `o` through the wire: encoded within the handshake's limit, decoded.
Frame over_the_wire(const Outgoing& o) {
  auto bytes = encode_frame(o.kind, o.items, kHandshakeMaxFrame);
  EXPECT_TRUE(bytes) << to_string(o.kind);
  auto f = decode_frame(std::span<const char>(bytes.value()).subspan(kFrameHeaderBytes));
  EXPECT_TRUE(f);
  return f.value();
}

Frame frame(FrameKind kind, std::vector<Term> items) { return Frame{kind, std::move(items)}; }

HandshakeErrc code(const Step& s) {
  EXPECT_TRUE(s.failure);
  return s.failure ? static_cast<HandshakeErrc>(s.failure->error.code.value()) : HandshakeErrc::ok;
}

Term bin(const std::string& s) { return Term(Binary{{s.begin(), s.end()}}); }

const AcceptorHandshake::Admit admit_all = [](const std::string&, std::uint32_t) { return std::string(); };

struct Pair {
  InitiatorHandshake a{{kA, 11, kCookie}, kB, kNonceA, false};
  AcceptorHandshake b{{kB, 22, kCookie}, kNonceB};
  Hello hello() const { return Hello{kProtocolVersion, kA, 11, kNonceA, false}; }
  Frame good_response() const {
    return frame(FrameKind::response, Response{handshake_proof(kCookie, kConnectingRole, kNonceB, kA)}.items());
  }
};

// ---- parsing -------------------------------------------------------------------

TEST(HandshakeMessages, EachFrameRoundTripsThroughTheWire) {
  const Hello h{kProtocolVersion, kA, 5, kNonceA, true};
  auto ph = parse_hello(over_the_wire({FrameKind::hello, h.items()}));
  ASSERT_TRUE(ph);
  EXPECT_EQ(ph.value().version, kProtocolVersion);
  EXPECT_EQ(ph.value().id, kA);
  EXPECT_EQ(ph.value().creation, 5);
  EXPECT_EQ(ph.value().nonce, kNonceA);
  EXPECT_TRUE(ph.value().hidden);

  const Challenge c{kB, 6, kNonceB, std::string(32, 'p')};
  auto pc = parse_challenge(over_the_wire({FrameKind::challenge, c.items()}));
  ASSERT_TRUE(pc);
  EXPECT_EQ(pc.value().id, kB);
  EXPECT_EQ(pc.value().creation, 6);
  EXPECT_EQ(pc.value().nonce, kNonceB);
  EXPECT_EQ(pc.value().proof, c.proof);

  auto pr = parse_response(over_the_wire({FrameKind::response, Response{"proof"}.items()}));
  ASSERT_TRUE(pr);
  EXPECT_EQ(pr.value().proof, "proof");

  const Reject r = parse_reject(over_the_wire({FrameKind::reject, Reject{"cookie", "why"}.items()}));
  EXPECT_EQ(r.code, "cookie");
  EXPECT_EQ(r.text, "why");
}

TEST(HandshakeMessages, MalformedItemsAreNamedInOrder) {
  struct Case {
    Frame f;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {frame(FrameKind::hello, {}), "malformed hello frame: version is not an integer"},
      {frame(FrameKind::hello, {Term(3), Term(1)}), "malformed hello frame: node id is not a string"},
      {frame(FrameKind::hello, {Term(3), Term(kA), Term("7")}), "malformed hello frame: creation is not an integer"},
      {frame(FrameKind::hello, {Term(3), Term(kA), Term(7), Term()}), "malformed hello frame: nonce is not a string"},
      {frame(FrameKind::challenge, {Term(kB), Term(1), bin(kNonceB), Term(false)}),
       "malformed challenge frame: proof is not a string"},
      {frame(FrameKind::response, {Term::list({})}), "malformed response frame: proof is not a string"},
  };
  for (const auto& c : cases) {
    const Error e = c.f.kind == FrameKind::hello       ? parse_hello(c.f).error()
                    : c.f.kind == FrameKind::challenge ? parse_challenge(c.f).error()
                                                       : parse_response(c.f).error();
    EXPECT_EQ(e.code, HandshakeErrc::malformed_frame) << c.detail;
    EXPECT_EQ(e.detail, c.detail);
  }
}

TEST(HandshakeMessages, AStringItemMayComeAsABinaryAndAMissingHiddenFlagIsFalse) {
  auto h = parse_hello(frame(FrameKind::hello, {Term(3), bin(kA), Term(1), Term(kNonceA)}));
  ASSERT_TRUE(h);
  EXPECT_EQ(h.value().id, kA);
  EXPECT_EQ(h.value().nonce, kNonceA);
  EXPECT_FALSE(h.value().hidden);
}

TEST(HandshakeMessages, AHostileRejectStillParses) {
  const Reject r = parse_reject(frame(FrameKind::reject, {Term(5)}));
  EXPECT_EQ(r.code, "?");
  EXPECT_EQ(r.text, "");
}

// ---- the two machines ------------------------------------------------------------

TEST(HandshakeMachines, BothSidesCompleteWithTheSameCookie) {
  Pair p;
  int admitted = 0;
  const AcceptorHandshake::Admit admit = [&](const std::string& id, std::uint32_t creation) {
    ++admitted;
    EXPECT_EQ(id, kA);
    EXPECT_EQ(creation, 11u);
    return std::string();
  };
  Step s = p.b.on_frame(over_the_wire(p.a.hello()), admit);
  ASSERT_FALSE(s.failure);
  EXPECT_EQ(p.b.state(), HandshakeState::awaiting_response);
  EXPECT_EQ(p.b.peer().id, kA);
  ASSERT_TRUE(s.send);
  s = p.a.on_frame(over_the_wire(*s.send));
  ASSERT_FALSE(s.failure) << s.failure->error.detail;
  EXPECT_EQ(p.a.state(), HandshakeState::awaiting_welcome);
  EXPECT_EQ(p.a.peer().creation, 22);
  ASSERT_TRUE(s.send);
  EXPECT_EQ(admitted, 0);
  s = p.b.on_frame(over_the_wire(*s.send), admit);
  ASSERT_FALSE(s.failure) << s.failure->error.detail;
  EXPECT_EQ(admitted, 1);
  EXPECT_EQ(p.b.state(), HandshakeState::established);
  ASSERT_TRUE(s.send);
  EXPECT_EQ(s.send->kind, FrameKind::welcome);
  s = p.a.on_frame(over_the_wire(*s.send));
  EXPECT_FALSE(s.failure);
  EXPECT_FALSE(s.send);
  EXPECT_EQ(p.a.state(), HandshakeState::established);
}

TEST(HandshakeMachines, AnotherCookieFailsAtTheInitiatorWhichTellsTheAcceptor) {
  InitiatorHandshake a({kA, 11, "another-cookie"}, kB, kNonceA, false);
  AcceptorHandshake b({kB, 22, kCookie}, kNonceB);
  Step s = b.on_frame(over_the_wire(a.hello()), admit_all);
  s = a.on_frame(over_the_wire(*s.send));
  EXPECT_EQ(code(s), HandshakeErrc::wrong_cookie);
  EXPECT_EQ(s.failure->reject_code, "cookie");
  EXPECT_EQ(s.failure->error.detail, kB + " failed the cookie check: its cookie differs from this node's");
  EXPECT_EQ(a.state(), HandshakeState::failed);
  s = b.on_frame(over_the_wire({FrameKind::reject, Reject{"cookie", "x"}.items()}), admit_all);
  EXPECT_EQ(code(s), HandshakeErrc::peer_rejected_credentials);
  EXPECT_EQ(s.failure->error.detail, kA + " rejected the handshake (cookie): x");
  EXPECT_TRUE(s.failure->reject_code.empty());
}

TEST(HandshakeMachines, AcceptorRefusesAWrongOrReflectedProofBeforeAdmitting) {
  for (const std::string& proof : {std::string(32, 'x'), handshake_proof(kCookie, kAcceptingRole, kNonceA, kB)}) {
    Pair p;
    bool admitted = false;
    ASSERT_FALSE(p.b.on_frame(over_the_wire(p.a.hello()), admit_all).failure);
    Step s = p.b.on_frame(frame(FrameKind::response, {bin(proof)}), [&](const std::string&, std::uint32_t) {
      admitted = true;
      return std::string();
    });
    EXPECT_EQ(code(s), HandshakeErrc::wrong_cookie);
    EXPECT_EQ(s.failure->reject_code, "cookie");
    EXPECT_FALSE(admitted);
  }
}

TEST(HandshakeMachines, TheAdmissionRuleTurnsAnAuthenticatedPeerAway) {
  Pair p;
  ASSERT_FALSE(p.b.on_frame(over_the_wire(p.a.hello()), admit_all).failure);
  Step s = p.b.on_frame(p.good_response(), [](const std::string&, std::uint32_t) { return std::string("duplicate"); });
  EXPECT_EQ(code(s), HandshakeErrc::turned_away);
  EXPECT_EQ(s.failure->reject_code, "duplicate");
  EXPECT_EQ(s.failure->error.detail, "turned away " + kA + " (duplicate)");
}

TEST(HandshakeMachines, AcceptorChecksTheHelloInOrder) {
  struct Case {
    std::vector<Term> items;
    HandshakeErrc code;
    std::string reject_code;
  };
  const Hello h = Pair().hello();
  auto with = [&](std::size_t i, Term t) {
    auto items = h.items();
    items[i] = std::move(t);
    return items;
  };
  const std::vector<Case> cases = {
      // The version is checked before the id: a peer of another version learns why.
      {with(0, Term(kProtocolVersion + 1)), HandshakeErrc::version_mismatch, "version"},
      {with(1, Term("no-at-sign")), HandshakeErrc::bad_node_id, "identity"},
      {with(1, Term(kB)), HandshakeErrc::own_node_id, "identity"},
      {with(3, bin("short")), HandshakeErrc::malformed_frame, ""},
      {with(2, Term("creation")), HandshakeErrc::malformed_frame, ""},
  };
  for (const auto& c : cases) {
    Pair p;
    Step s = p.b.on_frame(frame(FrameKind::hello, c.items), admit_all);
    EXPECT_EQ(code(s), c.code) << s.failure->error.detail;
    EXPECT_EQ(s.failure->reject_code, c.reject_code);
    EXPECT_FALSE(s.send);
    EXPECT_EQ(p.b.state(), HandshakeState::failed);
  }
  Pair p;
  Step s = p.b.on_frame(frame(FrameKind::hello, with(0, Term(kProtocolVersion + 1))), admit_all);
  EXPECT_EQ(s.failure->error.detail, kA + " speaks protocol version " + std::to_string(kProtocolVersion + 1) +
                                         ", this node " + std::to_string(kProtocolVersion));
}

TEST(HandshakeMachines, OutOfOrderFramesAreUnexpected) {
  Pair p;
  Step s = p.b.on_frame(frame(FrameKind::heartbeat, {Term(1), Term(0)}), admit_all);
  EXPECT_EQ(code(s), HandshakeErrc::unexpected_frame);
  EXPECT_EQ(s.failure->error.detail, "handshake: expected hello, got heartbeat");
  EXPECT_TRUE(s.failure->reject_code.empty());

  Pair q;
  s = q.a.on_frame(frame(FrameKind::welcome, {}));
  EXPECT_EQ(code(s), HandshakeErrc::unexpected_frame);
  EXPECT_EQ(s.failure->error.detail, "handshake: expected challenge, got welcome");
}

TEST(HandshakeMachines, InitiatorRefusesAnotherNodeThanTheOneDialled) {
  Pair p;
  const Challenge c{"gamma@127.0.0.1:4003", 1, kNonceB, std::string(32, 'p')};
  Step s = p.a.on_frame(frame(FrameKind::challenge, c.items()));
  EXPECT_EQ(code(s), HandshakeErrc::wrong_node);
  EXPECT_EQ(s.failure->reject_code, "identity");
  EXPECT_EQ(s.failure->error.detail, "dialled " + kB + " but the node there is gamma@127.0.0.1:4003");
}

TEST(HandshakeMachines, InitiatorTellsAQuietDuplicateFromOtherRejects) {
  const std::vector<std::pair<std::string, HandshakeErrc>> cases = {
      {"duplicate", HandshakeErrc::peer_rejected_duplicate},
      {"partitioned", HandshakeErrc::peer_rejected},
      {"cookie", HandshakeErrc::peer_rejected_credentials},
      {"version", HandshakeErrc::peer_rejected_credentials},
  };
  for (const auto& [reject_code, expected] : cases) {
    Pair p;
    Step s = p.b.on_frame(over_the_wire(p.a.hello()), admit_all);
    ASSERT_FALSE(p.a.on_frame(over_the_wire(*s.send)).failure);
    s = p.a.on_frame(frame(FrameKind::reject, Reject{reject_code, "t"}.items()));
    EXPECT_EQ(code(s), expected) << reject_code;
    EXPECT_EQ(s.failure->error.detail, kB + " rejected the handshake (" + reject_code + "): t");
  }
}

TEST(HandshakeMachines, AMachineWhoseHandshakeEndedRefusesFramesAndKeepsItsState) {
  Pair p;
  Step s = p.b.on_frame(over_the_wire(p.a.hello()), admit_all);
  ASSERT_FALSE(p.b.on_frame(p.good_response(), admit_all).failure);
  ASSERT_EQ(p.b.state(), HandshakeState::established);
  s = p.b.on_frame(over_the_wire(p.a.hello()), admit_all);
  EXPECT_EQ(code(s), HandshakeErrc::unexpected_frame);
  EXPECT_EQ(p.b.state(), HandshakeState::established);
}

TEST(HandshakeMachines, TheErrorCategoryNamesEachCode) {
  EXPECT_STREQ(handshake_category().name(), "noexpp.handshake");
  EXPECT_EQ(make_error_code(HandshakeErrc::wrong_cookie).message(), "the peer's cookie differs");
  EXPECT_EQ(std::string(to_string(HandshakeState::awaiting_welcome)), "awaiting_welcome");
}

}  // namespace
}  // namespace noexpp::test
