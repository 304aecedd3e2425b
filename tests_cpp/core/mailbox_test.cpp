// Mailbox: the two lanes, the scheduling state and closing, single-threaded
// and under concurrent producers (no lost wakeup, never two runs at once).
// Leaked envelopes show up under ASan.
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/mailbox.hpp"
#include "test_support.hpp"

namespace noexpp::test {
namespace {

Envelope* envelope(Envelope::Kind kind, Term t = {}) { return new Envelope(kind, Pid{}, 0, std::move(t)); }

/// Pops what the owner may take now (priority lane first, then, if
/// `take_normal`, the normal lane) and returns the terms, freeing the envelopes.
std::vector<Term> drain(Mailbox& mb, bool take_normal = true) {
  std::vector<Term> out;
  for (;;) {
    Envelope* e = mb.pop_priority();
    if (!e && take_normal) e = mb.pop_normal();
    if (!e) return out;
    out.push_back(e->term);
    delete e;
  }
}

TEST(Envelope, priority_kinds) {
  EXPECT_TRUE(Envelope(Envelope::Kind::exit_signal).is_priority());
  EXPECT_TRUE(Envelope(Envelope::Kind::call_done).is_priority());
  for (auto k : {Envelope::Kind::call, Envelope::Kind::cast, Envelope::Kind::info, Envelope::Kind::down,
                 Envelope::Kind::stop})
    EXPECT_FALSE(Envelope(k).is_priority()) << static_cast<int>(k);
}

TEST(MpscLane, fifo_for_one_producer) {
  MpscLane lane;
  EXPECT_EQ(lane.pop(), nullptr);
  EXPECT_FALSE(lane.is_pending());
  std::vector<Envelope*> es;
  for (int i = 0; i < 5; ++i) {
    es.push_back(envelope(Envelope::Kind::cast, i));
    lane.push(es.back());
  }
  EXPECT_TRUE(lane.is_pending());
  for (int i = 0; i < 5; ++i) {
    auto* n = lane.pop();
    ASSERT_EQ(n, es[i]);
    delete static_cast<Envelope*>(n);
  }
  EXPECT_EQ(lane.pop(), nullptr);
  EXPECT_FALSE(lane.is_pending());
  // Usable again after running empty.
  lane.push(envelope(Envelope::Kind::cast, 9));
  auto* n = lane.pop();
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(static_cast<Envelope*>(n)->term, Term(9));
  delete static_cast<Envelope*>(n);
}

TEST(MpscLane, concurrent_producers_keep_per_producer_order) {
  MpscLane lane;
  constexpr int kProducers = 4, kPerProducer = 20000;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p)
    producers.emplace_back([&lane, p] {
      for (int i = 0; i < kPerProducer; ++i) lane.push(envelope(Envelope::Kind::cast, p * kPerProducer + i));
    });
  std::vector<std::int64_t> last(kProducers, -1);
  int got = 0;
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (got < kProducers * kPerProducer && std::chrono::steady_clock::now() < deadline) {
    auto* n = lane.pop();
    if (!n) {
      std::this_thread::yield();  // the consumer polls here; the test has no engine to wake it
      continue;
    }
    auto v = static_cast<Envelope*>(n)->term.as_int();
    delete static_cast<Envelope*>(n);
    auto producer = v / kPerProducer;
    EXPECT_GT(v, last[producer]);
    last[producer] = v;
    ++got;
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(got, kProducers * kPerProducer);
  EXPECT_EQ(lane.pop(), nullptr);
}

TEST(Mailbox, new_mailbox_belongs_to_the_spawner_until_released) {
  Mailbox mb;
  // Messages sent while init runs queue up without scheduling a run.
  EXPECT_EQ(mb.push(envelope(Envelope::Kind::cast, 1)), Mailbox::Push::queued);
  EXPECT_EQ(drain(mb), std::vector<Term>{1});
  EXPECT_FALSE(mb.go_idle(true));  // nothing left: the process is handed over
  EXPECT_EQ(mb.push(envelope(Envelope::Kind::cast, 2)), Mailbox::Push::queued_and_schedule);
  EXPECT_EQ(mb.push(envelope(Envelope::Kind::cast, 3)), Mailbox::Push::queued);
  EXPECT_EQ(drain(mb), (std::vector<Term>{2, 3}));
}

TEST(Mailbox, priority_lane_goes_first) {
  Mailbox mb;
  mb.push(envelope(Envelope::Kind::cast, 1));
  mb.push(envelope(Envelope::Kind::info, 2));
  mb.push(envelope(Envelope::Kind::exit_signal, 3));
  mb.push(envelope(Envelope::Kind::call_done, 4));
  EXPECT_EQ(drain(mb), (std::vector<Term>{3, 4, 1, 2}));
}

TEST(Mailbox, pop_without_normal_leaves_ordinary_messages_queued) {
  Mailbox mb;
  mb.push(envelope(Envelope::Kind::cast, 1));
  mb.push(envelope(Envelope::Kind::call_done, 2));
  EXPECT_EQ(drain(mb, false), std::vector<Term>{2});  // a process awaiting a call takes only these
  // Only ordinary messages wait and they are not wanted: the owner lets go.
  EXPECT_FALSE(mb.go_idle(false));
  // An awaited reply schedules the process again.
  EXPECT_EQ(mb.push(envelope(Envelope::Kind::call_done, 3)), Mailbox::Push::queued_and_schedule);
  EXPECT_EQ(drain(mb, false), std::vector<Term>{3});
  EXPECT_EQ(drain(mb, true), std::vector<Term>{1});
}

TEST(Mailbox, await_briefly_sees_a_waiting_message) {
  Mailbox mb;
  EXPECT_FALSE(mb.await_briefly(true));
  mb.push(envelope(Envelope::Kind::cast, 1));
  EXPECT_FALSE(mb.await_briefly(false));  // an ordinary message does not count then
  EXPECT_TRUE(mb.await_briefly(true));
  EXPECT_EQ(drain(mb), std::vector<Term>{1});
}

TEST(Mailbox, go_idle_keeps_the_run_when_work_is_waiting) {
  Mailbox mb;
  mb.push(envelope(Envelope::Kind::cast, 1));
  EXPECT_TRUE(mb.go_idle(true));  // still owned: the owner must keep running
  EXPECT_EQ(mb.push(envelope(Envelope::Kind::cast, 2)), Mailbox::Push::queued);
  EXPECT_EQ(drain(mb), (std::vector<Term>{1, 2}));
  EXPECT_FALSE(mb.go_idle(true));
}

TEST(Mailbox, close_refuses_later_pushes_and_drains_what_was_queued) {
  Mailbox mb;
  mb.push(envelope(Envelope::Kind::call, 1));
  mb.push(envelope(Envelope::Kind::exit_signal, 2));
  EXPECT_FALSE(mb.closed());
  bool under_lock = false;
  mb.close([&] { under_lock = true; });
  EXPECT_TRUE(under_lock);
  EXPECT_TRUE(mb.closed());
  EXPECT_EQ(mb.push(envelope(Envelope::Kind::cast, 3)), Mailbox::Push::closed);  // owned (freed) by the mailbox
  std::vector<Term> drained;
  while (Envelope* e = mb.drain_one()) {
    drained.push_back(e->term);
    delete e;
  }
  EXPECT_EQ(drained, (std::vector<Term>{2, 1}));
  bool ran = false;
  EXPECT_FALSE(mb.if_open([&] { ran = true; }));
  EXPECT_FALSE(ran);
}

TEST(Mailbox, destructor_frees_what_is_left) {
  Mailbox mb;
  mb.push(envelope(Envelope::Kind::cast, 1));
  mb.push(envelope(Envelope::Kind::exit_signal, 2));
}

TEST(Mailbox, concurrent_producers_never_lose_a_wakeup_nor_double_schedule) {
  Mailbox mb;
  ASSERT_FALSE(mb.go_idle(true));  // handed to "the engine" (this test's consumer thread)
  constexpr int kProducers = 4, kPerProducer = 5000, kTotal = kProducers * kPerProducer;

  std::mutex mu;
  std::condition_variable cv;
  int wakeups = 0;                  // guarded by mu: runs "posted" and not yet started
  std::atomic<bool> running{false};
  std::atomic<int> double_schedules{0};

  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p)
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i)
        if (mb.push(envelope(Envelope::Kind::cast, p * kPerProducer + i)) == Mailbox::Push::queued_and_schedule) {
          if (running.load()) double_schedules.fetch_add(1);
          std::lock_guard lk(mu);
          if (++wakeups > 1) double_schedules.fetch_add(1);
          cv.notify_one();
        }
    });

  std::vector<std::int64_t> last(kProducers, -1);
  int consumed = 0;
  bool lost_wakeup = false;
  while (consumed < kTotal) {
    {
      std::unique_lock lk(mu);
      if (!cv.wait_for(lk, kWait, [&] { return wakeups > 0; })) {
        lost_wakeup = true;
        break;
      }
      --wakeups;
    }
    running.store(true);
    for (;;) {  // one run, as Process::run does it
      for (Term t : drain(mb)) {
        auto v = t.as_int();
        EXPECT_GT(v, last[v / kPerProducer]);
        last[v / kPerProducer] = v;
        ++consumed;
      }
      running.store(false);
      if (!mb.go_idle(true)) break;
      running.store(true);
    }
  }
  for (auto& t : producers) t.join();
  EXPECT_FALSE(lost_wakeup) << "messages were queued but no run was scheduled; consumed " << consumed;
  EXPECT_EQ(consumed, kTotal);
  EXPECT_EQ(double_schedules.load(), 0);
}

}  // namespace
}  // namespace noexpp::test
