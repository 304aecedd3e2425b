// Scheduling: processes run in parallel, a process never runs on two threads
// at once, synchronous calls from handlers cannot deadlock the engine, and
// coroutine handlers suspend without blocking their thread.
#include <algorithm>
#include <stdexcept>
#include <thread>

#include "test_support.hpp"

namespace noexpp::test {
namespace {

class SchedulingTest : public NodeTest {};

TEST_F(SchedulingTest, processes_run_in_parallel_on_two_threads) {
  // Each handler waits for a second handler to arrive: this only completes
  // if two processes run at the same time on the node's two threads.
  auto barrier = std::make_shared<TimedBarrier>(2);
  auto met = std::make_shared<Recorder<bool>>();
  Handlers h;
  h.cast = [barrier, met](GenServer&, const Term&) { met->push(barrier->arrive_and_wait()); };
  constexpr int kProcs = 20;
  std::vector<Pid> pids;
  for (int i = 0; i < kProcs; ++i) pids.push_back(spawn(fn_server(h)));
  for (auto p : pids) node_->cast(p, "meet");
  ASSERT_TRUE(met->wait_until_count(kProcs, 2 * kWait));
  auto v = met->snapshot();
  EXPECT_EQ(std::count(v.begin(), v.end(), true), kProcs) << "handlers did not run in parallel";
}

TEST_F(SchedulingTest, many_processes_all_make_progress) {
  Handlers h;
  auto count = std::make_shared<std::atomic<int>>(0);
  h.init = [](GenServer&, const Term&) {};
  h.cast = [count](GenServer&, const Term&) { count->fetch_add(1, std::memory_order_relaxed); };
  constexpr int kProcs = 300, kMsgs = 20;
  std::vector<Pid> pids;
  for (int i = 0; i < kProcs; ++i) pids.push_back(spawn(fn_server(h)));
  auto send_half = [&](int from, int to) {
    for (int m = 0; m < kMsgs; ++m)
      for (int i = from; i < to; ++i) node_->cast(pids[i], m);
  };
  std::thread a(send_half, 0, kProcs / 2), b(send_half, kProcs / 2, kProcs);
  a.join();
  b.join();
  for (auto p : pids) ASSERT_TRUE(node_->call(p, "sync", kWait).ok());  // each mailbox drained
  EXPECT_EQ(count->load(), kProcs * kMsgs);
  EXPECT_EQ(node_->process_count(), std::size_t(kProcs));
}

TEST_F(SchedulingTest, a_process_never_runs_on_two_threads_at_once) {
  struct Guard {
    std::atomic<int> inside{0};
    std::atomic<int> max_inside{0};
    std::int64_t handled = 0;  // plain on purpose: TSan flags it if two threads run the process
    std::atomic<int> spin{0};
  };
  constexpr int kProcs = 3, kSenders = 4, kPerSender = 3000;
  std::vector<std::shared_ptr<Guard>> guards;
  std::vector<Pid> pids;
  for (int i = 0; i < kProcs; ++i) {
    auto g = std::make_shared<Guard>();
    auto enter = [g] {
      int now = g->inside.fetch_add(1) + 1;
      int seen = g->max_inside.load();
      while (now > seen && !g->max_inside.compare_exchange_weak(seen, now)) {
      }
      // Widen the window a second runner would hit. Not yield(): on a loaded
      // machine each yield can cost a whole time slice.
      for (int k = 0; k < 100; ++k) g->spin.fetch_add(1, std::memory_order_relaxed);
      ++g->handled;
      g->inside.fetch_sub(1);
    };
    Handlers h;
    h.cast = [enter](GenServer&, const Term&) { enter(); };
    h.info = [enter](GenServer&, const Info&) { enter(); };
    h.call = [g, enter](GenServer&, const Term& req, const From&) -> CallReply {
      if (req.is("count")) return Term(g->handled);
      enter();
      return req;
    };
    guards.push_back(g);
    pids.push_back(spawn(fn_server(h)));
  }
  auto async_done = std::make_shared<std::atomic<int>>(0);
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s)
    senders.emplace_back([&, s] {
      for (int i = 0; i < kPerSender; ++i) {
        Pid to = pids[(i + s) % kProcs];
        switch (i % 3) {
          case 0: node_->cast(to, i); break;
          case 1: node_->send(to, i); break;
          default: node_->call_async(to, i, kWait, [async_done](CallOutcome) { async_done->fetch_add(1); });
        }
      }
    });
  for (auto& t : senders) t.join();
  std::int64_t total = 0;
  for (auto p : pids) {
    auto o = node_->call(p, "count", kWait);
    ASSERT_TRUE(o.ok()) << testing::PrintToString(o);
    total += o.value.as_int();
  }
  EXPECT_EQ(total, std::int64_t(kSenders) * kPerSender);
  for (auto& g : guards) EXPECT_EQ(g->max_inside.load(), 1) << "a process ran on two threads at once";
}

TEST_F(SchedulingTest, a_busy_process_does_not_starve_others) {
  // One process floods itself with work; another, on the same two threads,
  // still answers promptly because runs are batched.
  auto stop = std::make_shared<std::atomic<bool>>(false);
  Handlers spinner;
  spinner.cast = [stop](GenServer& self, const Term&) {
    if (!stop->load()) self.cast(self.self(), "again");
  };
  Pid spin = spawn(fn_server(spinner));
  Pid spin2 = spawn(fn_server(spinner));
  node_->cast(spin, "start");
  node_->cast(spin2, "start");
  Pid other = spawn(fn_server({}));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(node_->call(other, i, kWait).ok());
  stop->store(true);
}

// ---- synchronous calls from handlers ----------------------------------------

/// A middle link of a call chain: calls `next` synchronously from its handler.
Handlers chain_link(Pid next) {
  Handlers h;
  h.call = [next](GenServer& self, const Term& req, const From&) -> CallReply {
    auto o = self.node().call(next, req, kWait);
    if (!o.ok()) return Term::tuple({"failed", to_string(o.status)});
    return Term::tuple({"via", o.value});
  };
  return h;
}

Handlers chain_leaf() {
  Handlers h;
  h.call = [](GenServer&, const Term& req, const From&) -> CallReply { return Term::tuple({"leaf", req}); };
  return h;
}

TEST_F(SchedulingTest, sync_call_chain_on_one_thread_does_not_deadlock) {
  auto single = make_node(1, "single_thread");
  Pid c = spawn_on(*single, fn_server(chain_leaf()));
  Pid b = spawn_on(*single, fn_server(chain_link(c)));
  Pid a = spawn_on(*single, fn_server(chain_link(b)));
  for (int i = 0; i < 20; ++i) {
    auto o = single->call(a, i, kWait);
    ASSERT_TRUE(o.ok()) << "round " << i << ": " << testing::PrintToString(o);
    ASSERT_EQ(o.value, Term::tuple({"via", Term::tuple({"via", Term::tuple({"leaf", i})})})) << "round " << i;
  }
}

TEST_F(SchedulingTest, sync_call_chain_from_a_cast_handler_on_one_thread) {
  // The first hop starts inside a handler too (no outside caller blocking).
  auto single = make_node(1, "single_thread_cast");
  Pid c = spawn_on(*single, fn_server(chain_leaf()));
  Pid b = spawn_on(*single, fn_server(chain_link(c)));
  auto got = std::make_shared<Slot<CallOutcome>>();
  Handlers starter;
  starter.cast = [b, got](GenServer& self, const Term& req) { got->set(self.node().call(b, req, kWait)); };
  Pid a = spawn_on(*single, fn_server(starter));
  single->cast(a, "x");
  auto o = got->wait();
  ASSERT_TRUE(o.has_value()) << "chain did not finish";
  ASSERT_TRUE(o->ok()) << testing::PrintToString(*o);
  EXPECT_EQ(o->value, Term::tuple({"via", Term::tuple({"leaf", "x"})}));
}

TEST_F(SchedulingTest, concurrent_sync_call_chains_on_one_thread) {
  auto single = make_node(1, "single_thread_concurrent");
  Pid c = spawn_on(*single, fn_server(chain_leaf()));
  Pid b1 = spawn_on(*single, fn_server(chain_link(c)));
  Pid b2 = spawn_on(*single, fn_server(chain_link(c)));
  Pid a1 = spawn_on(*single, fn_server(chain_link(b1)));
  Pid a2 = spawn_on(*single, fn_server(chain_link(b2)));
  std::atomic<int> ok{0};
  auto caller = [&](Pid top) {
    for (int i = 0; i < 10; ++i)
      if (single->call(top, i, kWait).ok()) ok.fetch_add(1);
  };
  std::thread t1(caller, a1), t2(caller, a2), t3(caller, a1);
  t1.join();
  t2.join();
  t3.join();
  EXPECT_EQ(ok.load(), 30);
}

TEST_F(SchedulingTest, more_blocked_handlers_than_threads) {
  // Four handlers on a one-thread node block in calls to a server that only
  // answers once all four are waiting: needs a stand-in thread per blocked one.
  auto single = make_node(1, "single_thread_many_blocked");
  constexpr int kClients = 4;
  auto froms = std::make_shared<std::vector<From>>();  // touched only by the server process
  Handlers server;
  server.call = [froms](GenServer& self, const Term&, const From& from) -> CallReply {
    froms->push_back(from);
    if (froms->size() == std::size_t(kClients))
      for (auto& f : *froms) self.reply(f, "all here");
    return CallReply::noreply();
  };
  Pid srv = spawn_on(*single, fn_server(server));
  auto results = std::make_shared<Recorder<CallOutcome>>();
  Handlers client;
  client.cast = [srv, results](GenServer& self, const Term&) { results->push(self.node().call(srv, "join", kWait)); };
  for (int i = 0; i < kClients; ++i) single->cast(spawn_on(*single, fn_server(client)), "go");
  ASSERT_TRUE(results->wait_until_count(kClients, 2 * kWait));
  for (auto& o : results->snapshot()) {
    EXPECT_TRUE(o.ok()) << testing::PrintToString(o);
    EXPECT_EQ(o.value, Term("all here"));
  }
}

// ---- coroutines --------------------------------------------------------------

struct CoState {
  bool in_coroutine = false;     // touched only by the worker process
  std::shared_ptr<Recorder<Term>> log = std::make_shared<Recorder<Term>>();
};

Task call_many(GenServer& self, Pid peer, int n, std::shared_ptr<CoState> st) {
  st->in_coroutine = true;
  std::int64_t sum = 0;
  for (int i = 0; i < n; ++i) {
    CallOutcome o = co_await self.call(peer, i, kWait);
    if (!o.ok()) {
      st->in_coroutine = false;
      st->log->push(Term::tuple({"failed", i, to_string(o.status)}));
      co_return;
    }
    sum += o.value.as_int();
  }
  st->in_coroutine = false;
  st->log->push(Term::tuple({"done", sum}));
}

TEST_F(SchedulingTest, coroutine_awaits_many_calls_and_defers_ordinary_messages) {
  auto first_call = std::make_shared<Event>();
  auto release = std::make_shared<Event>();
  Handlers peer;
  peer.call = [first_call, release](GenServer&, const Term& req, const From&) -> CallReply {
    if (req.as_int() == 0) {
      first_call->set();
      EXPECT_TRUE(release->wait());  // keep the worker suspended while the test sends
    }
    return Term(req.as_int() * 2);
  };
  Pid peer_pid = spawn(fn_server(peer));

  auto st = std::make_shared<CoState>();
  constexpr int kCalls = 50;
  Handlers worker;
  worker.cast = [st, peer_pid](GenServer& self, const Term& req) {
    if (req.is("run")) call_many(self, peer_pid, kCalls, st);
    else st->log->push(Term::tuple({"cast", st->in_coroutine}));
  };
  worker.info = [st](GenServer&, const Info&) { st->log->push(Term::tuple({"info", st->in_coroutine})); };
  worker.call = [st](GenServer&, const Term&, const From&) -> CallReply {
    st->log->push(Term::tuple({"call", st->in_coroutine}));
    return Term("answered");
  };
  Pid w = spawn(fn_server(worker));

  node_->cast(w, "run");
  ASSERT_TRUE(first_call->wait());
  // The worker is now suspended in co_await: these must wait for the coroutine.
  node_->cast(w, "ordinary");
  node_->send(w, "plain");
  auto call_outcome = std::make_shared<Slot<CallOutcome>>();
  node_->call_async(w, "q", kWait, [call_outcome](CallOutcome o) { call_outcome->set(std::move(o)); });
  release->set();

  ASSERT_TRUE(st->log->wait_until_count(4));
  auto log = st->log->snapshot();
  std::int64_t expected_sum = 2 * (kCalls - 1) * kCalls / 2;
  EXPECT_EQ(log, (std::vector<Term>{Term::tuple({"done", expected_sum}), Term::tuple({"cast", false}),
                                    Term::tuple({"info", false}), Term::tuple({"call", false})}));
  auto o = call_outcome->wait();
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->value, Term("answered"));
}

TEST_F(SchedulingTest, coroutine_suspension_frees_the_only_thread) {
  // On a one-thread node the awaited reply comes from another process, which
  // can only run if the suspended worker gave the thread back.
  auto single = make_node(1, "single_thread_coroutine");
  auto handoff = std::make_shared<Slot<From>>();
  Handlers holder;
  holder.call = [handoff](GenServer&, const Term&, const From& from) -> CallReply {
    handoff->set(from);
    return CallReply::noreply();
  };
  Pid hold = spawn_on(*single, fn_server(holder));
  Handlers replier;
  replier.cast = [handoff](GenServer& self, const Term&) {
    if (auto f = handoff->peek()) self.reply(*f, 21);
  };
  Pid rep = spawn_on(*single, fn_server(replier));
  auto st = std::make_shared<CoState>();
  Handlers worker;
  worker.cast = [st, hold](GenServer& self, const Term&) { call_many(self, hold, 1, st); };
  Pid w = spawn_on(*single, fn_server(worker));
  single->cast(w, "run");
  ASSERT_TRUE(handoff->wait().has_value());
  single->cast(rep, "reply now");
  ASSERT_TRUE(st->log->wait_until_count(1));
  EXPECT_EQ(st->log->snapshot()[0], Term::tuple({"done", 21}));
}

TEST_F(SchedulingTest, coroutine_sees_call_failures_as_outcomes) {
  Pid dead = spawn(fn_server({}));
  ASSERT_TRUE(node_->stop_process(dead, ExitReason::normal(), kWait).ok());
  auto st = std::make_shared<CoState>();
  Handlers worker;
  worker.cast = [st, dead](GenServer& self, const Term&) { call_many(self, dead, 3, st); };
  Pid w = spawn(fn_server(worker));
  node_->cast(w, "run");
  ASSERT_TRUE(st->log->wait_until_count(1));
  EXPECT_EQ(st->log->snapshot()[0], Term::tuple({"failed", 0, to_string(Errc::no_process)}));
  EXPECT_TRUE(node_->alive(w));
}

Task call_then_throw(GenServer& self, Pid peer) {
  co_await self.call(peer, "x", kWait);
  throw std::runtime_error("after co_await");
}

TEST_F(SchedulingTest, exception_escaping_a_coroutine_crashes_the_process) {
  Pid echo = spawn(fn_server({}));
  Handlers worker;
  worker.cast = [echo](GenServer& self, const Term&) { call_then_throw(self, echo); };
  Pid w = spawn(fn_server(worker));
  ExitWatch watch(*node_, w);
  node_->cast(w, "run");
  auto r = watch.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, ExitReason::error("std::runtime_error", "after co_await"));
}

TEST_F(SchedulingTest, killed_while_suspended_in_co_await) {
  // The process dies while its coroutine waits; the frame must be released
  // (ASan's leak check) and the late reply must go nowhere.
  auto handoff = std::make_shared<Slot<From>>();
  Handlers holder;
  holder.call = [handoff](GenServer&, const Term&, const From& from) -> CallReply {
    handoff->set(from);
    return CallReply::noreply();
  };
  Pid hold = spawn(fn_server(holder));
  auto st = std::make_shared<CoState>();
  Handlers worker;
  worker.cast = [st, hold](GenServer& self, const Term&) { call_many(self, hold, 1, st); };
  Pid w = spawn(fn_server(worker));
  node_->cast(w, "run");
  auto from = handoff->wait();
  ASSERT_TRUE(from.has_value());
  ExitWatch watch(*node_, w);
  node_->kill(w);
  auto r = watch.wait();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, ExitReason::killed());
  EXPECT_EQ(node_->open_calls(), 0u);  // its open call went with it
  node_->reply(*from, 1);                  // nobody waits for it any more
  EXPECT_EQ(st->log->size(), 0u);  // the coroutine never resumed
}

}  // namespace
}  // namespace noexpp::test
