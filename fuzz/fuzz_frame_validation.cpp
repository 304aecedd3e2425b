// fuzz_frame_validation: frames of every kind, decoded from arbitrary bytes,
// fed to the checks an established connection runs before acting on a
// peer's frame: RemoteRouter::on_frame (envelope, call, reply, monitor,
// demonitor, down, link, unlink), the node_message op check, and
// ExitReason::from_term on every item (each reason a frame carries goes
// through it). A real noexpp::Node (no listener) is made once; each input
// gets its own Connection on an unopened socket, so replies the router sends
// back (noproc, DOWN, link exits) go through Connection::send as well.
// Checks: a malformed frame is rejected with a std::exception (which closes
// the connection in the engine), never a crash, UB, leak or other throw.
// Pids naming the local node get its real creation, so the local paths
// (is_local, call_local, monitor, add_remote_link) are reached too.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <span>

#include "cluster/connection.hpp"
#include "cluster/remote_router.hpp"
#include "cluster/wire.hpp"
#include "noexpp/exit_reason.hpp"
#include "noexpp/node.hpp"

using namespace noexpp;
using namespace noexpp::cluster;

namespace {

/// The least a Connection needs: an io_context, options and a local id.
class FuzzHost final : public ConnectionHost {
 public:
  asio::io_context io_ctx;
  ClusterOptions opts;
  std::string id = "fuzz@127.0.0.1:1";
  std::string cookie_ = "fuzz-cookie";
  asio::io_context& io() override { return io_ctx; }
  const ClusterOptions& options() const override { return opts; }
  const std::string& local_id() const override { return id; }
  std::uint32_t local_creation() const override { return 1; }
  const std::string& cookie() const override { return cookie_; }
  std::int64_t local_process_count() const override { return 0; }
  std::string admit(const std::shared_ptr<Connection>&, const std::string&, std::uint32_t) override { return ""; }
  void on_established(const std::shared_ptr<Connection>&) override {}
  void on_frame(Connection&, Frame&) override {}
  void on_closed(const std::shared_ptr<Connection>&, const CloseReason&) override {}
};

struct World {
  std::shared_ptr<Node> node;
  FuzzHost host;
  std::unique_ptr<RemoteRouter> router;
  Pid local;
};

World* world = nullptr;

void localize(Term& t) {
  if (t.is_pid() && t.as_pid().node == world->local.node) {
    Pid p = t.as_pid();
    p.creation = world->local.creation;
    t = Term(p);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  world = new World;
  NodeOptions o;
  o.name = "fuzz";
  o.threads = 1;
  world->node = Node::create(o);
  world->node->start();
  world->local = world->node->node_pid();
  world->router = std::make_unique<RemoteRouter>(
      *world->node, [](Term, std::function<bool(CallOutcome)> answer) {
        answer(CallOutcome::failed(Errc::invalid_argument, {}, "no node requests in the fuzzer"));
      });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto decoded = decode_frame(std::span<const char>(reinterpret_cast<const char*>(data), size));
  if (!decoded) return 0;
  Frame f = std::move(decoded.value());
  for (auto& item : f.items) {
    localize(item);
    // Every reason a frame carries is an arbitrary term to from_term.
    const ExitReason r = ExitReason::from_term(item);
    (void)ExitReason::from_term(r.to_term());
  }
  auto conn = std::make_shared<Connection>(world->host, asio::ip::tcp::socket(world->host.io_ctx),
                                           Connection::Side::acceptor, "peer@127.0.0.1:2");
  try {
    if (RemoteRouter::is_process_frame(f.kind)) {
      world->router->on_frame(*conn, f);
    } else if (f.kind == FrameKind::node_message) {
      if (!f.at(0).is_string()) throw std::invalid_argument("malformed node_message frame: op is not a string");
    }
  } catch (const std::exception&) {
    // Rejected: the engine closes the connection with this text.
  }
  // Run what the router queued on the connection (writes to the unopened
  // socket fail and close it), so no input leaves work behind.
  conn->close({CloseReason::Kind::local, "fuzz input done"});
  world->host.io_ctx.restart();
  world->host.io_ctx.poll();
  return 0;
}
