// Restart intensity: more than max_restarts restarts within `within` stops
// the supervisor (children in reverse, reason shutdown, error
// max_restarts_exceeded) and its parent sees it; failed restarts count too.
#include "sup_test_support.hpp"

namespace noexpp::test {
namespace {

class Intensity : public SupTest {
 protected:
  /// Crashes `id` once more than `max` allows and waits for the supervisor to stop.
  void exceed(Supervisor& s, const std::string& id, int max) {
    for (int i = 1; i <= max; ++i) crash_and_wait_restart(s, id, static_cast<std::size_t>(i));
    Pid p = pid_of(s, id);
    ASSERT_FALSE(p.is_nil());
    node_->cast(p, "crash");
    ASSERT_TRUE(wait_stopped(s.pid()));
  }
};

TEST_F(Intensity, max_restarts_within_the_period_are_allowed) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a")}, 3));
  EXPECT_EQ(s.stats().health, "healthy");
  for (std::size_t i = 1; i <= 3; ++i) crash_and_wait_restart(s, "a", i);
  EXPECT_TRUE(s.running());
  auto st = s.stats();
  EXPECT_TRUE(st.running);
  EXPECT_EQ(st.total_restarts, 3u);
  EXPECT_EQ(st.health, "degraded");  // restarts within the window
  EXPECT_FALSE(st.stop_error) << st.stop_error.message();
  EXPECT_TRUE(events_of("restart_intensity_exceeded").empty());
}

TEST_F(Intensity, one_for_one_intensity_exceeded) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a"), worker("b"), worker("c")}, 2));
  ExitWatch watch(*node_, s.pid());
  exceed(s, "b", 2);
  auto reason = watch.wait();
  ASSERT_TRUE(reason);
  EXPECT_EQ(*reason, ExitReason::shutdown());
  EXPECT_FALSE(s.running());
  EXPECT_EQ(trace(s.pid()),
            (Lines{"supervisor_started", "child_started a", "child_started b", "child_started c", "child_stopped b",
                   "child_restarted b", "child_stopped b", "child_restarted b", "child_stopped b",
                   "restart_intensity_exceeded b", "child_stopped c", "child_stopped a", "supervisor_stopped"}));
  // The crashed child is not restarted a third time; the others stop newest first.
  EXPECT_EQ(journal_->count("start b"), 3u);
  EXPECT_EQ(journal_->lines("terminate"),
            (Lines{"terminate b error std::runtime_error: boom", "terminate b error std::runtime_error: boom",
                   "terminate b error std::runtime_error: boom", "terminate c shutdown", "terminate a shutdown"}));

  auto exceeded = events_of("restart_intensity_exceeded", "b", s.pid()).at(0);
  EXPECT_EQ(field(exceeded, "max_restarts"), Term(2));
  EXPECT_EQ(field(exceeded, "within"), Term(60.0));
  auto stopped = events_of("supervisor_stopped", "", s.pid()).at(0);
  EXPECT_EQ(str_field(stopped, "error"), "max_restarts_exceeded");
  EXPECT_NE(str_field(stopped, "reason").find("more than 2 restarts"), std::string::npos)
      << str_field(stopped, "reason");

  auto st = s.stats();
  EXPECT_FALSE(st.running);
  EXPECT_EQ(st.health, "failed");
  EXPECT_EQ(st.stop_error, sup::SupErrc::max_restarts_exceeded);
  EXPECT_NE(st.stop_reason.find("child 'b'"), std::string::npos) << st.stop_reason;
  EXPECT_EQ(st.total_restarts, 2u);
  for (auto& c : st.children) EXPECT_TRUE(c.pid.is_nil()) << c.id;
  EXPECT_EQ(node_->process_count(), 0u);
  // The handle reports the dead supervisor instead of hanging.
  EXPECT_EQ(s.which_children().error().code, sup::SupErrc::supervisor_not_running);
  EXPECT_EQ(s.start_child(worker("late")).error().code, sup::SupErrc::supervisor_not_running);
  EXPECT_TRUE(s.stop().ok());  // idempotent
}

TEST_F(Intensity, zero_max_restarts_gives_up_at_the_first_crash) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a")}, 0));
  exceed(s, "a", 0);
  EXPECT_EQ(journal_->count("start a"), 1u);
  EXPECT_EQ(s.stats().stop_error, sup::SupErrc::max_restarts_exceeded);
  EXPECT_TRUE(events_of("child_restarted").empty());
}

TEST_F(Intensity, linked_parent_sees_shutdown) {
  ExitTrapper parent;
  Pid parent_pid = spawn(parent.factory());
  SpawnOptions opts;
  opts.link_to = parent_pid;
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a")}, 1), opts);
  exceed(s, "a", 1);
  auto reason = parent.wait_exit_from(s.pid());
  ASSERT_TRUE(reason);
  EXPECT_EQ(*reason, ExitReason::shutdown());
  EXPECT_TRUE(node_->alive(parent_pid));  // trapping: a message, not a death
}

TEST_F(Intensity, non_trapping_linked_parent_dies_with_it) {
  // shutdown is not "normal": over a link it stops a parent that does not trap exits.
  Pid parent_pid = spawn(fn_server({}));
  ExitWatch parent_watch(*node_, parent_pid);
  SpawnOptions opts;
  opts.link_to = parent_pid;
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a")}, 0), opts);
  exceed(s, "a", 0);
  auto reason = parent_watch.wait();
  ASSERT_TRUE(reason);
  EXPECT_EQ(*reason, ExitReason::shutdown());
}

TEST_F(Intensity, one_for_all_escalation) {
  auto s = start_sup(spec_of(Strategy::one_for_all, {worker("a"), worker("b")}, 1));
  ExitWatch watch(*node_, s.pid());
  crash_and_wait_restart(s, "a", 1);
  ASSERT_TRUE(wait_event("child_restarted", "b", 1, s.pid()));
  node_->cast(pid_of(s, "b"), "crash");
  ASSERT_TRUE(wait_stopped(s.pid()));
  ASSERT_TRUE(watch.wait());
  EXPECT_EQ(*watch.wait(), ExitReason::shutdown());
  EXPECT_EQ(trace(s.pid()),
            (Lines{"supervisor_started", "child_started a", "child_started b", "child_stopped a", "child_stopped b",
                   "child_restarted a", "child_restarted b", "child_stopped b", "restart_intensity_exceeded b",
                   "child_stopped a", "supervisor_stopped"}));
  EXPECT_EQ(s.stats().total_restarts, 1u);  // one restart of the whole group
}

TEST_F(Intensity, failed_restart_is_retried_until_it_starts) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a"), worker("b")}, 5));
  journal_->fail_next_inits("b", 2);
  crash_and_wait_restart(s, "b", 1);
  EXPECT_EQ(trace(s.pid()),
            (Lines{"supervisor_started", "child_started a", "child_started b", "child_stopped b",
                   "child_start_failed b", "child_start_failed b", "child_restarted b"}));
  auto failed = events_of("child_start_failed", "b", s.pid());
  EXPECT_NE(str_field(failed.at(0), "reason").find("init refused"), std::string::npos)
      << str_field(failed.at(0), "reason");
  auto restarted = events_of("child_restarted", "b", s.pid()).at(0);
  EXPECT_EQ(field(restarted, "attempt"), Term(3));
  EXPECT_EQ(field(restarted, "restart_count"), Term(1));
  auto st = s.stats();
  EXPECT_EQ(st.total_restarts, 3u);  // every attempt counts toward the intensity
  EXPECT_EQ(st.children.at(1).restart_count, 1);
  EXPECT_EQ(node_->call(pid_of(s, "b"), "ping").value, Term("pong"));
}

TEST_F(Intensity, failing_restarts_exceed_intensity) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a"), worker("b")}, 3));
  journal_->fail_next_inits("b");  // from now on, b never starts again
  node_->cast(pid_of(s, "b"), "crash");
  ASSERT_TRUE(wait_stopped(s.pid()));
  EXPECT_EQ(trace(s.pid()),
            (Lines{"supervisor_started", "child_started a", "child_started b", "child_stopped b",
                   "child_start_failed b", "child_start_failed b", "child_start_failed b",
                   "restart_intensity_exceeded b", "child_stopped a", "supervisor_stopped"}));
  auto st = s.stats();
  EXPECT_EQ(st.stop_error, sup::SupErrc::max_restarts_exceeded);
  EXPECT_EQ(st.health, "failed");
  EXPECT_NE(st.children.at(1).last_error.find("init refused"), std::string::npos) << st.children.at(1).last_error;
}

TEST_F(Intensity, normal_exits_of_transient_children_do_not_count) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("t", {.restart = RestartType::transient})}, 0));
  for (std::size_t i = 1; i <= 3; ++i) {
    node_->cast(pid_of(s, "t"), "stop_normal");
    ASSERT_TRUE(wait_event("child_stopped", "t", i, s.pid()));
    ASSERT_TRUE(s.restart_child("t").ok());  // by hand: not a restart either
  }
  EXPECT_TRUE(s.running());
  EXPECT_EQ(s.stats().total_restarts, 0u);
  EXPECT_EQ(s.stats().health, "healthy");
}

}  // namespace
}  // namespace noexpp::test
