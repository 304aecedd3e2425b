// Processes on other nodes over real TCP on 127.0.0.1: remote call / cast /
// send, ordering between a pair of processes, calls failing fast when a node
// goes, remote monitors and links, remote stop, pids carried inside terms,
// malformed traffic on the listener, and the frame maximum.
#include "cluster/wire.hpp"
#include <asio.hpp>

#include "core/internal/codec.hpp"

#include <array>
#include <stdexcept>
#include <thread>

#include "cluster_test_support.hpp"

namespace noexpp::test {
namespace {

using Clock = std::chrono::steady_clock;

const Term& map_get(const Term& map, const char* key) {
  static const Term nil;
  if (!map.is_map()) return nil;
  for (auto& [k, v] : map.as_map().items)
    if (k.is(key)) return v;
  return nil;
}

const ExitReason kCrashed = ExitReason::error("std::runtime_error", "target crashed");

class RemoteTest : public ClusterTest {
 protected:
  struct Pair {
    std::shared_ptr<Node> a, b;
  };
  /// Two nodes, alpha and beta, each seeing the other up.
  Pair connected_pair(cluster::ClusterOptions o = fast_options()) {
    auto a = make_cluster_node("alpha", {}, o);
    auto b = make_cluster_node("beta", {a->id()}, o);
    EXPECT_TRUE(wait_members_up(*a, {b->id()}));
    EXPECT_TRUE(wait_members_up(*b, {a->id()}));
    return {a, b};
  }
  /// A pid of `n`'s current incarnation that no process has.
  static Pid missing_pid_on(Node& n) {
    Pid p = n.node_pid();
    p.serial = 1'000'000'000;
    return p;
  }
  /// A call from `from` to `remote`: every frame `from` sent to that node
  /// before it has been applied there.
  static void round_trip(Node& from, Pid remote) {
    auto o = from.call(remote, "sync", kWait);
    ASSERT_TRUE(o.ok()) << testing::PrintToString(o);
  }
  static std::uint64_t monitor_from(Node& n, Pid watcher, Pid target) {
    auto o = n.call(watcher, Term::tuple({"monitor", target}), kWait);
    EXPECT_TRUE(o.ok()) << testing::PrintToString(o);
    return o.ok() ? static_cast<std::uint64_t>(o.value.as_int()) : 0;
  }
};

// ---- calls, casts, messages ----------------------------------------------------

TEST_F(RemoteTest, remote_call_reaches_a_server_on_another_node) {
  auto [a, b] = connected_pair();
  Handlers h;
  h.call = [](GenServer& self, const Term& req, const From& from) -> CallReply {
    return Term::tuple({req, self.self(), from.caller});
  };
  Pid pb = spawn_on(*b, fn_server(h));
  auto o = a->call(pb, Term::list({Term("hello"), Term(42)}), kWait);
  ASSERT_TRUE(o.ok()) << testing::PrintToString(o);
  ASSERT_TRUE(o.value.is_tuple());
  const auto& items = o.value.as_tuple().items;
  EXPECT_EQ(items.at(0), Term::list({Term("hello"), Term(42)}));
  EXPECT_EQ(items.at(1), Term(pb));  // it ran on beta, in that process
  EXPECT_EQ(items.at(2), Term(a->node_pid()));  // called from outside any process on alpha
}

TEST_F(RemoteTest, remote_cast_and_send_reach_a_server_on_another_node) {
  auto [a, b] = connected_pair();
  auto seen = std::make_shared<Recorder<std::pair<std::string, Term>>>();
  Handlers h;
  h.cast = [seen](GenServer&, const Term& req) { seen->push({"cast", req}); };
  h.info = [seen](GenServer&, const Info& i) {
    if (i.kind == Info::Kind::message) seen->push({"info", i.message});
  };
  Pid pb = spawn_on(*b, fn_server(h));
  EXPECT_TRUE(a->cast(pb, "c1"));
  EXPECT_TRUE(a->send(pb, Term::map({{Term("k"), Term(Binary{{1, 2, 3}})}})));
  auto r1 = a->send_message(pb, "i2", /*as_cast=*/false);
  auto r2 = a->send_message(pb, "c2", /*as_cast=*/true);
  ASSERT_TRUE(r1.ok() && r1.value());
  ASSERT_TRUE(r2.ok() && r2.value());
  ASSERT_TRUE(seen->wait_until_count(4));
  auto v = seen->snapshot();
  ASSERT_EQ(v.size(), 4u);
  // One sender, one target: in send order.
  EXPECT_EQ(v[0], (std::pair<std::string, Term>{"cast", Term("c1")}));
  EXPECT_EQ(v[1], (std::pair<std::string, Term>{"info", Term::map({{Term("k"), Term(Binary{{1, 2, 3}})}})}));
  EXPECT_EQ(v[2], (std::pair<std::string, Term>{"info", Term("i2")}));
  EXPECT_EQ(v[3], (std::pair<std::string, Term>{"cast", Term("c2")}));
}

TEST_F(RemoteTest, remote_call_whose_handler_crashes_is_crashed_with_the_reason) {
  auto [a, b] = connected_pair();
  Pid pb = spawn_on(*b, fn_server(crasher()));
  ExitWatch dead(*b, pb);
  auto o = a->call(pb, "crash", kWait);
  EXPECT_EQ(o.status, Errc::process_crashed) << testing::PrintToString(o);
  EXPECT_EQ(o.reason, ExitReason::error("std::runtime_error", "boom"));
  EXPECT_EQ(dead.wait(), ExitReason::error("std::runtime_error", "boom"));
}

TEST_F(RemoteTest, noreply_answered_later_with_node_reply_from_another_thread_reaches_the_remote_caller) {
  auto [a, b] = connected_pair();
  auto from_slot = std::make_shared<Slot<From>>();
  Handlers h;
  h.call = [from_slot](GenServer&, const Term& req, const From& from) -> CallReply {
    if (!req.is("later")) return req;
    from_slot->set(from);
    return CallReply::noreply();
  };
  Pid pb = spawn_on(*b, fn_server(h));
  auto outcome = std::make_shared<Slot<CallOutcome>>();
  a->call_async(pb, "later", kWait, [outcome](CallOutcome o) { outcome->set(std::move(o)); });
  auto from = from_slot->wait();
  ASSERT_TRUE(from.has_value()) << "handle_call never ran on beta";
  EXPECT_FALSE(outcome->peek().has_value()) << "the call completed before anyone replied";
  std::thread replier([&] { b->reply(*from, Term("answered later")); });
  replier.join();
  auto o = outcome->wait();
  ASSERT_TRUE(o.has_value()) << "the remote caller never got the reply";
  ASSERT_TRUE(o->ok()) << testing::PrintToString(*o);
  EXPECT_EQ(o->value, Term("answered later"));
  EXPECT_TRUE(a->call(pb, "still serving", kWait).ok());
}

TEST_F(RemoteTest, call_to_a_node_that_is_not_connected_fails_with_noconnection_at_once) {
  auto a = make_cluster_node("alpha");
  auto c = make_cluster_node("gamma");  // listening, but nobody connected it to alpha
  Pid pc = spawn_on(*c, fn_server({}));
  ASSERT_FALSE(cluster::cluster_of(*a)->node_pid(c->id()));
  const auto t0 = Clock::now();
  auto o = a->call(pc, "anyone?", 10s);
  const auto took = Clock::now() - t0;
  EXPECT_EQ(o.status, Errc::no_connection) << testing::PrintToString(o);
  EXPECT_EQ(o.reason, ExitReason::noconnection());
  EXPECT_LT(took, 2s) << "waited for the timeout instead of failing at once";
}

TEST_F(RemoteTest, call_to_a_remote_pid_that_does_not_exist_is_noproc) {
  auto [a, b] = connected_pair();
  auto o = a->call(missing_pid_on(*b), "anyone?", kWait);
  EXPECT_EQ(o.status, Errc::no_process) << testing::PrintToString(o);
  // And a pid whose process has exited.
  Pid gone = spawn_on(*b, fn_server({}));
  ASSERT_TRUE(b->stop_process(gone, ExitReason::normal(), kWait).ok());
  o = a->call(gone, "anyone?", kWait);
  EXPECT_EQ(o.status, Errc::no_process) << testing::PrintToString(o);
}

TEST_F(RemoteTest, a_reply_arriving_after_the_callers_timeout_is_dropped) {
  auto [a, b] = connected_pair();
  auto from_slot = std::make_shared<Slot<From>>();
  Handlers h;
  h.call = [from_slot](GenServer&, const Term& req, const From& from) -> CallReply {
    if (!req.is("later")) return req;
    from_slot->set(from);
    return CallReply::noreply();
  };
  Pid pb = spawn_on(*b, fn_server(h));
  auto o = a->call(pb, "later", 300ms);
  EXPECT_EQ(o.status, Errc::call_timeout) << testing::PrintToString(o);
  auto from = from_slot->wait();
  ASSERT_TRUE(from.has_value());
  b->reply(*from, Term("too late"));
  // The late reply completes nothing else: the next call gets its own.
  auto next = a->call(pb, "next", kWait);
  ASSERT_TRUE(next.ok()) << testing::PrintToString(next);
  EXPECT_EQ(next.value, Term("next"));
}

TEST_F(RemoteTest, exit_and_kill_signals_reach_remote_processes) {
  auto [a, b] = connected_pair();
  Pid plain = spawn_on(*b, fn_server({}));
  Watcher w;
  Pid trapping = spawn_on(*b, fn_server(w.handlers(/*trap=*/true)));
  ExitWatch wp(*a, plain), wt(*a, trapping);
  const auto bye = ExitReason::other(Term::tuple({Term("bye"), Term(7)}));
  EXPECT_TRUE(a->exit(plain, bye));
  EXPECT_EQ(wp.wait(), bye);
  EXPECT_TRUE(a->exit(trapping, bye));
  ASSERT_TRUE(w.wait_kind(Info::Kind::exit));
  auto ex = w.of_kind(Info::Kind::exit).at(0);
  EXPECT_EQ(ex.from, a->node_pid());
  EXPECT_EQ(ex.reason, bye);
  EXPECT_FALSE(wt.fired());
  EXPECT_TRUE(a->kill(trapping));  // untrappable
  EXPECT_EQ(wt.wait(), ExitReason::killed());
}

// ---- ordering ---------------------------------------------------------------------

TEST_F(RemoteTest, casts_from_one_process_to_a_remote_process_arrive_in_send_order) {
  constexpr std::int64_t kCount = 100'000;
  auto [a, b] = connected_pair();
  struct Seq {
    std::mutex mu;
    std::int64_t next = 0;
    std::int64_t received = 0;
    std::optional<std::pair<std::int64_t, std::int64_t>> first_gap;  // expected, got
    std::int64_t non_ints = 0;
    Event done;
  };
  auto seq = std::make_shared<Seq>();
  Handlers rh;
  rh.cast = [seq](GenServer&, const Term& req) {
    std::lock_guard lk(seq->mu);
    if (!req.is_int()) {
      ++seq->non_ints;
      return;
    }
    const auto got = req.as_int();
    if (got != seq->next && !seq->first_gap) seq->first_gap = {seq->next, got};
    seq->next = got + 1;
    if (++seq->received == kCount) seq->done.set();
  };
  Pid receiver = spawn_on(*b, fn_server(rh));
  Handlers sh;
  sh.cast = [](GenServer& self, const Term& req) {
    const auto& it = req.as_tuple().items;
    const Pid to = it.at(0).as_pid();
    for (std::int64_t i = 0, n = it.at(1).as_int(); i < n; ++i) self.cast(to, Term(i));
  };
  Pid sender = spawn_on(*a, fn_server(sh));
  a->cast(sender, Term::tuple({receiver, Term(kCount)}));
  // 100,000 frames: a longer bound than kWait for the sanitizer builds.
  const bool all = seq->done.wait(6 * kWait);
  std::lock_guard lk(seq->mu);
  EXPECT_TRUE(all) << "only " << seq->received << " of " << kCount << " casts arrived";
  EXPECT_EQ(seq->non_ints, 0);
  EXPECT_FALSE(seq->first_gap.has_value())
      << "first gap: expected " << seq->first_gap->first << ", got " << seq->first_gap->second;
  EXPECT_EQ(seq->received, kCount);
}

// ---- a node going away while a call is open ------------------------------------------

TEST_F(RemoteTest, call_in_flight_when_the_callee_node_aborts_fails_with_noconnection_well_before_its_timeout) {
  auto [a, b] = connected_pair();
  auto reached = std::make_shared<Event>();
  Handlers h;
  h.call = [reached](GenServer&, const Term&, const From&) -> CallReply {
    reached->set();
    return CallReply::noreply();  // never answered
  };
  Pid pb = spawn_on(*b, fn_server(h));
  struct Done {
    CallOutcome outcome;
    Clock::time_point at;
  };
  auto done = std::make_shared<Slot<Done>>();
  a->call_async(pb, "hang", 10s, [done](CallOutcome o) { done->set({std::move(o), Clock::now()}); });
  ASSERT_TRUE(reached->wait());
  const auto t0 = Clock::now();
  b->abort();
  auto d = done->wait();
  ASSERT_TRUE(d.has_value()) << "the call never completed";
  EXPECT_EQ(d->outcome.status, Errc::no_connection) << testing::PrintToString(d->outcome);
  EXPECT_EQ(d->outcome.reason, ExitReason::noconnection());
  EXPECT_LT(d->at - t0, 2s) << "the call waited for its timeout";
}

TEST_F(RemoteTest, call_in_flight_when_the_callee_node_stops_gracefully_fails_well_before_its_timeout) {
  auto [a, b] = connected_pair();
  auto reached = std::make_shared<Event>();
  Handlers h;
  h.call = [reached](GenServer&, const Term&, const From&) -> CallReply {
    reached->set();
    return CallReply::noreply();
  };
  Pid pb = spawn_on(*b, fn_server(h));
  struct Done {
    CallOutcome outcome;
    Clock::time_point at;
  };
  auto done = std::make_shared<Slot<Done>>();
  a->call_async(pb, "hang", 10s, [done](CallOutcome o) { done->set({std::move(o), Clock::now()}); });
  ASSERT_TRUE(reached->wait());
  const auto t0 = Clock::now();
  b->stop();
  auto d = done->wait();
  ASSERT_TRUE(d.has_value()) << "the call never completed";
  EXPECT_FALSE(d->outcome.ok());
  EXPECT_NE(d->outcome.status, Errc::call_timeout) << testing::PrintToString(d->outcome);
  EXPECT_LT(d->at - t0, 2s) << "the call waited for its timeout";
}

// ---- remote monitors ------------------------------------------------------------------

TEST_F(RemoteTest, monitor_by_a_watcher_gets_down_with_the_remote_exit_reason) {
  auto [a, b] = connected_pair();
  Watcher w;
  Pid watcher = spawn_on(*a, fn_server(w.handlers()));
  Pid target = spawn_on(*b, fn_server(crasher()));
  auto ref = a->monitor_by(watcher, target);
  a->cast(target, "crash");  // after the monitor frame on the same connection
  ASSERT_TRUE(w.wait_kind(Info::Kind::down));
  a->send(watcher, "marker");
  ASSERT_TRUE(w.wait_message("marker"));
  auto downs = w.of_kind(Info::Kind::down);
  ASSERT_EQ(downs.size(), 1u);
  EXPECT_EQ(downs[0].from, target);
  EXPECT_EQ(downs[0].ref, ref);
  EXPECT_EQ(downs[0].reason, kCrashed);
}

TEST_F(RemoteTest, a_process_monitoring_from_inside_gets_down_for_a_normal_remote_exit) {
  auto [a, b] = connected_pair();
  Watcher w;
  Pid watcher = spawn_on(*a, fn_server(w.handlers()));
  Pid target = spawn_on(*b, fn_server(crasher()));
  auto ref = monitor_from(*a, watcher, target);
  round_trip(*a, target);  // the monitor is set up on beta
  b->cast(target, "stop");
  ASSERT_TRUE(w.wait_kind(Info::Kind::down));
  auto down = w.of_kind(Info::Kind::down).at(0);
  EXPECT_EQ(down.from, target);
  EXPECT_EQ(down.ref, ref);
  EXPECT_EQ(down.reason, ExitReason::normal());
}

TEST_F(RemoteTest, node_monitor_callback_gets_down_with_the_remote_exit_reason) {
  auto [a, b] = connected_pair();
  Pid target = spawn_on(*b, fn_server(crasher()));
  ExitWatch w(*a, target);
  a->cast(target, "crash");
  auto r = w.wait();
  ASSERT_TRUE(r.has_value()) << "no DOWN from beta";
  EXPECT_EQ(*r, kCrashed);
  // Another remote DOWN after it: a duplicate of the first would come before.
  Pid other = spawn_on(*b, fn_server(crasher()));
  ExitWatch w2(*a, other);
  a->cast(other, "crash");
  ASSERT_TRUE(w2.wait().has_value());
  EXPECT_EQ(w.calls(), 1);
}

TEST_F(RemoteTest, remote_monitors_fire_noconnection_when_the_node_aborts) {
  auto [a, b] = connected_pair();
  Watcher w;
  Pid watcher = spawn_on(*a, fn_server(w.handlers()));
  Pid target = spawn_on(*b, fn_server({}));
  auto ref = a->monitor_by(watcher, target);
  ExitWatch cb(*a, target);
  round_trip(*a, target);
  b->abort();
  auto r = cb.wait();
  ASSERT_TRUE(r.has_value()) << "Node::monitor callback never fired";
  EXPECT_EQ(*r, ExitReason::noconnection());
  ASSERT_TRUE(w.wait_kind(Info::Kind::down));
  auto down = w.of_kind(Info::Kind::down).at(0);
  EXPECT_EQ(down.from, target);
  EXPECT_EQ(down.ref, ref);
  EXPECT_EQ(down.reason, ExitReason::noconnection());
}

TEST_F(RemoteTest, remote_monitors_fire_noconnection_when_the_nodes_are_partitioned) {
  auto [a, b] = connected_pair();
  Watcher w;
  Pid watcher = spawn_on(*a, fn_server(w.handlers()));
  Pid target = spawn_on(*b, fn_server({}));
  auto ref = a->monitor_by(watcher, target);
  ExitWatch cb(*a, target);
  round_trip(*a, target);
  cluster::cluster_of(*a)->set_partitioned(b->id(), true);
  cluster::cluster_of(*b)->set_partitioned(a->id(), true);
  auto r = cb.wait();
  ASSERT_TRUE(r.has_value()) << "Node::monitor callback never fired";
  EXPECT_EQ(*r, ExitReason::noconnection());
  ASSERT_TRUE(w.wait_kind(Info::Kind::down));
  auto down = w.of_kind(Info::Kind::down).at(0);
  EXPECT_EQ(down.from, target);
  EXPECT_EQ(down.ref, ref);
  EXPECT_EQ(down.reason, ExitReason::noconnection());
  EXPECT_TRUE(b->alive(target));  // only the network was cut
}

TEST_F(RemoteTest, demonitor_before_the_remote_exit_delivers_no_down) {
  auto [a, b] = connected_pair();
  Watcher w;
  Pid watcher = spawn_on(*a, fn_server(w.handlers()));
  Pid target = spawn_on(*b, fn_server(crasher()));
  auto by_ref = a->monitor_by(watcher, target);
  auto fired = std::make_shared<std::atomic<int>>(0);
  auto cb_ref = a->monitor(target, [fired](Pid, const ExitReason&) { fired->fetch_add(1); });
  round_trip(*a, target);  // both monitors are installed on beta
  a->demonitor(target, by_ref);
  a->demonitor(target, cb_ref);
  // Monitors set up after the removed ones: their DOWNs come after any the
  // removed ones would have sent (same connection, same target's exit).
  auto later_ref = monitor_from(*a, watcher, target);
  ExitWatch later(*a, target);
  a->cast(target, "crash");
  ASSERT_TRUE(later.wait().has_value());
  ASSERT_TRUE(w.wait_kind(Info::Kind::down));
  a->send(watcher, "marker");
  ASSERT_TRUE(w.wait_message("marker"));
  // One more round trip over the connection and through alpha's engine.
  Pid other = spawn_on(*b, fn_server({}));
  round_trip(*a, other);
  auto downs = w.of_kind(Info::Kind::down);
  ASSERT_EQ(downs.size(), 1u);
  EXPECT_EQ(downs[0].ref, later_ref);
  EXPECT_EQ(fired->load(), 0);
}

TEST_F(RemoteTest, a_remote_down_arrives_after_the_messages_the_target_sent_before_dying) {
  auto [a, b] = connected_pair();
  Watcher w;
  Pid watcher = spawn_on(*a, fn_server(w.handlers()));
  Pid target = spawn_on(*b, fn_server(crasher()));
  monitor_from(*a, watcher, target);
  round_trip(*a, target);
  // The watcher is busy while the target sends and dies, so both wait in
  // its mailbox together.
  a->cast(watcher, "block");
  ASSERT_TRUE(w.busy->wait());
  ExitWatch dead(*b, target);
  b->call_async(target, Term::tuple({"send_then_crash", watcher, "last words"}), kWait, [](CallOutcome) {});
  ASSERT_TRUE(dead.wait().has_value());
  w.gate->set();
  ASSERT_TRUE(w.wait_kind(Info::Kind::down));
  ASSERT_TRUE(w.wait_message("last words"));
  auto v = w.infos->snapshot();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].kind, Info::Kind::message);
  EXPECT_EQ(v[1].kind, Info::Kind::down);
  EXPECT_EQ(v[1].reason, kCrashed);
}

TEST_F(RemoteTest, monitor_of_a_remote_pid_that_does_not_exist_is_noproc) {
  auto [a, b] = connected_pair();
  Watcher w;
  Pid watcher = spawn_on(*a, fn_server(w.handlers()));
  const Pid missing = missing_pid_on(*b);
  auto ref = a->monitor_by(watcher, missing);
  ExitWatch cb(*a, missing);
  auto r = cb.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, ExitReason::noproc());
  ASSERT_TRUE(w.wait_kind(Info::Kind::down));
  auto down = w.of_kind(Info::Kind::down).at(0);
  EXPECT_EQ(down.from, missing);
  EXPECT_EQ(down.ref, ref);
  EXPECT_EQ(down.reason, ExitReason::noproc());
}

TEST_F(RemoteTest, monitor_of_a_pid_on_a_node_that_is_not_connected_is_noconnection) {
  auto a = make_cluster_node("alpha");
  auto c = make_cluster_node("gamma");
  Pid pc = spawn_on(*c, fn_server({}));
  ExitWatch cb(*a, pc);
  auto r = cb.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, ExitReason::noconnection());
}

// ---- remote links ---------------------------------------------------------------------

TEST_F(RemoteTest, remote_crash_kills_a_linked_local_process_with_the_same_reason) {
  auto [a, b] = connected_pair();
  Pid local = spawn_on(*a, fn_server({}));
  Pid remote = spawn_on(*b, fn_server(crasher()));
  a->link(local, remote);
  round_trip(*a, remote);  // the link is in place on beta
  ExitWatch wl(*a, local);
  b->cast(remote, "crash");
  auto r = wl.wait();
  ASSERT_TRUE(r.has_value()) << "the linked local process survived the remote crash";
  EXPECT_EQ(*r, kCrashed);
}

TEST_F(RemoteTest, local_crash_kills_the_linked_remote_process) {
  auto [a, b] = connected_pair();
  Pid local = spawn_on(*a, fn_server(crasher()));
  Pid remote = spawn_on(*b, fn_server({}));
  // Linked from beta's side this time, with the remote pid first.
  b->link(local, remote);
  round_trip(*b, local);
  ExitWatch wr(*b, remote);
  a->cast(local, "crash");
  auto r = wr.wait();
  ASSERT_TRUE(r.has_value()) << "the linked remote process survived the crash";
  EXPECT_EQ(*r, kCrashed);
}

TEST_F(RemoteTest, a_trapping_local_process_receives_the_remote_exit_as_a_message) {
  auto [a, b] = connected_pair();
  Watcher w;
  Pid local = spawn_on(*a, fn_server(w.handlers(/*trap=*/true)));
  Pid remote = spawn_on(*b, fn_server(crasher()));
  ASSERT_TRUE(a->call(local, Term::tuple({"link", remote}), kWait).ok());
  round_trip(*a, remote);
  b->cast(remote, "crash");
  ASSERT_TRUE(w.wait_kind(Info::Kind::exit));
  auto ex = w.of_kind(Info::Kind::exit).at(0);
  EXPECT_EQ(ex.from, remote);
  EXPECT_EQ(ex.reason, kCrashed);
  EXPECT_TRUE(a->call(local, "alive?", kWait).ok());
}

TEST_F(RemoteTest, a_graceful_stop_of_the_remote_node_delivers_its_processes_exits_with_reason_shutdown) {
  for (int round = 0; round < 20; ++round) {
    auto [a, b] = connected_pair();
    Watcher w;
    Pid local = spawn_on(*a, fn_server(w.handlers(/*trap=*/true)));
    Pid remote = spawn_on(*b, fn_server(crasher()));
    ASSERT_TRUE(a->call(local, Term::tuple({"link", remote}), kWait).ok());
    round_trip(*a, remote);
    b->stop();
    ASSERT_TRUE(w.wait_kind(Info::Kind::exit));
    auto ex = w.of_kind(Info::Kind::exit).at(0);
    EXPECT_EQ(ex.from, remote);
    EXPECT_EQ(ex.reason.to_string(), ExitReason::shutdown().to_string()) << "round " << round;
  }
}

TEST_F(RemoteTest, a_trapping_remote_process_receives_the_local_exit_as_a_message) {
  auto [a, b] = connected_pair();
  Watcher w;
  Pid remote = spawn_on(*b, fn_server(w.handlers(/*trap=*/true)));
  Pid local = spawn_on(*a, fn_server(crasher()));
  a->link(local, remote);
  round_trip(*a, remote);
  a->cast(local, "crash");
  ASSERT_TRUE(w.wait_kind(Info::Kind::exit));
  auto ex = w.of_kind(Info::Kind::exit).at(0);
  EXPECT_EQ(ex.from, local);
  EXPECT_EQ(ex.reason, kCrashed);
  EXPECT_TRUE(b->call(remote, "alive?", kWait).ok());
}

TEST_F(RemoteTest, a_trapped_remote_exit_arrives_after_the_messages_sent_before_death) {
  auto [a, b] = connected_pair();
  Watcher w;
  Pid local = spawn_on(*a, fn_server(w.handlers(/*trap=*/true)));
  Pid remote = spawn_on(*b, fn_server(crasher()));
  ASSERT_TRUE(a->call(local, Term::tuple({"link", remote}), kWait).ok());
  round_trip(*a, remote);
  a->cast(local, "block");
  ASSERT_TRUE(w.busy->wait());
  ExitWatch dead(*b, remote);
  b->call_async(remote, Term::tuple({"send_then_crash", local, "last words"}), kWait, [](CallOutcome) {});
  ASSERT_TRUE(dead.wait().has_value());
  w.gate->set();
  ASSERT_TRUE(w.wait_kind(Info::Kind::exit));
  ASSERT_TRUE(w.wait_message("last words"));
  auto v = w.infos->snapshot();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].kind, Info::Kind::message);
  EXPECT_EQ(v[1].kind, Info::Kind::exit);
}

TEST_F(RemoteTest, linking_to_a_remote_pid_that_does_not_exist_signals_noproc) {
  auto [a, b] = connected_pair();
  const Pid missing = missing_pid_on(*b);
  Watcher w;
  Pid trapping = spawn_on(*a, fn_server(w.handlers(/*trap=*/true)));
  ASSERT_TRUE(a->call(trapping, Term::tuple({"link", missing}), kWait).ok());
  ASSERT_TRUE(w.wait_kind(Info::Kind::exit));
  auto ex = w.of_kind(Info::Kind::exit).at(0);
  EXPECT_EQ(ex.from, missing);
  EXPECT_EQ(ex.reason, ExitReason::noproc());
  // As erlang:link/1: a process that does not trap exits dies of it.
  Pid plain = spawn_on(*a, fn_server({}));
  ExitWatch wp(*a, plain);
  a->link(plain, missing);
  EXPECT_EQ(wp.wait(), ExitReason::noproc());
}

TEST_F(RemoteTest, linking_to_a_pid_on_a_node_that_is_not_connected_signals_noconnection) {
  auto a = make_cluster_node("alpha");
  auto c = make_cluster_node("gamma");
  Pid pc = spawn_on(*c, fn_server({}));
  Watcher w;
  Pid trapping = spawn_on(*a, fn_server(w.handlers(/*trap=*/true)));
  ASSERT_TRUE(a->call(trapping, Term::tuple({"link", pc}), kWait).ok());
  ASSERT_TRUE(w.wait_kind(Info::Kind::exit));
  auto ex = w.of_kind(Info::Kind::exit).at(0);
  EXPECT_EQ(ex.from, pc);
  EXPECT_EQ(ex.reason, ExitReason::noconnection());
  EXPECT_TRUE(c->alive(pc));
}

TEST_F(RemoteTest, node_abort_breaks_remote_links_with_noconnection) {
  auto [a, b] = connected_pair();
  Pid plain = spawn_on(*a, fn_server({}));
  Watcher w;
  Pid trapping = spawn_on(*a, fn_server(w.handlers(/*trap=*/true)));
  Pid r1 = spawn_on(*b, fn_server({}));
  Pid r2 = spawn_on(*b, fn_server({}));
  a->link(plain, r1);
  a->link(trapping, r2);
  round_trip(*a, r1);
  ExitWatch wp(*a, plain);
  b->abort();
  auto r = wp.wait();
  ASSERT_TRUE(r.has_value()) << "the process linked to a process of the aborted node survived";
  EXPECT_EQ(*r, ExitReason::noconnection());
  ASSERT_TRUE(w.wait_kind(Info::Kind::exit));
  auto ex = w.of_kind(Info::Kind::exit).at(0);
  EXPECT_EQ(ex.from, r2);
  EXPECT_EQ(ex.reason, ExitReason::noconnection());
  EXPECT_TRUE(a->call(trapping, "alive?", kWait).ok());
}

TEST_F(RemoteTest, unlink_stops_propagation_over_the_cluster) {
  auto [a, b] = connected_pair();
  auto a_log = watch_membership(*a);
  Pid local = spawn_on(*a, fn_server({}));
  Pid remote = spawn_on(*b, fn_server(crasher()));
  a->link(local, remote);
  round_trip(*a, remote);
  a->unlink(local, remote);
  round_trip(*a, remote);  // the unlink is applied on beta
  ExitWatch wr(*b, remote);
  b->cast(remote, "crash");
  ASSERT_EQ(wr.wait(), kCrashed);
  // An exit signal the crash sent would reach alpha before beta's goodbye;
  // and a link left on alpha's side would break with noconnection on it.
  b->stop();
  ASSERT_TRUE(a_log->wait_until([](auto& v) {
    for (auto& e : v)
      if (e.type == "node_down") return true;
    return false;
  }));
  EXPECT_TRUE(a->call(local, "still there?", kWait).ok());
  EXPECT_TRUE(a->alive(local));
}

TEST_F(RemoteTest, unlink_before_an_in_flight_remote_exit_signal_is_handled_keeps_the_local_process_alive) {
  // Erlang's link protocol (OTP 23+): once unlink has returned, the link has
  // no effect on the caller; an exit signal due to a link that no longer
  // exists is ignored.
  auto [a, b] = connected_pair();
  auto a_log = watch_membership(*a);
  Watcher w;
  Pid local = spawn_on(*a, fn_server(w.handlers()));  // not trapping
  Pid remote = spawn_on(*b, fn_server(crasher()));
  a->link(local, remote);
  round_trip(*a, remote);
  // `local` is busy while `remote` dies and its exit signal travels.
  a->cast(local, "block");
  ASSERT_TRUE(w.busy->wait());
  ExitWatch wr(*b, remote);
  b->cast(remote, "crash");
  ASSERT_EQ(wr.wait(), kCrashed);
  a->unlink(local, remote);
  ExitWatch wl(*a, local);
  w.gate->set();
  // Everything beta sent reaches alpha before its goodbye.
  b->stop();
  ASSERT_TRUE(a_log->wait_until([](auto& v) {
    for (auto& e : v)
      if (e.type == "node_down") return true;
    return false;
  }));
  auto o = a->call(local, "still there?", kWait);
  EXPECT_TRUE(o.ok()) << "the call: " << testing::PrintToString(o) << "; the process exited with "
                      << (wl.fired() ? wl.wait()->to_string() : std::string("nothing"));
}

// ---- stopping a remote process ------------------------------------------------------

TEST_F(RemoteTest, stop_process_of_a_remote_pid_runs_terminate_there_and_returns) {
  auto [a, b] = connected_pair();
  auto terminated = std::make_shared<Slot<ExitReason>>();
  Handlers h;
  h.terminate = [terminated](GenServer&, const ExitReason& r) { terminated->set(r); };
  Pid pb = spawn_on(*b, fn_server(h));
  auto r = a->stop_process(pb, ExitReason::shutdown(), kWait);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r.value());
  auto t = terminated->peek();  // terminate ran before the DOWN that ended the wait
  ASSERT_TRUE(t.has_value()) << "terminate did not run on beta";
  EXPECT_EQ(*t, ExitReason::shutdown());
  EXPECT_FALSE(b->alive(pb));
}

TEST_F(RemoteTest, stop_process_of_a_missing_remote_pid_is_no_process) {
  auto [a, b] = connected_pair();
  auto r = a->stop_process(missing_pid_on(*b), ExitReason::normal(), kWait);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::no_process) << r.error().to_string();
}

TEST_F(RemoteTest, stop_process_of_a_pid_on_a_node_that_is_not_connected_is_no_connection) {
  auto a = make_cluster_node("alpha");
  auto c = make_cluster_node("gamma");
  Pid pc = spawn_on(*c, fn_server({}));
  auto r = a->stop_process(pc, ExitReason::normal(), kWait);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::no_connection) << r.error().to_string();
  EXPECT_TRUE(c->alive(pc));
}

// ---- pids inside terms ----------------------------------------------------------------

TEST_F(RemoteTest, a_pid_inside_a_term_sent_a_to_b_to_c_is_usable_on_c) {
  auto a = make_cluster_node("alpha");
  auto b = make_cluster_node("beta", {a->id()});
  auto c = make_cluster_node("gamma", {b->id()});  // learns alpha by gossip
  ASSERT_TRUE(wait_members_up(*a, {b->id(), c->id()}));
  ASSERT_TRUE(wait_members_up(*b, {a->id(), c->id()}));
  ASSERT_TRUE(wait_members_up(*c, {a->id(), b->id()}));
  Handlers ha;
  ha.call = [](GenServer& self, const Term& req, const From&) -> CallReply {
    return Term::tuple({Term("pong"), req, self.self()});
  };
  Pid pa = spawn_on(*a, fn_server(ha));
  struct Got {
    Term payload;
    CallOutcome outcome;
  };
  auto got = std::make_shared<Slot<Got>>();
  Handlers hc;
  hc.info = [got](GenServer& self, const Info& i) {
    if (i.kind != Info::Kind::message) return;
    const Term& who = map_get(i.message, "who");
    if (!who.is_pid()) {
      got->set({i.message, CallOutcome::failed(Errc::no_process)});
      return;
    }
    self.await_call(who.as_pid(), Term("ping from gamma"), kWait,
                    [got, payload = i.message](CallOutcome o) { got->set({payload, std::move(o)}); });
  };
  Pid pc = spawn_on(*c, fn_server(hc));
  Handlers hb;
  hb.info = [pc](GenServer& self, const Info& i) {
    if (i.kind == Info::Kind::message) self.send(pc, i.message);
  };
  Pid pb = spawn_on(*b, fn_server(hb));
  const Term payload = Term::map({{Term("who"), Term(pa)},
                                  {Term("nested"), Term::list({Term::tuple({Term(pa), Term(pb)})})}});
  ASSERT_TRUE(a->send(pb, payload));
  auto g = got->wait();
  ASSERT_TRUE(g.has_value()) << "nothing reached gamma";
  EXPECT_EQ(g->payload, payload);  // the pids came through unchanged
  ASSERT_TRUE(g->outcome.ok()) << testing::PrintToString(g->outcome);
  EXPECT_EQ(g->outcome.value, Term::tuple({Term("pong"), Term("ping from gamma"), Term(pa)}));
  // The test thread on gamma can use it too.
  EXPECT_TRUE(c->call(pa, "from gamma's test thread", kWait).ok());
}

// ---- malformed traffic on the listener ------------------------------------------------

class MalformedTrafficTest : public RemoteTest {
 protected:
  /// Opens a raw TCP connection (no handshake) to `node`, writes `bytes`, and
  /// reports whether the node closed it within `timeout`.
  static bool node_closes_raw_connection(Node& node, const std::vector<char>& bytes,
                                         std::chrono::milliseconds timeout = kWait) {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    std::error_code ec;
    s.connect({asio::ip::make_address("127.0.0.1"), cluster::cluster_of(node)->port()}, ec);
    EXPECT_FALSE(ec) << "cannot connect: " << ec.message();
    if (ec) return false;
    asio::write(s, asio::buffer(bytes), ec);
    // A write error means the node already closed it (reset): closed too.
    if (ec) return true;
    bool closed = false;
    std::array<char, 512> buf{};
    std::function<void()> read_more = [&] {
      s.async_read_some(asio::buffer(buf), [&](const std::error_code& e, std::size_t) {
        if (e) {
          closed = true;  // EOF or reset
          return;
        }
        read_more();  // whatever it said, keep reading until it closes
      });
    };
    read_more();
    io.run_for(timeout);
    return closed;
  }

  static std::vector<char> with_length(std::uint32_t n, std::vector<char> body) {
    std::vector<char> out{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                          static_cast<char>(n)};
    out.insert(out.end(), body.begin(), body.end());
    return out;
  }

  /// The node under attack (beta) and a peer (alpha) connected before it.
  void check_closed_and_node_keeps_serving(const std::vector<char>& bytes) {
    auto o = fast_options();
    o.handshake_timeout = 2000ms;  // bounds the truncated frame's wait
    auto [a, b] = connected_pair(o);
    auto a_log = watch_membership(*a);
    Pid pb = spawn_on(*b, fn_server({}));
    round_trip(*a, pb);
    EXPECT_TRUE(node_closes_raw_connection(*b, bytes)) << "the node kept the raw connection open";
    // The connected peer stays up and served, and new peers still get in.
    auto o2 = a->call(pb, "still serving?", kWait);
    EXPECT_TRUE(o2.ok()) << testing::PrintToString(o2);
    auto c = make_cluster_node("gamma", {}, o);
    EXPECT_TRUE(connect(*c, *b));
    EXPECT_TRUE(c->call(pb, "from a new peer", kWait).ok());
    for (auto& e : a_log->snapshot()) EXPECT_NE(e.type, "node_down") << e.node << ": " << e.detail;
    EXPECT_TRUE(cluster::cluster_of(*a)->node_pid(b->id()).has_value());
  }
};

TEST_F(MalformedTrafficTest, garbage_bytes_close_the_raw_connection_and_the_node_keeps_serving) {
  const std::string http = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  check_closed_and_node_keeps_serving({http.begin(), http.end()});
}

TEST_F(MalformedTrafficTest, malformed_msgpack_in_a_small_frame_closes_the_raw_connection) {
  // 0xc1 is the one byte msgpack never uses.
  check_closed_and_node_keeps_serving(with_length(5, {'\xc1', '\xc1', '\xc1', '\xc1', '\xc1'}));
}

TEST_F(MalformedTrafficTest, a_truncated_frame_closes_the_raw_connection_and_the_node_keeps_serving) {
  // Announces 100 bytes, sends 10, and keeps the socket open: the handshake
  // timeout must end it.
  check_closed_and_node_keeps_serving(with_length(100, std::vector<char>(10, '\x93')));
}

TEST_F(MalformedTrafficTest, a_length_prefix_of_0xffffffff_closes_the_raw_connection_and_the_node_keeps_serving) {
  check_closed_and_node_keeps_serving(with_length(0xFFFFFFFFu, {'\x91', '\x01'}));
}

TEST_F(MalformedTrafficTest, a_well_formed_frame_of_unknown_kind_99_closes_the_raw_connection) {
  auto body = codec::encode(Term::list({Term(99)}));
  check_closed_and_node_keeps_serving(with_length(static_cast<std::uint32_t>(body.size()), body));
}

TEST_F(MalformedTrafficTest, a_known_frame_before_the_handshake_closes_the_raw_connection) {
  // A well-formed call frame, but no hello first.
  auto frame = cluster::encode_frame(cluster::FrameKind::call, {Term(Pid{}), Term(Pid{}), Term(1), Term("x")},
                                     cluster::kHandshakeMaxFrame);
  ASSERT_TRUE(frame.ok());
  check_closed_and_node_keeps_serving(frame.value());
}

// ---- the frame maximum -------------------------------------------------------------------

TEST_F(RemoteTest, a_message_over_the_frame_maximum_is_message_too_large_and_the_connection_stays) {
  auto o = fast_options();
  o.max_frame_bytes = 4096;
  auto [a, b] = connected_pair(o);
  auto seen = std::make_shared<Recorder<Term>>();
  Handlers h;
  h.info = [seen](GenServer&, const Info& i) { seen->push(i.message); };
  h.cast = [seen](GenServer&, const Term& req) { seen->push(req); };
  h.call = [](GenServer&, const Term& req, const From&) -> CallReply {
    if (req.is("big reply")) return Term(Binary{std::vector<std::uint8_t>(10 * 1024, 7)});
    return req;
  };
  Pid pb = spawn_on(*b, fn_server(h));
  const Term big(Binary{std::vector<std::uint8_t>(10 * 1024, 42)});
  auto r = a->send_message(pb, big, /*as_cast=*/false);
  ASSERT_FALSE(r.ok()) << "a 10 KB message left with a 4 KB frame maximum";
  EXPECT_EQ(r.error().code, Errc::message_too_large) << r.error().to_string();
  r = a->send_message(pb, big, /*as_cast=*/true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::message_too_large);
  // The connection is still there and in order.
  auto ok = a->call(pb, "after", kWait);
  ASSERT_TRUE(ok.ok()) << testing::PrintToString(ok);
  EXPECT_EQ(ok.value, Term("after"));
  a->send(pb, "small");
  ASSERT_TRUE(seen->wait_until_count(1));
  EXPECT_EQ(seen->snapshot().at(0), Term("small"));
  // A call whose request is too large.
  auto c = a->call(pb, big, kWait);
  EXPECT_EQ(c.status, Errc::message_too_large) << testing::PrintToString(c);
  // A reply that is too large.
  auto d = a->call(pb, "big reply", kWait);
  EXPECT_EQ(d.status, Errc::message_too_large) << testing::PrintToString(d);
  EXPECT_TRUE(a->call(pb, "still fine", kWait).ok());
  EXPECT_TRUE(cluster::cluster_of(*a)->node_pid(b->id()).has_value());
}

}  // namespace
}  // namespace noexpp::test
