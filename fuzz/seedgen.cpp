// seedgen: writes the seed corpora (fuzz/corpus/<target>/) from real
// encodings: one term of every type for fuzz_term_codec, and a well-formed
// frame body of every kind (as encode_frame builds them, header removed) for
// fuzz_frame and fuzz_frame_validation. Pids name a node called "fuzz", as
// the validation target's node is, so its local paths are seeded too. For
// fuzz_handshake: real handshakes with the target's fixed cookie and nonces
// (fuzz/handshake_fixture.hpp), from either side, each valid and broken in
// one way (wrong version, id, nonce, proof, cookie, item types, order).
//   seedgen <corpus dir>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "cluster/handshake_crypto.hpp"
#include "cluster/handshake_messages.hpp"
#include "cluster/wire.hpp"
#include "core/internal/codec.hpp"
#include "handshake_fixture.hpp"
#include "core/internal/envelope.hpp"
#include "core/internal/node_names.hpp"
#include "noexpp/exit_reason.hpp"
#include "noexpp/node.hpp"

using namespace noexpp;
using namespace noexpp::cluster;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& dir, const std::string& name, const std::vector<char>& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

Term ik(Envelope::Kind k) { return Term(static_cast<std::int64_t>(k)); }

/// A frame body as encode_frame builds it, without its length header.
std::vector<char> body(FrameKind kind, std::vector<Term> items) {
  auto bytes = encode_frame(kind, std::move(items), std::numeric_limits<std::uint32_t>::max());
  if (!bytes) {
    std::fprintf(stderr, "seedgen: %s: %s\n", to_string(kind), bytes.error().detail.c_str());
    std::exit(1);
  }
  return {bytes.value().begin() + kFrameHeaderBytes, bytes.value().end()};
}

/// The seeds of fuzz_handshake (see handshake_fixture.hpp for the layout).
int handshake_seeds(const fs::path& dir) {
  namespace fx = noexpp::fuzz_handshake;
  using cluster::handshake_proof;
  const std::string peer(fx::kPeerId), local(fx::kLocalId), cookie(fx::kCookie);
  auto with = [](std::vector<Term> items, std::size_t i, Term t) {
    items[i] = std::move(t);
    return items;
  };
  auto bin = [](const std::string& s) { return Term(Binary{{s.begin(), s.end()}}); };
  // This node accepts: the frames are a dialling peer's.
  const Hello hello{kProtocolVersion, peer, fx::kPeerCreation, fx::kPeerNonce, false};
  const auto good_hello = body(FrameKind::hello, hello.items());
  const auto good_response =
      body(FrameKind::response, Response{handshake_proof(cookie, kConnectingRole, fx::kLocalNonce, peer)}.items());
  const std::string proof_b = handshake_proof(cookie, kAcceptingRole, fx::kPeerNonce, local);
  // This node dials kPeerId: the frames are the acceptor's.
  const Challenge challenge{peer, fx::kPeerCreation, fx::kPeerNonce,
                            handshake_proof(cookie, kAcceptingRole, fx::kLocalNonce, peer)};
  const auto good_challenge = body(FrameKind::challenge, challenge.items());
  const auto welcome = body(FrameKind::welcome, {});
  auto reject = [](const char* code) { return body(FrameKind::reject, Reject{code, "seed"}.items()); };
  const std::uint8_t A = 0, I = fx::kDials, duplicate = 1 << fx::kAdmitShift, partitioned = 2 << fx::kAdmitShift;

  const std::vector<std::pair<std::string, std::vector<char>>> seeds = {
      {"accept_ok", fx::make_input(A, {good_hello, good_response})},
      {"accept_ok_then_heartbeat", fx::make_input(A, {good_hello, good_response,
                                                      body(FrameKind::heartbeat, {Term(1), Term(2)})})},
      {"accept_hidden_binary_id", fx::make_input(A, {body(FrameKind::hello, with(with(hello.items(), 4, Term(true)),
                                                                                  1, bin(peer))),
                                                     good_response})},
      {"accept_duplicate", fx::make_input(A | duplicate, {good_hello, good_response})},
      {"accept_partitioned", fx::make_input(A | partitioned, {good_hello, good_response})},
      {"accept_wrong_proof", fx::make_input(A, {good_hello, body(FrameKind::response,
                                                                  Response{std::string(32, 'x')}.items())})},
      {"accept_reflected_proof", fx::make_input(A, {good_hello, body(FrameKind::response, Response{proof_b}.items())})},
      {"accept_response_not_bytes", fx::make_input(A, {good_hello, body(FrameKind::response, {Term(5)})})},
      {"accept_peer_rejects", fx::make_input(A, {good_hello, reject("cookie")})},
      {"accept_welcome_instead", fx::make_input(A, {good_hello, welcome})},
      {"accept_wrong_version", fx::make_input(A, {body(FrameKind::hello, with(hello.items(), 0, Term(kProtocolVersion + 1)))})},
      {"accept_bad_id", fx::make_input(A, {body(FrameKind::hello, with(hello.items(), 1, Term("no-at-sign")))})},
      {"accept_own_id", fx::make_input(A, {body(FrameKind::hello, with(hello.items(), 1, Term(local)))})},
      {"accept_short_nonce", fx::make_input(A, {body(FrameKind::hello, with(hello.items(), 3, bin("short")))})},
      {"accept_wrong_types", fx::make_input(A, {body(FrameKind::hello, {Term("one"), Term(5), Term("c"), Term(1)})})},
      {"accept_missing_items", fx::make_input(A, {body(FrameKind::hello, {Term(kProtocolVersion)})})},
      {"accept_challenge_first", fx::make_input(A, {good_challenge})},
      {"accept_over_limit", [&] {
         auto in = fx::make_input(A, {good_hello});
         in[1] = 0x7f;  // a length far over the handshake's 4 KiB
         return in;
       }()},
      {"accept_truncated", [&] {
         auto in = fx::make_input(A, {good_hello});
         in.resize(in.size() - 3);
         return in;
       }()},
      {"dial_ok", fx::make_input(I, {good_challenge, welcome})},
      {"dial_ok_hidden", fx::make_input(I | fx::kHidden, {good_challenge, welcome, welcome})},
      {"dial_duplicate", fx::make_input(I, {good_challenge, reject("duplicate")})},
      {"dial_partitioned", fx::make_input(I, {good_challenge, reject("partitioned")})},
      {"dial_reject_cookie", fx::make_input(I, {reject("cookie")})},
      {"dial_reject_version", fx::make_input(I, {reject("version")})},
      {"dial_reject_no_code", fx::make_input(I, {body(FrameKind::reject, {Term(1)})})},
      {"dial_wrong_node", fx::make_input(I, {body(FrameKind::challenge, with(challenge.items(), 0, Term("other@127.0.0.1:3")))})},
      {"dial_wrong_proof", fx::make_input(I, {body(FrameKind::challenge, with(challenge.items(), 3, bin(std::string(32, 'x'))))})},
      {"dial_reflected_proof", fx::make_input(I, {body(FrameKind::challenge,
          with(challenge.items(), 3, bin(handshake_proof(cookie, kConnectingRole, fx::kLocalNonce, peer))))})},
      {"dial_creation_not_int", fx::make_input(I, {body(FrameKind::challenge, with(challenge.items(), 1, Term("7")))})},
      {"dial_response_instead", fx::make_input(I, {good_challenge, good_response})},
      {"dial_hello_first", fx::make_input(I, {good_hello})},
      {"loopback_same_cookie", [&] {
         auto in = fx::make_input(fx::kLoopback, {});
         in.insert(in.end(), cookie.begin(), cookie.end());
         return in;
       }()},
      {"loopback_duplicate", [&] {
         auto in = fx::make_input(fx::kLoopback | duplicate, {});
         in.insert(in.end(), cookie.begin(), cookie.end());
         return in;
       }()},
      {"loopback_other_cookie", [&] {
         auto in = fx::make_input(fx::kLoopback, {});
         in.insert(in.end(), {'o', 't', 'h', 'e', 'r'});
         return in;
       }()},
  };
  for (const auto& [name, bytes] : seeds) write(dir, name, bytes);
  return static_cast<int>(seeds.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: seedgen <corpus dir>\n");
    return 2;
  }
  const fs::path root = argv[1];
  NodeOptions o;
  o.name = "fuzz";
  o.threads = 1;
  auto node = Node::create(o);
  const Pid self = node->node_pid();
  const Pid local{self.node, self.creation, 1};
  const Pid remote{intern_node_name("peer@127.0.0.1:2"), 7, 42};

  // ---- terms ----
  const std::vector<std::pair<std::string, Term>> terms = {
      {"nil", Term()},
      {"true", Term(true)},
      {"false", Term(false)},
      {"int_small", Term(5)},
      {"int_neg", Term(-33)},
      {"int_min", Term(std::numeric_limits<std::int64_t>::min())},
      {"int_max", Term(std::numeric_limits<std::int64_t>::max())},
      {"float", Term(1.5)},
      {"float_zero", Term(-0.0)},
      {"string", Term("hello")},
      {"string_utf8", Term("h\xc3\xa9llo \xe2\x82\xac")},
      {"binary", Term(Binary{{0, 1, 2, 255}})},
      {"list", Term::list({1, "a", Term()})},
      {"list_empty", Term::list({})},
      {"tuple", Term::tuple({Term("ok"), 1})},
      {"tuple_empty", Term::tuple({})},
      {"map", Term::map({{Term("k"), Term(1)}, {Term(2), Term::list({})}})},
      {"pid_local", Term(local)},
      {"pid_remote", Term(remote)},
      {"nested", Term::list({Term::tuple({Term::map({{Term("x"), Term::list({Term(remote)})}})})})},
      {"reason_error", ExitReason::error("ValueError", "bad").to_term()},
      {"reason_other", ExitReason::other(Term::tuple({Term("x"), 3})).to_term()},
  };
  for (const auto& [name, t] : terms) write(root / "fuzz_term_codec", name, codec::encode(t));

  // ---- frames ----
  const Term bin = Term(Binary{std::vector<std::uint8_t>(32, 0xab)});
  const std::vector<std::pair<FrameKind, std::vector<Term>>> frames = {
      {FrameKind::hello, {Term(kProtocolVersion), Term("peer@127.0.0.1:2"), Term(7), bin, Term(false)}},
      {FrameKind::challenge, {Term("peer@127.0.0.1:2"), Term(7), bin, bin}},
      {FrameKind::response, {bin}},
      {FrameKind::welcome, {}},
      {FrameKind::reject, {Term("cookie"), Term("wrong cookie")}},
      {FrameKind::heartbeat, {Term(123456789), Term(3)}},
      {FrameKind::heartbeat_ack, {Term(123456789)}},
      {FrameKind::goodbye, {Term("shutdown")}},
      {FrameKind::members, {Term::list({Term("a@127.0.0.1:3"), Term("b@127.0.0.1:4")})}},
      {FrameKind::envelope, {ik(Envelope::Kind::info), Term(local), Term(remote), Term(0), Term("hi"), Term()}},
      {FrameKind::envelope, {ik(Envelope::Kind::cast), Term(local), Term(remote), Term(0), Term::tuple({1, 2}), Term()}},
      {FrameKind::envelope, {ik(Envelope::Kind::exit_signal), Term(local), Term(remote), Term(static_cast<std::int64_t>(kLinkExit)), Term(), ExitReason::killed().to_term()}},
      {FrameKind::envelope, {ik(Envelope::Kind::stop), Term(local), Term(remote), Term(0), Term(), ExitReason::shutdown().to_term()}},
      {FrameKind::envelope, {ik(Envelope::Kind::down), Term(local), Term(remote), Term(9), Term(), ExitReason::noproc().to_term()}},
      {FrameKind::call, {Term(local), Term(remote), Term(11), Term("ping")}},
      {FrameKind::call, {Term(self), Term(remote), Term(12), Term::list({Term("alive"), Term(local)})}},
      {FrameKind::reply, {Term(11), Term(0), Term("pong"), Term(), Term()}},
      {FrameKind::reply, {Term(11), Term(static_cast<std::int64_t>(Errc::no_process)), Term(), ExitReason::noproc().to_term(), Term("gone")}},
      {FrameKind::monitor, {Term(remote), Term(local), Term(13)}},
      {FrameKind::demonitor, {Term(local), Term(13)}},
      {FrameKind::down, {Term(local), Term(remote), Term(13), ExitReason::error("E", "boom").to_term()}},
      {FrameKind::link, {Term(remote), Term(local)}},
      {FrameKind::unlink, {Term(remote), Term(local)}},
      {FrameKind::node_message, {Term("global.register"), Term::list({Term("name"), Term(remote)})}},
      {FrameKind::mailbox_full, {Term(remote)}},
      {FrameKind::mailbox_room, {Term(remote)}},
  };
  int n = 0;
  for (const auto& [kind, items] : frames) {
    const auto b = body(kind, items);
    const std::string name = std::to_string(++n) + "_" + to_string(kind);
    write(root / "fuzz_frame", name, b);
    write(root / "fuzz_frame_validation", name, b);
  }
  const int handshakes = handshake_seeds(root / "fuzz_handshake");
  std::printf("seedgen: %zu terms, %d frames, %d handshakes into %s\n", terms.size(), n, handshakes, root.c_str());
  return 0;
}
