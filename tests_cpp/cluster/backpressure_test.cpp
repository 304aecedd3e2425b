// Backpressure between nodes (DESIGN §6): a mailbox that holds its limit of
// messages from other nodes makes their senders wait, a send queue at its
// bound does the same, and a sender that waited too long gets a typed error
// (mailbox_full / overloaded). Nothing reported as sent is lost; other
// processes and the engine's own frames are not held back.
#include <atomic>
#include <optional>
#include <thread>

#include "cluster_test_support.hpp"

namespace noexpp::test {
namespace {

using Clock = std::chrono::steady_clock;

class BackpressureTest : public ClusterTest {
 protected:
  struct Pair {
    std::shared_ptr<Node> a, b;
  };
  Pair connected_pair(cluster::ClusterOptions o) {
    auto a = make_cluster_node("alpha", {}, o);
    auto b = make_cluster_node("beta", {a->id()}, o);
    EXPECT_TRUE(wait_members_up(*a, {b->id()}));
    EXPECT_TRUE(wait_members_up(*b, {a->id()}));
    return {a, b};
  }
  static cluster::ClusterOptions options(std::size_t mailbox_limit, std::chrono::milliseconds overload_timeout) {
    auto o = fast_options();
    o.remote_mailbox_limit = mailbox_limit;
    o.overload_timeout = overload_timeout;
    return o;
  }
  /// A process on `n` that counts its casts; the first waits for `gate`.
  Pid gated_counter(Node& n, std::shared_ptr<Event> gate, std::shared_ptr<std::atomic<std::int64_t>> count) {
    Handlers h;
    h.cast = [gate, count](GenServer&, const Term&) {
      if (count->fetch_add(1) == 0) gate->wait();
    };
    return spawn_on(n, fn_server(h));
  }
  /// Casts from `from` (outside any process) until one fails; the number
  /// that succeeded, and the error. Bounded so a missing bound fails.
  static std::pair<std::int64_t, std::error_code> cast_until_refused(Node& from, Pid to, const Term& payload,
                                                                     std::int64_t most = 2'000'000) {
    for (std::int64_t i = 0; i < most; ++i) {
      auto sent = from.send_message(to, payload, /*as_cast=*/true);
      if (!sent) return {i, sent.error().code};
      EXPECT_TRUE(sent.value());
    }
    return {most, {}};
  }
};

bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout = kWait) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling a counter; bounded above
  }
  return true;
}

TEST_F(BackpressureTest, a_cast_flood_to_a_stuck_remote_process_ends_in_mailbox_full_and_loses_nothing) {
  auto [a, b] = connected_pair(options(50, std::chrono::milliseconds(300)));
  auto gate = std::make_shared<Event>();
  auto count = std::make_shared<std::atomic<std::int64_t>>(0);
  Pid stuck = gated_counter(*b, gate, count);

  auto [sent, error] = cast_until_refused(*a, stuck, Term("work"));
  EXPECT_EQ(error, make_error_code(Errc::mailbox_full));
  EXPECT_GT(sent, 50);

  gate->set();
  // Every cast reported as sent is handled; the refused one is not.
  EXPECT_TRUE(wait_for([&] { return count->load() >= sent; })) << count->load() << " of " << sent;
  EXPECT_TRUE(a->call(stuck, "sync", kWait).ok());
  EXPECT_EQ(count->load(), sent);
  // The mailbox has room again: casts go through.
  auto again = a->send_message(stuck, "more", true);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_TRUE(wait_for([&] { return count->load() == sent + 1; }));
}

TEST_F(BackpressureTest, a_full_mailbox_holds_back_only_casts_to_that_process) {
  auto [a, b] = connected_pair(options(50, std::chrono::milliseconds(300)));
  auto gate = std::make_shared<Event>();
  auto count = std::make_shared<std::atomic<std::int64_t>>(0);
  Pid stuck = gated_counter(*b, gate, count);
  auto other_seen = std::make_shared<Recorder<Term>>();
  Handlers h;
  h.cast = [other_seen](GenServer&, const Term& t) { other_seen->push(t); };
  Pid other = spawn_on(*b, fn_server(h));

  auto [sent, error] = cast_until_refused(*a, stuck, Term("work"));
  ASSERT_EQ(error, make_error_code(Errc::mailbox_full));
  // Another process of the same node, over the same connection: not held.
  const auto before = Clock::now();
  auto r = a->send_message(other, "hello", true);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_LT(Clock::now() - before, std::chrono::milliseconds(300));
  ASSERT_TRUE(other_seen->wait_until_count(1));
  EXPECT_EQ(other_seen->snapshot().at(0), Term("hello"));
  // Calls are never held back (each has a waiting caller): one to the other
  // process answers while the stuck one's mailbox is full.
  EXPECT_TRUE(a->call(other, "ping", kWait).ok());
  gate->set();
  EXPECT_TRUE(wait_for([&] { return count->load() >= sent; }));
}

TEST_F(BackpressureTest, a_slow_remote_receiver_makes_the_sender_wait_and_every_cast_arrives_in_order) {
  auto [a, b] = connected_pair(options(100, std::chrono::milliseconds(30'000)));
  constexpr std::int64_t kCasts = 5000;
  auto next = std::make_shared<std::atomic<std::int64_t>>(0);
  auto out_of_order = std::make_shared<std::atomic<bool>>(false);
  Handlers h;
  h.cast = [next, out_of_order](GenServer&, const Term& t) {
    if (!t.is_int() || t.as_int() != next->load()) out_of_order->store(true);
    next->fetch_add(1);
    if (t.is_int() && t.as_int() % 10 == 0) std::this_thread::sleep_for(std::chrono::microseconds(500));
  };
  Pid slow = spawn_on(*b, fn_server(h));
  for (std::int64_t i = 0; i < kCasts; ++i) {
    auto sent = a->send_message(slow, Term(i), true);
    ASSERT_TRUE(sent.ok()) << "cast " << i << ": " << sent.error().to_string();
  }
  EXPECT_TRUE(wait_for([&] { return next->load() == kCasts; })) << next->load();
  EXPECT_FALSE(out_of_order->load());
}

TEST_F(BackpressureTest, a_sender_waiting_on_a_full_mailbox_goes_on_when_that_process_is_killed) {
  auto [a, b] = connected_pair(options(50, std::chrono::milliseconds(30'000)));
  auto gate = std::make_shared<Event>();
  auto count = std::make_shared<std::atomic<std::int64_t>>(0);
  Pid stuck = gated_counter(*b, gate, count);
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> returned{0};
  std::atomic<std::int64_t> send_started_us{0};  // of the send under way, 0 between sends
  std::optional<Error> failed;
  auto now_us = [] {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
  };
  std::thread sender([&] {
    while (!stop.load()) {
      send_started_us = now_us();
      auto r = a->send_message(stuck, "work", true);
      send_started_us = 0;
      ++returned;
      if (!r) {
        failed = r.error();
        break;
      }
    }
  });
  // The sender is held back: one cast has been under way for 200 ms (a cast
  // that is not held takes microseconds).
  EXPECT_TRUE(wait_for([&] {
    const auto started = send_started_us.load();
    return started != 0 && now_us() - started > 200'000;
  })) << returned.load() << " casts returned";
  const auto killed_at = Clock::now();
  ASSERT_TRUE(b->kill(stuck));
  stop = true;
  sender.join();
  // Let go well before the 30 s overload timeout, and before the stuck
  // handler returns (its gate times out after 10 s), without an error.
  EXPECT_LT(Clock::now() - killed_at, std::chrono::seconds(8));
  EXPECT_FALSE(failed.has_value()) << failed->to_string();
  gate->set();
}

TEST_F(BackpressureTest, a_send_queue_that_stays_full_ends_in_overloaded_and_loses_nothing) {
  auto o = options(1'000'000, std::chrono::milliseconds(300));
  o.max_send_queue_bytes = 256 * 1024;
  o.acceptable_pause = std::chrono::milliseconds(60'000);  // beta's network thread stalls on purpose
  auto [a, b] = connected_pair(o);
  auto count = std::make_shared<std::atomic<std::int64_t>>(0);
  Handlers h;
  h.cast = [count](GenServer&, const Term&) { count->fetch_add(1); };
  Pid target = spawn_on(*b, fn_server(h));
  // Stall beta's network thread: it reads nothing until the gate opens, so
  // the socket buffers fill and then alpha's send queue.
  auto gate = std::make_shared<Event>();
  auto stalled = std::make_shared<Event>();
  cluster::cluster_of(*b)->add_message_handler("test.stall", [gate, stalled](const std::string&, const Term&) {
    stalled->set();
    gate->wait();
  });
  ASSERT_TRUE(cluster::cluster_of(*a)->send_node_message(b->id(), "test.stall", Term()).ok());
  ASSERT_TRUE(stalled->wait());

  const Term payload(Binary{std::vector<std::uint8_t>(64 * 1024, 7)});
  auto [sent, error] = cast_until_refused(*a, target, payload, 100'000);
  EXPECT_EQ(error, make_error_code(Errc::overloaded));
  // The engine's own frames still leave: a node message is not held back.
  EXPECT_TRUE(cluster::cluster_of(*a)->send_node_message(b->id(), "test.none", Term()).ok());

  gate->set();
  EXPECT_TRUE(wait_for([&] { return count->load() >= sent; })) << count->load() << " of " << sent;
  EXPECT_TRUE(a->call(target, "sync", kWait).ok());
  EXPECT_EQ(count->load(), sent);
  auto again = a->send_message(target, payload, true);
  EXPECT_TRUE(again.ok()) << again.error().to_string();
}

}  // namespace
}  // namespace noexpp::test
