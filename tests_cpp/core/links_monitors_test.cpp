// Monitors (one DOWN with the reason), links (abnormal exits propagate,
// trap_exit turns them into messages) and exit signals (kill -> killed).
#include <set>
#include <stdexcept>

#include "test_support.hpp"

namespace noexpp::test {
namespace {

class MonitorTest : public NodeTest {
 protected:
  std::uint64_t monitor_from(Pid watcher, Pid target) {
    auto o = node_->call(watcher, Term::tuple({"monitor", target}), kWait);
    EXPECT_TRUE(o.ok()) << testing::PrintToString(o);
    return o.ok() ? static_cast<std::uint64_t>(o.value.as_int()) : 0;
  }
};

TEST_F(MonitorTest, monitor_delivers_one_down_with_the_reason) {
  Watcher w;
  Pid watcher = spawn(fn_server(w.handlers()));
  Pid target = spawn(fn_server(crasher()));
  auto ref = monitor_from(watcher, target);
  EXPECT_NE(ref, 0u);
  node_->cast(target, "crash");
  ASSERT_TRUE(w.wait_kind(Info::Kind::down));
  node_->send(watcher, "marker");
  ASSERT_TRUE(w.wait_message("marker"));
  auto downs = w.of_kind(Info::Kind::down);
  ASSERT_EQ(downs.size(), 1u);
  EXPECT_EQ(downs[0].from, target);
  EXPECT_EQ(downs[0].ref, ref);
  EXPECT_EQ(downs[0].reason, ExitReason::error("std::runtime_error", "target crashed"));
  EXPECT_TRUE(node_->alive(watcher));  // a monitor is one-way: the watcher lives on
}

TEST_F(MonitorTest, down_is_delivered_for_a_normal_exit_too) {
  Watcher w;
  Pid watcher = spawn(fn_server(w.handlers()));
  Pid target = spawn(fn_server(crasher()));
  monitor_from(watcher, target);
  node_->cast(target, "stop");
  ASSERT_TRUE(w.wait_kind(Info::Kind::down));
  EXPECT_EQ(w.of_kind(Info::Kind::down)[0].reason, ExitReason::normal());
}

TEST_F(MonitorTest, each_monitor_gets_its_own_down) {
  Watcher w;
  Pid watcher = spawn(fn_server(w.handlers()));
  Pid target = spawn(fn_server(crasher()));
  auto r1 = monitor_from(watcher, target);
  auto r2 = monitor_from(watcher, target);
  EXPECT_NE(r1, r2);
  node_->cast(target, "crash");
  ASSERT_TRUE(w.wait_kind(Info::Kind::down, 2));
  node_->send(watcher, "marker");
  ASSERT_TRUE(w.wait_message("marker"));
  auto downs = w.of_kind(Info::Kind::down);
  ASSERT_EQ(downs.size(), 2u);
  std::set<std::uint64_t> refs{downs[0].ref, downs[1].ref};
  EXPECT_EQ(refs, (std::set<std::uint64_t>{r1, r2}));
}

TEST_F(MonitorTest, monitor_of_a_dead_process_is_noproc) {
  Pid target = spawn(fn_server({}));
  ASSERT_TRUE(node_->stop_process(target, ExitReason::normal(), kWait).ok());
  Watcher w;
  Pid watcher = spawn(fn_server(w.handlers()));
  auto ref = monitor_from(watcher, target);
  ASSERT_TRUE(w.wait_kind(Info::Kind::down));
  auto down = w.of_kind(Info::Kind::down)[0];
  EXPECT_EQ(down.from, target);
  EXPECT_EQ(down.ref, ref);
  EXPECT_EQ(down.reason, ExitReason::noproc());
}

TEST_F(MonitorTest, node_monitor_of_a_dead_process_calls_back_at_once) {
  Pid target = spawn(fn_server({}));
  ASSERT_TRUE(node_->stop_process(target, ExitReason::normal(), kWait).ok());
  auto got = std::make_shared<Slot<std::pair<Pid, ExitReason>>>();
  node_->monitor(target, [got](Pid p, const ExitReason& r) { got->set({p, r}); });
  auto v = got->peek();
  ASSERT_TRUE(v.has_value()) << "callback did not run before monitor() returned";
  EXPECT_EQ(v->first, target);
  EXPECT_EQ(v->second, ExitReason::noproc());
}

TEST_F(MonitorTest, node_monitor_fires_once_per_monitor) {
  Pid target = spawn(fn_server(crasher()));
  ExitWatch a(*node_, target), b(*node_, target);
  EXPECT_NE(a.ref(), b.ref());
  node_->cast(target, "crash");
  ASSERT_TRUE(a.wait().has_value());
  ASSERT_TRUE(b.wait().has_value());
  EXPECT_EQ(a.wait()->message, "target crashed");
  // Another process's death after this is surely after any duplicate callback.
  Pid other = spawn(fn_server({}));
  ExitWatch c(*node_, other);
  node_->kill(other);
  ASSERT_TRUE(c.wait().has_value());
  EXPECT_EQ(a.calls(), 1);
  EXPECT_EQ(b.calls(), 1);
}

TEST_F(MonitorTest, demonitor_prevents_down) {
  Watcher w;
  Pid watcher = spawn(fn_server(w.handlers()));
  Pid target = spawn(fn_server(crasher()));
  auto ref = monitor_from(watcher, target);
  ASSERT_TRUE(node_->call(watcher, Term::tuple({"demonitor", target, ref_term(ref)}), kWait).ok());
  ExitWatch dead(*node_, target);
  node_->cast(target, "crash");
  ASSERT_TRUE(dead.wait().has_value());
  node_->send(watcher, "marker");
  ASSERT_TRUE(w.wait_message("marker"));
  EXPECT_TRUE(w.of_kind(Info::Kind::down).empty());
}

TEST_F(MonitorTest, node_demonitor_prevents_the_callback) {
  Pid target = spawn(fn_server(crasher()));
  auto fired = std::make_shared<std::atomic<bool>>(false);
  auto ref = node_->monitor(target, [fired](Pid, const ExitReason&) { fired->store(true); });
  node_->demonitor(target, ref);
  ExitWatch dead(*node_, target);  // registered after: fires after the removed one would have
  node_->cast(target, "crash");
  ASSERT_TRUE(dead.wait().has_value());
  EXPECT_FALSE(fired->load());
}

TEST_F(MonitorTest, monitor_by_delivers_down_to_the_watcher) {
  Watcher w;
  Pid watcher = spawn(fn_server(w.handlers()));
  Pid target = spawn(fn_server(crasher()));
  auto ref = node_->monitor_by(watcher, target);
  node_->kill(target);
  ASSERT_TRUE(w.wait_kind(Info::Kind::down));
  auto down = w.of_kind(Info::Kind::down)[0];
  EXPECT_EQ(down.ref, ref);
  EXPECT_EQ(down.from, target);
  EXPECT_EQ(down.reason, ExitReason::killed());
}

TEST_F(MonitorTest, down_arrives_after_messages_sent_before_death) {
  Watcher w;
  Pid watcher = spawn(fn_server(w.handlers()));
  Pid target = spawn(fn_server(crasher()));
  monitor_from(watcher, target);
  // The watcher is busy while the target sends and dies, so both wait in
  // its mailbox together.
  node_->cast(watcher, "block");
  ASSERT_TRUE(w.busy->wait());
  ExitWatch dead(*node_, target);
  node_->call_async(target, Term::tuple({"send_then_crash", watcher, "last words"}), kWait, [](CallOutcome) {});
  ASSERT_TRUE(dead.wait().has_value());
  w.gate->set();
  ASSERT_TRUE(w.wait_kind(Info::Kind::down));
  ASSERT_TRUE(w.wait_message("last words"));
  auto v = w.infos->snapshot();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].kind, Info::Kind::message);  // as Erlang: signals between a pair keep their order
  EXPECT_EQ(v[1].kind, Info::Kind::down);
}

// ---- links -------------------------------------------------------------------

class LinkTest : public MonitorTest {};

TEST_F(LinkTest, abnormal_exit_propagates_over_a_link) {
  Pid a = spawn(fn_server({}));
  Pid b = spawn(fn_server(crasher()));
  node_->link(a, b);
  ExitWatch wa(*node_, a), wb(*node_, b);
  node_->cast(b, "crash");
  auto rb = wb.wait();
  auto ra = wa.wait();
  ASSERT_TRUE(rb.has_value());
  ASSERT_TRUE(ra.has_value()) << "the linked process survived an abnormal exit";
  EXPECT_EQ(*ra, *rb);  // it dies with the same reason
  EXPECT_EQ(ra->message, "target crashed");
}

TEST_F(LinkTest, links_are_bidirectional) {
  Pid a = spawn(fn_server(crasher()));
  Pid b = spawn(fn_server({}));
  node_->link(b, a);  // linked from the other side this time
  ExitWatch wb(*node_, b);
  node_->cast(a, "crash");
  auto rb = wb.wait();
  ASSERT_TRUE(rb.has_value());
  EXPECT_EQ(rb->kind, ExitReason::Kind::error);
}

TEST_F(LinkTest, spawn_link_option_links_the_new_process) {
  Pid parent = spawn(fn_server({}));
  SpawnOptions o;
  o.link_to = parent;
  Pid child = spawn(fn_server(crasher()), {}, o);
  ExitWatch wp(*node_, parent);
  node_->cast(child, "crash");
  auto r = wp.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->message, "target crashed");
}

TEST_F(LinkTest, a_chain_of_links_fails_together) {
  Pid a = spawn(fn_server({}));
  Pid b = spawn(fn_server({}));
  Pid c = spawn(fn_server(crasher()));
  node_->link(a, b);
  node_->link(b, c);
  ExitWatch wa(*node_, a);
  node_->cast(c, "crash");
  auto r = wa.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->message, "target crashed");
  EXPECT_FALSE(node_->alive(b));
}

TEST_F(LinkTest, normal_exit_does_not_propagate) {
  Pid a = spawn(fn_server({}));
  Pid b = spawn(fn_server(crasher()));
  node_->link(a, b);
  ExitWatch wb(*node_, b);
  node_->cast(b, "stop");
  ASSERT_EQ(wb.wait(), ExitReason::normal());
  // Anything the link would do to `a` is queued before this call.
  EXPECT_TRUE(node_->call(a, "still there?", kWait).ok());
  EXPECT_TRUE(node_->alive(a));
}

TEST_F(LinkTest, unlink_stops_propagation) {
  Pid a = spawn(fn_server({}));
  Pid b = spawn(fn_server(crasher()));
  node_->link(a, b);
  node_->unlink(b, a);
  ExitWatch wb(*node_, b);
  node_->cast(b, "crash");
  ASSERT_TRUE(wb.wait().has_value());
  EXPECT_TRUE(node_->call(a, "still there?", kWait).ok());
}

TEST_F(LinkTest, link_and_unlink_from_inside_a_process) {
  Watcher w;
  Pid a = spawn(fn_server(w.handlers(/*trap=*/true)));
  Pid b = spawn(fn_server(crasher()));
  Pid c = spawn(fn_server(crasher()));
  ASSERT_TRUE(node_->call(a, Term::tuple({"link", b}), kWait).ok());
  ASSERT_TRUE(node_->call(a, Term::tuple({"link", c}), kWait).ok());
  ASSERT_TRUE(node_->call(a, Term::tuple({"unlink", c}), kWait).ok());
  ExitWatch wc(*node_, c);
  node_->cast(c, "crash");
  ASSERT_TRUE(wc.wait().has_value());
  node_->cast(b, "crash");
  ASSERT_TRUE(w.wait_kind(Info::Kind::exit));
  node_->send(a, "marker");
  ASSERT_TRUE(w.wait_message("marker"));
  auto exits = w.of_kind(Info::Kind::exit);
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].from, b);  // nothing from the unlinked c
}

TEST_F(LinkTest, trap_exit_turns_an_abnormal_exit_into_info) {
  Watcher w;
  Pid a = spawn(fn_server(w.handlers(/*trap=*/true)));
  Pid b = spawn(fn_server(crasher()));
  node_->link(a, b);
  node_->cast(b, "crash");
  ASSERT_TRUE(w.wait_kind(Info::Kind::exit));
  auto ex = w.of_kind(Info::Kind::exit)[0];
  EXPECT_EQ(ex.from, b);
  EXPECT_EQ(ex.reason, ExitReason::error("std::runtime_error", "target crashed"));
  EXPECT_TRUE(node_->call(a, "alive?", kWait).ok());
}

TEST_F(LinkTest, trap_exit_also_reports_a_normal_exit) {
  Watcher w;
  Pid a = spawn(fn_server(w.handlers(/*trap=*/true)));
  Pid b = spawn(fn_server(crasher()));
  node_->link(a, b);
  node_->cast(b, "stop");
  ASSERT_TRUE(w.wait_kind(Info::Kind::exit));
  auto ex = w.of_kind(Info::Kind::exit)[0];
  EXPECT_EQ(ex.from, b);
  EXPECT_EQ(ex.reason, ExitReason::normal());
}

TEST_F(LinkTest, trap_exit_can_be_switched_on_later) {
  Watcher w;
  Pid a = spawn(fn_server(w.handlers(/*trap=*/false)));
  Pid b = spawn(fn_server(crasher()));
  ASSERT_TRUE(node_->call(a, Term::tuple({"trap", true}), kWait).ok());
  node_->link(a, b);
  node_->cast(b, "crash");
  ASSERT_TRUE(w.wait_kind(Info::Kind::exit));
  EXPECT_TRUE(node_->alive(a));
}

TEST_F(LinkTest, link_to_a_dead_process_signals_noproc) {
  Watcher w;
  Pid a = spawn(fn_server(w.handlers(/*trap=*/true)));
  Pid dead = spawn(fn_server({}));
  ASSERT_TRUE(node_->stop_process(dead, ExitReason::normal(), kWait).ok());
  node_->link(a, dead);
  ASSERT_TRUE(w.wait_kind(Info::Kind::exit));
  auto ex = w.of_kind(Info::Kind::exit)[0];
  EXPECT_EQ(ex.from, dead);
  EXPECT_EQ(ex.reason, ExitReason::noproc());
}

TEST_F(LinkTest, trapped_exit_arrives_after_messages_sent_before_death) {
  Watcher w;
  Pid a = spawn(fn_server(w.handlers(/*trap=*/true)));
  Pid b = spawn(fn_server(crasher()));
  node_->link(a, b);
  // `a` is busy while `b` sends and dies, so both wait in its mailbox together.
  node_->cast(a, "block");
  ASSERT_TRUE(w.busy->wait());
  ExitWatch dead(*node_, b);
  node_->call_async(b, Term::tuple({"send_then_crash", a, "last words"}), kWait, [](CallOutcome) {});
  ASSERT_TRUE(dead.wait().has_value());
  w.gate->set();
  ASSERT_TRUE(w.wait_kind(Info::Kind::exit));
  ASSERT_TRUE(w.wait_message("last words"));
  auto v = w.infos->snapshot();
  ASSERT_EQ(v.size(), 2u);
  // Erlang keeps signals between one pair of processes in order: the message
  // b sent before it died comes before b's EXIT.
  EXPECT_EQ(v[0].kind, Info::Kind::message);
  EXPECT_EQ(v[1].kind, Info::Kind::exit);
}

// ---- exit signals ------------------------------------------------------------

class ExitSignalTest : public MonitorTest {};

TEST_F(ExitSignalTest, kill_gives_killed_without_terminate) {
  auto terminated = std::make_shared<std::atomic<bool>>(false);
  Handlers h;
  h.terminate = [terminated](GenServer&, const ExitReason&) { terminated->store(true); };
  Pid p = spawn(fn_server(h));
  ExitWatch w(*node_, p);
  EXPECT_TRUE(node_->kill(p));
  auto r = w.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, ExitReason::killed());
  EXPECT_FALSE(terminated->load());
  EXPECT_FALSE(node_->alive(p));
}

TEST_F(ExitSignalTest, kill_is_untrappable) {
  Watcher w;
  Pid p = spawn(fn_server(w.handlers(/*trap=*/true)));
  ExitWatch watch(*node_, p);
  node_->kill(p);
  auto r = watch.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, ExitReason::killed());
  EXPECT_TRUE(w.of_kind(Info::Kind::exit).empty());
}

TEST_F(ExitSignalTest, exit_with_reason_killed_kills_a_non_trapping_process) {
  Pid p = spawn(fn_server({}));
  ExitWatch w(*node_, p);
  node_->exit(p, ExitReason::killed());
  auto r = w.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, ExitReason::killed());
}

TEST_F(ExitSignalTest, kill_of_a_dead_pid_returns_false) {
  Pid p = spawn(fn_server({}));
  kill_and_wait(p);
  EXPECT_FALSE(node_->kill(p));
  EXPECT_FALSE(node_->exit(p, ExitReason::shutdown()));
}

TEST_F(ExitSignalTest, linked_processes_of_a_killed_one_exit_with_killed) {
  Pid a = spawn(fn_server({}));
  Pid b = spawn(fn_server({}));
  node_->link(a, b);
  ExitWatch wa(*node_, a);
  node_->kill(b);
  auto r = wa.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, ExitReason::killed());
}

TEST_F(ExitSignalTest, exit_with_an_abnormal_reason_kills_a_non_trapping_process) {
  Pid p = spawn(fn_server({}));
  ExitWatch w(*node_, p);
  EXPECT_TRUE(node_->exit(p, ExitReason::other("bye")));
  auto r = w.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, ExitReason::other("bye"));
}

TEST_F(ExitSignalTest, exit_normal_is_ignored_by_a_non_trapping_process) {
  Pid p = spawn(fn_server({}));
  node_->exit(p, ExitReason::normal());
  EXPECT_TRUE(node_->call(p, "still there?", kWait).ok());
  EXPECT_TRUE(node_->alive(p));
}

TEST_F(ExitSignalTest, exit_signal_is_trapped_as_info) {
  Watcher w;
  Pid p = spawn(fn_server(w.handlers(/*trap=*/true)));
  Pid sender = spawn(fn_server({}));
  node_->exit(p, ExitReason::shutdown(), sender);
  ASSERT_TRUE(w.wait_kind(Info::Kind::exit));
  auto ex = w.of_kind(Info::Kind::exit)[0];
  EXPECT_EQ(ex.from, sender);
  EXPECT_EQ(ex.reason, ExitReason::shutdown());
  EXPECT_TRUE(node_->alive(p));
}

TEST_F(ExitSignalTest, exit_signal_overtakes_queued_messages) {
  auto gate = std::make_shared<Event>();
  auto busy = std::make_shared<Event>();
  auto handled = std::make_shared<Recorder<Term>>();
  Handlers h;
  h.cast = [gate, busy, handled](GenServer&, const Term& req) {
    handled->push(req);
    if (req.is("block")) {
      busy->set();
      EXPECT_TRUE(gate->wait());
    }
  };
  Pid p = spawn(fn_server(h));
  ExitWatch w(*node_, p);
  node_->cast(p, "block");
  ASSERT_TRUE(busy->wait());
  node_->cast(p, "queued");
  node_->exit(p, ExitReason::other("now"));
  gate->set();
  auto r = w.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, ExitReason::other("now"));
  EXPECT_EQ(handled->snapshot(), std::vector<Term>{"block"});
}

}  // namespace
}  // namespace noexpp::test
