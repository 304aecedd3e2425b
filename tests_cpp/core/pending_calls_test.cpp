// PendingCalls: whoever takes an entry owns its completion, exactly once;
// deadlines fail open calls with timeout.
#include <set>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include "core/internal/pending_calls.hpp"
#include "test_support.hpp"

namespace noexpp::test {
namespace {

/// A completion-function waiter (as for a thread outside the engine).
CallWaiterRef to(std::function<void(CallOutcome)> f) { return CallWaiterRef{nullptr, std::move(f)}; }

class PendingCallsTest : public ::testing::Test {
 protected:
  /// Runs the io_context (the sweeper's timer) on a thread of its own.
  void run_io() {
    io_thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    guard_.reset();
    io_.stop();
    if (io_thread_.joinable()) io_thread_.join();
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  std::thread io_thread_;
  PendingCalls pc_{io_};
};

TEST_F(PendingCallsTest, complete_runs_the_completion_once) {
  auto got = std::make_shared<Recorder<CallOutcome>>();
  auto ref = pc_.reserve_ref();
  EXPECT_FALSE(pc_.contains(ref));
  pc_.add(ref, to([got](CallOutcome o) { got->push(std::move(o)); }));
  EXPECT_TRUE(pc_.contains(ref));
  EXPECT_EQ(pc_.size(), 1u);
  EXPECT_TRUE(pc_.complete(ref, CallOutcome::reply("pong")));
  EXPECT_FALSE(pc_.complete(ref, CallOutcome::reply("late")));  // a late reply is dropped
  EXPECT_FALSE(pc_.cancel(ref));
  EXPECT_FALSE(pc_.contains(ref));
  EXPECT_EQ(pc_.size(), 0u);
  auto v = got->snapshot();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].value, Term("pong"));
}

TEST_F(PendingCallsTest, refs_are_fresh) {
  std::set<std::uint64_t> refs;
  for (int i = 0; i < 100; ++i) {
    auto r = pc_.reserve_ref();
    pc_.add(r, to([](CallOutcome) {}));
    refs.insert(r);
  }
  EXPECT_EQ(refs.size(), 100u);
  EXPECT_EQ(refs.count(0), 0u);  // 0 means "no reference"
  EXPECT_EQ(pc_.size(), 100u);
  for (auto r : refs) EXPECT_TRUE(pc_.cancel(r));
  EXPECT_EQ(pc_.size(), 0u);
}

TEST_F(PendingCallsTest, cancel_drops_the_completion_without_running_it) {
  auto ran = std::make_shared<std::atomic<bool>>(false);
  auto ref = pc_.reserve_ref();
  pc_.add(ref, to([ran](CallOutcome) { ran->store(true); }));
  EXPECT_TRUE(pc_.cancel(ref));
  EXPECT_FALSE(pc_.complete(ref, CallOutcome::reply(1)));
  EXPECT_FALSE(ran->load());
}

TEST_F(PendingCallsTest, unknown_ref_completes_nothing) {
  EXPECT_FALSE(pc_.complete(12345, CallOutcome::reply(1)));
  EXPECT_FALSE(pc_.cancel(12345));
}

TEST_F(PendingCallsTest, fail_all_fails_every_open_call) {
  auto got = std::make_shared<Recorder<Errc>>();
  for (int i = 0; i < 40; ++i)
    pc_.add(pc_.reserve_ref(), to([got](CallOutcome o) { got->push(o.status); }),
            std::chrono::steady_clock::now() + 1h);
  auto done = pc_.reserve_ref();
  pc_.add(done, to([got](CallOutcome o) { got->push(o.status); }));
  ASSERT_TRUE(pc_.complete(done, CallOutcome::reply(1)));
  pc_.fail_all(Errc::node_stopped);
  EXPECT_EQ(pc_.size(), 0u);
  auto v = got->snapshot();
  ASSERT_EQ(v.size(), 41u);
  EXPECT_EQ(v[0], Errc::ok);
  for (std::size_t i = 1; i < v.size(); ++i) EXPECT_EQ(v[i], Errc::node_stopped);
}

TEST_F(PendingCallsTest, deadline_fails_the_call_with_timeout) {
  run_io();
  auto got = std::make_shared<Recorder<Errc>>();
  auto start = std::chrono::steady_clock::now();
  auto ref = pc_.reserve_ref();
  pc_.add(ref, to([got](CallOutcome o) { got->push(o.status); }), start + 30ms);
  // One without a deadline and one far away stay open.
  auto open = pc_.reserve_ref();
  pc_.add(open, to([got](CallOutcome o) { got->push(o.status); }));
  auto far = pc_.reserve_ref();
  pc_.add(far, to([got](CallOutcome o) { got->push(o.status); }), start + 1h);
  ASSERT_TRUE(got->wait_until_count(1));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);  // never early
  EXPECT_EQ(got->snapshot()[0], Errc::call_timeout);
  EXPECT_FALSE(pc_.contains(ref));
  EXPECT_TRUE(pc_.contains(open));
  EXPECT_TRUE(pc_.contains(far));
  EXPECT_TRUE(pc_.complete(open, CallOutcome::reply(1)));
  EXPECT_TRUE(pc_.cancel(far));
}

TEST_F(PendingCallsTest, many_deadlines_each_time_out_once) {
  run_io();
  constexpr int kCalls = 500;
  auto got = std::make_shared<Recorder<std::uint64_t>>();
  auto now = std::chrono::steady_clock::now();
  std::set<std::uint64_t> refs;
  for (int i = 0; i < kCalls; ++i) {
    auto ref = pc_.reserve_ref();
    refs.insert(ref);
    // Spread over several ticks, some already past.
    pc_.add(ref, to([got, ref](CallOutcome o) {
              if (o.status == Errc::call_timeout) got->push(ref);
            }),
            now + std::chrono::milliseconds(i % 60) - 5ms);
  }
  ASSERT_TRUE(got->wait_until_count(kCalls)) << got->size() << " of " << kCalls;
  auto v = got->snapshot();
  EXPECT_EQ(std::set<std::uint64_t>(v.begin(), v.end()), refs);
  EXPECT_EQ(v.size(), std::size_t(kCalls));
  EXPECT_EQ(pc_.size(), 0u);
}

TEST_F(PendingCallsTest, racing_reply_timeout_and_death_complete_exactly_once) {
  run_io();
  constexpr int kCalls = 2000;
  auto runs = std::make_shared<std::vector<std::atomic<int>>>(kCalls);
  std::vector<std::uint64_t> refs;
  auto deadline = std::chrono::steady_clock::now() + 20ms;  // the sweeper races too
  for (int i = 0; i < kCalls; ++i) {
    refs.push_back(pc_.reserve_ref());
    pc_.add(refs.back(), to([runs, i](CallOutcome) { (*runs)[i].fetch_add(1); }), deadline);
  }
  std::atomic<int> completed{0}, cancelled{0};
  auto racer = [&](Errc s) {
    for (auto r : refs)
      if (pc_.complete(r, CallOutcome::failed(s))) completed.fetch_add(1);
  };
  std::thread a(racer, Errc::ok);
  std::thread b(racer, Errc::process_crashed);
  std::thread c([&] {
    for (auto r : refs)
      if (pc_.cancel(r)) cancelled.fetch_add(1);
  });
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(pc_.size(), 0u);  // every call went to exactly one of them...
  TearDown();                 // ...or to the sweeper, which is now finished too
  int ran = 0;
  for (int i = 0; i < kCalls; ++i) {
    int n = (*runs)[i].load();
    EXPECT_LE(n, 1) << i;
    ran += n;
  }
  // Completed and timed-out calls ran their completion, cancelled ones did not.
  EXPECT_EQ(ran + cancelled.load(), kCalls);
  EXPECT_GE(ran, completed.load());
}

TEST(CallWaiter, wait_until_times_out_then_sees_the_outcome) {
  auto w = std::make_shared<CallWaiter>();
  auto done = w->completion();
  EXPECT_FALSE(w->wait_until(std::chrono::steady_clock::now() + 1ms));
  std::thread t([done] { done(CallOutcome::reply("x")); });
  EXPECT_TRUE(w->wait_until(std::chrono::steady_clock::now() + kWait));
  t.join();
  EXPECT_EQ(w->take().value, Term("x"));
}

}  // namespace
}  // namespace noexpp::test
