// seedgen: writes the seed corpora (fuzz/corpus/<target>/) from real
// encodings: one term of every type for fuzz_term_codec, and a well-formed
// frame body of every kind (as encode_frame builds them, header removed) for
// fuzz_frame and fuzz_frame_validation. Pids name a node called "fuzz", as
// the validation target's node is, so its local paths are seeded too.
//   seedgen <corpus dir>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "cluster/wire.hpp"
#include "core/internal/codec.hpp"
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
    auto bytes = encode_frame(kind, items, std::numeric_limits<std::uint32_t>::max());
    if (!bytes) {
      std::fprintf(stderr, "seedgen: %s: %s\n", to_string(kind), bytes.error().detail.c_str());
      return 1;
    }
    std::vector<char> body(bytes.value().begin() + kFrameHeaderBytes, bytes.value().end());
    const std::string name = std::to_string(++n) + "_" + to_string(kind);
    write(root / "fuzz_frame", name, body);
    write(root / "fuzz_frame_validation", name, body);
  }
  std::printf("seedgen: %zu terms, %d frames into %s\n", terms.size(), n, root.c_str());
  return 0;
}
