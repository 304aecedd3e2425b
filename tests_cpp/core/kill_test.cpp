// Kill is unconditional (DESIGN §2): a process killed, or sent an abnormal
// exit signal it does not trap, is dead for everyone at once, even while one
// of its handlers runs on another thread; what that handler does afterwards
// is dropped, and its engine thread is replaced meanwhile.
#include "test_support.hpp"

namespace noexpp::test {
namespace {

class KillTest : public NodeTest {
 protected:
  /// A process whose cast "block" holds its handler until `gate` (reporting
  /// `busy` first), then sends "after" to `witness` (if set) and returns.
  struct Blocker {
    std::shared_ptr<Event> gate = std::make_shared<Event>();
    std::shared_ptr<Event> busy = std::make_shared<Event>();
    std::shared_ptr<Event> returned = std::make_shared<Event>();
    std::shared_ptr<Slot<Pid>> witness = std::make_shared<Slot<Pid>>();
    Handlers handlers(bool trap = false) const {
      Handlers h;
      h.init = [trap](GenServer& self, const Term&) { self.trap_exit(trap); };
      h.cast = [gate = gate, busy = busy, returned = returned, witness = witness](GenServer& self, const Term& req) {
        if (!req.is("block")) return;
        busy->set();
        EXPECT_TRUE(gate->wait());
        if (auto w = witness->peek()) self.send(*w, "after");
        returned->set();
      };
      return h;
    }
  };

  Pid spawn_blocked(Blocker& b, const SpawnOptions& o = {}, bool trap = false) {
    Pid p = spawn(fn_server(b.handlers(trap)), {}, o);
    node_->cast(p, "block");
    EXPECT_TRUE(b.busy->wait());
    return p;
  }
};

TEST_F(KillTest, a_busy_process_is_dead_at_once_for_monitors_names_and_the_table) {
  Blocker b;
  SpawnOptions o;
  o.name = "busy";
  Pid p = spawn_blocked(b, o);
  ExitWatch w(*node_, p);
  node_->kill(p);
  auto r = w.wait();
  ASSERT_TRUE(r.has_value()) << "the DOWN waited for the handler";
  EXPECT_EQ(*r, ExitReason::killed());
  EXPECT_FALSE(node_->alive(p));
  EXPECT_FALSE(node_->whereis("busy").has_value());
  // The name is free again while the old handler still runs.
  SpawnOptions again;
  again.name = "busy";
  EXPECT_TRUE(node_->spawn(fn_server({}), {}, again).ok());
  EXPECT_FALSE(b.returned->is_set());
  b.gate->set();
  EXPECT_TRUE(b.returned->wait());
}

TEST_F(KillTest, calls_waiting_for_a_killed_busy_process_fail_at_once) {
  Blocker b;
  Pid p = spawn_blocked(b);
  auto outcome = std::make_shared<Slot<CallOutcome>>();
  node_->call_async(p, "queued", kInfinity, [outcome](CallOutcome o) { outcome->set(std::move(o)); });
  node_->kill(p);
  auto o = outcome->wait();
  ASSERT_TRUE(o.has_value()) << "the call waited for the handler";
  EXPECT_EQ(o->status, Errc::process_crashed);
  EXPECT_EQ(o->reason, ExitReason::killed());
  b.gate->set();
}

TEST_F(KillTest, what_a_killed_handler_sends_afterwards_is_dropped) {
  Blocker b;
  auto got = std::make_shared<Recorder<Term>>();
  Handlers sink;
  sink.info = [got](GenServer&, const Info& i) { got->push(i.message); };
  Pid witness = spawn(fn_server(sink));
  b.witness->set(witness);
  Pid p = spawn_blocked(b);
  ExitWatch w(*node_, p);
  node_->kill(p);
  ASSERT_TRUE(w.wait().has_value());
  b.gate->set();
  ASSERT_TRUE(b.returned->wait());
  // "marker" goes after whatever the dead handler could have sent.
  node_->send(witness, "marker");
  ASSERT_TRUE(got->wait_until_count(1));
  EXPECT_EQ(got->snapshot(), std::vector<Term>{Term("marker")});
}

TEST_F(KillTest, a_link_exit_reaches_a_busy_process_when_it_gets_to_it) {
  // Only a kill is unconditional: another exit signal is handled when the
  // process gets to it (so an unlink before then still voids it, OTP 23).
  Blocker b;
  Pid p = spawn_blocked(b);
  Pid partner = spawn(fn_server(crasher()));
  node_->link(partner, p);
  ExitWatch w(*node_, p);
  ExitWatch partner_gone(*node_, partner);
  node_->cast(partner, "crash");
  ASSERT_TRUE(partner_gone.wait().has_value());
  EXPECT_TRUE(node_->alive(p));
  b.gate->set();
  auto r = w.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, ExitReason::Kind::error);
}

TEST_F(KillTest, an_idle_linked_process_dies_before_the_parent_hears_of_the_exit) {
  // A killed supervisor's children release their names before the
  // supervisor above it can restart it (OTP's simple_global_supervisor).
  auto order = std::make_shared<Recorder<std::string>>();
  Handlers parent;
  parent.init = [](GenServer& self, const Term&) { self.trap_exit(true); };
  parent.info = [order](GenServer& self, const Info& i) {
    if (i.kind != Info::Kind::exit) return;
    order->push(self.node().whereis("grandchild") ? "name still taken" : "name free");
  };
  Pid top = spawn(fn_server(parent));
  SpawnOptions mid_opts;
  mid_opts.link_to = top;
  mid_opts.parent = top;
  Pid middle = spawn(fn_server({}), {}, mid_opts);
  SpawnOptions child_opts;
  child_opts.name = "grandchild";
  child_opts.link_to = middle;
  child_opts.parent = middle;
  spawn(fn_server({}), {}, child_opts);
  node_->kill(middle);
  ASSERT_TRUE(order->wait_until_count(1));
  EXPECT_EQ(order->snapshot()[0], "name free");
}

TEST_F(KillTest, a_busy_process_that_traps_exits_gets_the_exit_as_a_message_later) {
  Blocker b;
  auto infos = std::make_shared<Recorder<Info>>();
  Handlers h = b.handlers(true);
  h.info = [infos](GenServer&, const Info& i) { infos->push(i); };
  Pid p = spawn(fn_server(h));
  node_->cast(p, "block");
  ASSERT_TRUE(b.busy->wait());
  node_->exit(p, ExitReason::other("go away"));
  EXPECT_TRUE(node_->alive(p));  // trapping: not killed by a plain signal
  b.gate->set();
  ASSERT_TRUE(infos->wait_until_count(1));
  EXPECT_EQ(infos->snapshot()[0].kind, Info::Kind::exit);
  EXPECT_TRUE(node_->alive(p));
}

TEST_F(KillTest, a_killed_handler_that_never_returns_keeps_no_thread_from_the_others) {
  auto node = make_node(1, "one_thread");
  Blocker b;
  Pid p = spawn_on(*node, fn_server(b.handlers()));
  node->cast(p, "block");
  ASSERT_TRUE(b.busy->wait());  // the only engine thread is held
  node->kill(p);
  Pid other = spawn_on(*node, fn_server({}));
  auto o = std::make_shared<Slot<CallOutcome>>();
  node->call_async(other, "echo", kWait, [o](CallOutcome r) { o->set(std::move(r)); });
  auto r = o->wait();
  ASSERT_TRUE(r.has_value()) << "no thread stood in for the held one";
  EXPECT_EQ(r->value, Term("echo"));
  b.gate->set();
  ASSERT_TRUE(b.returned->wait());
}

}  // namespace
}  // namespace noexpp::test
