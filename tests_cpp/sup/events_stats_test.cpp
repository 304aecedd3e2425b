// Lifecycle events: the exact sequence and fields a supervisor emits,
// delivery in emit order on an engine thread, and a slow subscriber that
// delays events but never the supervisor. Plus health as stats reports it.
#include "sup_test_support.hpp"

namespace noexpp::test {
namespace {

class Events : public SupTest {};

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TEST_F(Events, lifecycle_of_one_supervisor_in_order_with_fields) {
  const double before = wall_now();
  auto spec = spec_of(Strategy::one_for_one, {worker("a"), worker("b")});
  spec.name = "events_sup";
  auto s = start_sup(spec);
  Pid a1 = pid_of(s, "a");
  Pid b1 = pid_of(s, "b");
  crash_and_wait_restart(s, "a", 1);
  Pid a2 = pid_of(s, "a");
  ASSERT_TRUE(s.stop().ok());
  ASSERT_TRUE(wait_stopped(s.pid()));

  auto ev = events_of("", "", s.pid());
  Lines types;
  for (auto& e : ev) types.push_back(e.type);
  ASSERT_EQ(types, (Lines{"supervisor_started", "child_started", "child_started", "child_stopped", "child_restarted",
                          "child_stopped", "child_stopped", "supervisor_stopped"}));
  for (auto& e : ev) {
    EXPECT_EQ(str_field(e, "supervisor"), "events_sup") << e.type;
    EXPECT_EQ(field(e, "supervisor_pid"), Term(s.pid())) << e.type;
    EXPECT_GE(e.timestamp, before - 1) << e.type;
    EXPECT_LE(e.timestamp, wall_now() + 1) << e.type;
  }
  for (std::size_t i = 1; i < ev.size(); ++i) EXPECT_LE(ev[i - 1].monotonic, ev[i].monotonic) << i;

  EXPECT_EQ(str_field(ev[0], "strategy"), "one_for_one");
  EXPECT_EQ(str_field(ev[1], "child_id"), "a");
  EXPECT_EQ(field(ev[1], "pid"), Term(a1));
  EXPECT_EQ(str_field(ev[2], "child_id"), "b");
  EXPECT_EQ(field(ev[2], "pid"), Term(b1));
  // The crash: the old pid and why.
  EXPECT_EQ(str_field(ev[3], "child_id"), "a");
  EXPECT_EQ(field(ev[3], "pid"), Term(a1));
  EXPECT_EQ(str_field(ev[3], "reason"), "error std::runtime_error: boom");
  // The restart: the new pid, attempt and count.
  EXPECT_EQ(str_field(ev[4], "child_id"), "a");
  EXPECT_EQ(field(ev[4], "pid"), Term(a2));
  EXPECT_EQ(field(ev[4], "attempt"), Term(1));
  EXPECT_EQ(field(ev[4], "restart_count"), Term(1));
  // The stop: newest first, each with its pid and reason.
  EXPECT_EQ(str_field(ev[5], "child_id"), "b");
  EXPECT_EQ(field(ev[5], "pid"), Term(b1));
  EXPECT_EQ(str_field(ev[5], "reason"), "shutdown");
  EXPECT_EQ(str_field(ev[6], "child_id"), "a");
  EXPECT_EQ(field(ev[6], "pid"), Term(a2));
  EXPECT_EQ(str_field(ev[7], "reason"), "shutdown");
  EXPECT_TRUE(field(ev[7], "error").is_nil());

  // to_term: the fields plus type and times, in one map.
  Term t = ev[4].to_term();
  ASSERT_TRUE(t.is_map());
  LifecycleEvent as_map{"", 0, 0, t};
  EXPECT_EQ(str_field(as_map, "type"), "child_restarted");
  EXPECT_EQ(field(as_map, "monotonic"), Term(ev[4].monotonic));
  EXPECT_EQ(field(as_map, "timestamp"), Term(ev[4].timestamp));
  EXPECT_EQ(str_field(as_map, "child_id"), "a");
}

TEST_F(Events, delivered_on_an_engine_thread) {
  auto on_engine = std::make_shared<Recorder<bool>>();
  node_->events().subscribe(
      [on_engine, node = node_.get()](const LifecycleEvent& e) {
        if (e.type == "supervisor_started") on_engine->push(node->on_engine_thread());
      });
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a")}));  // emitted from this (non-engine) thread
  ASSERT_TRUE(on_engine->wait_until_count(1));
  EXPECT_TRUE(on_engine->snapshot()[0]);
}

TEST_F(Events, every_subscriber_sees_the_same_order) {
  auto second = std::make_shared<Recorder<std::string>>();
  node_->events().subscribe([second](const LifecycleEvent& e) { second->push(e.type + " " + str_field(e, "child_id")); });
  auto s = start_sup(spec_of(Strategy::rest_for_one, {worker("a"), worker("b"), worker("c")}));
  crash_and_wait_restart(s, "a", 1);
  ASSERT_TRUE(s.stop().ok());
  ASSERT_TRUE(wait_stopped(s.pid()));
  ASSERT_TRUE(second->wait_until_count(events_->size()));
  Lines first;
  for (auto& e : events_->snapshot()) first.push_back(e.type + " " + str_field(e, "child_id"));
  EXPECT_EQ(second->snapshot(), first);
}

TEST_F(Events, slow_subscriber_does_not_hold_up_the_supervisor) {
  auto gate = std::make_shared<Event>();
  auto held = std::make_shared<Event>();
  node_->events().subscribe([gate, held](const LifecycleEvent& e) {
    if (e.type != "supervisor_started") return;
    held->set();
    EXPECT_TRUE(gate->wait());
  });
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a"), worker("b")}));
  ASSERT_TRUE(held->wait());
  // Delivery is stuck at the first event; supervision goes on.
  Pid a = pid_of(s, "a");
  node_->cast(a, "crash");
  ASSERT_TRUE(journal_->wait_line("start a", 2));
  EXPECT_NE(pid_of(s, "a"), a);
  EXPECT_EQ(s.stats().total_restarts, 1u);
  // The fixture's subscriber (subscribed first) got only the first event so far.
  EXPECT_EQ(events_->size(), 1u);
  gate->set();
  ASSERT_TRUE(wait_event("child_restarted", "a", 1, s.pid()));
  EXPECT_EQ(trace(s.pid()), (Lines{"supervisor_started", "child_started a", "child_started b", "child_stopped a",
                                   "child_restarted a"}));
}

// ---- health ----------------------------------------------------------------------

class Health : public SupTest {};

TEST_F(Health, healthy_degraded_then_stopped) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a")}));
  EXPECT_EQ(s.stats().health, "healthy");
  crash_and_wait_restart(s, "a", 1);
  EXPECT_EQ(s.stats().health, "degraded");
  ASSERT_TRUE(s.stop().ok());
  EXPECT_EQ(s.stats().health, "stopped");
}

TEST_F(Health, failed_after_giving_up) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a")}, 0));
  node_->cast(pid_of(s, "a"), "crash");
  ASSERT_TRUE(wait_stopped(s.pid()));
  auto st = s.stats();
  EXPECT_EQ(st.health, "failed");
  EXPECT_EQ(st.stop_error, sup::SupErrc::max_restarts_exceeded);
}

}  // namespace
}  // namespace noexpp::test
