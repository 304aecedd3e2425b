// Timers: send_after fires once, cancel_timer prevents it, and a dead
// process's timer never reaches anyone (pids are never reused).
#include <algorithm>
#include <set>

#include "test_support.hpp"

namespace noexpp::test {
namespace {

/// Records every plain message it gets; on call ("after", ms, msg) arms a
/// timer from inside, on ("after_cancel", ms, msg) arms and cancels one.
Handlers timer_server(std::shared_ptr<Recorder<Term>> got) {
  Handlers h;
  h.info = [got](GenServer&, const Info& i) { got->push(i.message); };
  h.call = [](GenServer& self, const Term& req, const From&) -> CallReply {
    const auto& it = req.as_tuple().items;
    auto delay = std::chrono::milliseconds(it.at(1).as_int());
    auto t = self.send_after(delay, it.at(2));
    if (it.at(0).is("after")) return Term(static_cast<std::int64_t>(t.id));
    bool first = self.cancel_timer(t);
    bool second = self.cancel_timer(t);
    return Term::tuple({first, second});
  };
  return h;
}

bool contains(const std::vector<Term>& v, const Term& t) { return std::find(v.begin(), v.end(), t) != v.end(); }

class TimerTest : public NodeTest {};

TEST_F(TimerTest, send_after_fires_once) {
  auto got = std::make_shared<Recorder<Term>>();
  Pid p = spawn(fn_server(timer_server(got)));
  ASSERT_TRUE(node_->call(p, Term::tuple({"after", 20, "tick"}), kWait).ok());
  ASSERT_TRUE(node_->call(p, Term::tuple({"after", 300, "marker"}), kWait).ok());
  ASSERT_TRUE(got->wait_until([](auto& v) { return contains(v, Term("marker")); }));
  EXPECT_EQ(got->snapshot(), (std::vector<Term>{"tick", "marker"}));
}

TEST_F(TimerTest, node_send_after_from_outside) {
  auto got = std::make_shared<Recorder<Term>>();
  Pid p = spawn(fn_server(timer_server(got)));
  auto t = node_->send_after(p, 10ms, Term::tuple({"hello", 1}));
  EXPECT_NE(t.id, 0u);
  ASSERT_TRUE(got->wait_until_count(1));
  EXPECT_EQ(got->snapshot()[0], Term::tuple({"hello", 1}));
  EXPECT_FALSE(node_->cancel_timer(t));  // already fired
}

TEST_F(TimerTest, cancel_timer_prevents_delivery) {
  auto got = std::make_shared<Recorder<Term>>();
  Pid p = spawn(fn_server(timer_server(got)));
  auto o = node_->call(p, Term::tuple({"after_cancel", 50, "tick"}), kWait);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.value, Term::tuple({true, false}));  // cancelled once; the second cancel finds nothing
  auto outside = node_->send_after(p, 50ms, "tick from outside");
  EXPECT_TRUE(node_->cancel_timer(outside));
  node_->send_after(p, 300ms, "marker");
  ASSERT_TRUE(got->wait_until_count(1));
  EXPECT_EQ(got->snapshot(), std::vector<Term>{"marker"});
}

TEST_F(TimerTest, zero_delay_timers_are_never_lost) {
  auto got = std::make_shared<Recorder<Term>>();
  Pid p = spawn(fn_server(timer_server(got)));
  constexpr int kTimers = 2000;
  for (int i = 0; i < kTimers; ++i) node_->send_after(p, 0ms, i);
  for (int i = 0; i < kTimers; ++i) ASSERT_TRUE(node_->call(p, Term::tuple({"after", 0, kTimers + i}), kWait).ok());
  ASSERT_TRUE(got->wait_until_count(2 * kTimers)) << "only " << got->size() << " of " << 2 * kTimers << " arrived";
  std::set<std::int64_t> seen;
  for (auto& t : got->snapshot()) seen.insert(t.as_int());
  EXPECT_EQ(seen.size(), std::size_t(2 * kTimers));  // each exactly once
}

TEST_F(TimerTest, many_timers_each_fire_exactly_once) {
  auto got = std::make_shared<Recorder<Term>>();
  Pid p = spawn(fn_server(timer_server(got)));
  constexpr int kTimers = 300;
  std::vector<TimerRef> refs;
  for (int i = 0; i < kTimers; ++i) refs.push_back(node_->send_after(p, std::chrono::milliseconds(i % 25), i));
  std::set<std::uint64_t> ids;
  for (auto& r : refs) ids.insert(r.id);
  EXPECT_EQ(ids.size(), std::size_t(kTimers));  // distinct handles
  node_->send_after(p, 400ms, "marker");
  ASSERT_TRUE(got->wait_until_count(kTimers + 1)) << "only " << got->size() << " of " << kTimers + 1 << " arrived";
  auto v = got->snapshot();
  EXPECT_EQ(v.back(), Term("marker"));
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i + 1 < v.size(); ++i) seen.insert(v[i].as_int());
  EXPECT_EQ(seen.size(), std::size_t(kTimers));
  EXPECT_EQ(v.size(), std::size_t(kTimers + 1));
}

TEST_F(TimerTest, dead_process_timer_never_fires_into_its_successor) {
  SpawnOptions o;
  o.name = "svc";
  auto old_got = std::make_shared<Recorder<Term>>();
  Pid old_pid = spawn(fn_server(timer_server(old_got)), {}, o);
  ASSERT_TRUE(node_->call(old_pid, Term::tuple({"after", 150, "tick"}), kWait).ok());
  node_->send_after(old_pid, 150ms, "tick from outside");
  kill_and_wait(old_pid);

  // The successor takes the name (as a restarted child would).
  auto new_got = std::make_shared<Recorder<Term>>();
  Pid new_pid = spawn(fn_server(timer_server(new_got)), {}, o);
  EXPECT_NE(new_pid, old_pid);
  EXPECT_GT(new_pid.serial, old_pid.serial);
  ASSERT_TRUE(node_->call(new_pid, Term::tuple({"after", 400, "marker"}), kWait).ok());
  ASSERT_TRUE(new_got->wait_until_count(1));
  EXPECT_EQ(new_got->snapshot(), std::vector<Term>{"marker"});
  EXPECT_EQ(old_got->size(), 0u);
}

TEST_F(TimerTest, pids_are_never_reused) {
  std::set<Pid> pids;
  Pid last;
  for (int i = 0; i < 200; ++i) {
    Pid p = spawn(fn_server({}));
    EXPECT_TRUE(pids.insert(p).second) << p.to_string() << " handed out twice";
    if (!last.is_nil()) {
      EXPECT_GT(p.serial, last.serial);
    }
    EXPECT_TRUE(p.same_node(node_->node_pid()));
    EXPECT_FALSE(p.is_node_itself());
    if (i % 2) {
      kill_and_wait(p);
    } else {
      ASSERT_TRUE(node_->stop_process(p, ExitReason::normal(), kWait).ok());
    }
    last = p;
  }
  for (auto& p : pids) EXPECT_EQ(node_->call(p, "ping", kWait).status, Errc::no_process);
}

}  // namespace
}  // namespace noexpp::test
