// Restart types judged on the exit reason (OTP's table): permanent always,
// transient only after an abnormal exit, temporary never and forgotten.
#include "sup_test_support.hpp"

namespace noexpp::test {
namespace {

class RestartTypes : public SupTest {
 protected:
  /// One child `a` of `type` under one_for_one, plus a bystander `b`.
  Supervisor start_with(RestartType type) {
    return start_sup(spec_of(Strategy::one_for_one, {worker("a", {.restart = type}), worker("b")}));
  }

  /// Ends `a` by `how` (a stop cast, or "kill" from outside) and waits
  /// until the supervisor has handled its exit (its child_stopped event).
  Pid end_a(Supervisor& s, const std::string& how, std::size_t nth = 1) {
    Pid a = pid_of(s, "a");
    EXPECT_FALSE(a.is_nil());
    if (how == "kill")
      node_->kill(a);
    else if (how == "exit_other")
      node_->exit(a, ExitReason::other("external"));
    else
      node_->cast(a, how);
    EXPECT_TRUE(wait_event("child_stopped", "a", nth, s.pid())) << how;
    return a;
  }

  void expect_restarted(Supervisor& s, Pid old, const std::string& reason) {
    ASSERT_TRUE(wait_event("child_restarted", "a", 1, s.pid()));
    auto a = info_of(s, "a");
    ASSERT_TRUE(a);
    EXPECT_FALSE(a->pid.is_nil());
    EXPECT_NE(a->pid, old);
    EXPECT_EQ(a->restart_count, 1);
    EXPECT_EQ(node_->call(a->pid, "ping").value, Term("pong"));
    auto stopped = events_of("child_stopped", "a", s.pid());
    ASSERT_EQ(stopped.size(), 1u);
    EXPECT_EQ(str_field(stopped[0], "reason"), reason);
    EXPECT_EQ(field(stopped[0], "pid"), Term(old));
    EXPECT_EQ(trace(s.pid()), (Lines{"supervisor_started", "child_started a", "child_started b", "child_stopped a",
                                     "child_restarted a"}));
    EXPECT_EQ(s.stats().total_restarts, 1u);
  }

  /// Not restarted, spec kept with a nil pid (transient), or forgotten (temporary).
  void expect_not_restarted(Supervisor& s, bool forgotten) {
    // which_children is answered after the EXIT was handled: the decision is made.
    auto kids = s.which_children();
    ASSERT_TRUE(kids.ok());
    if (forgotten) {
      EXPECT_EQ(ids_of(s), (Lines{"b"}));
      EXPECT_EQ(s.count_children().value().specs, 1);
    } else {
      auto a = info_of(s, "a");
      ASSERT_TRUE(a);
      EXPECT_TRUE(a->pid.is_nil());
      EXPECT_EQ(a->restart_count, 0);
      auto counts = s.count_children().value();
      EXPECT_EQ(counts.specs, 2);
      EXPECT_EQ(counts.active, 1);
    }
    EXPECT_EQ(trace(s.pid()), (Lines{"supervisor_started", "child_started a", "child_started b", "child_stopped a"}));
    EXPECT_EQ(s.stats().total_restarts, 0u);
    EXPECT_EQ(journal_->count("start a"), 1u);
    EXPECT_FALSE(pid_of(s, "b").is_nil());
  }
};

// ---- permanent -----------------------------------------------------------------

TEST_F(RestartTypes, permanent_normal) {
  auto s = start_with(RestartType::permanent);
  Pid old = end_a(s, "stop_normal");
  expect_restarted(s, old, "normal");
  EXPECT_EQ(journal_->lines("terminate a"), (Lines{"terminate a normal"}));
}

TEST_F(RestartTypes, permanent_shutdown) {
  auto s = start_with(RestartType::permanent);
  Pid old = end_a(s, "stop_shutdown");
  expect_restarted(s, old, "shutdown");
}

TEST_F(RestartTypes, permanent_abnormal) {
  auto s = start_with(RestartType::permanent);
  Pid old = end_a(s, "crash");
  expect_restarted(s, old, "error std::runtime_error: boom");
  EXPECT_EQ(journal_->lines("terminate a"), (Lines{"terminate a error std::runtime_error: boom"}));
  EXPECT_EQ(journal_->lines("start a"), (Lines{"start a", "start a"}));
}

TEST_F(RestartTypes, permanent_killed) {
  auto s = start_with(RestartType::permanent);
  Pid old = end_a(s, "kill");
  expect_restarted(s, old, "killed");
  EXPECT_TRUE(journal_->lines("terminate a").empty());  // a kill runs no terminate
}

// ---- transient -----------------------------------------------------------------

TEST_F(RestartTypes, transient_normal) {
  auto s = start_with(RestartType::transient);
  end_a(s, "stop_normal");
  expect_not_restarted(s, false);
}

TEST_F(RestartTypes, transient_shutdown) {
  auto s = start_with(RestartType::transient);
  end_a(s, "stop_shutdown");
  expect_not_restarted(s, false);
}

TEST_F(RestartTypes, transient_shutdown_with_reason) {
  auto s = start_with(RestartType::transient);
  end_a(s, "stop_shutdown_term");
  expect_not_restarted(s, false);
  EXPECT_EQ(str_field(events_of("child_stopped", "a").at(0), "reason"), ExitReason::shutdown_with("done").to_string());
}

TEST_F(RestartTypes, transient_abnormal) {
  auto s = start_with(RestartType::transient);
  Pid old = end_a(s, "crash");
  expect_restarted(s, old, "error std::runtime_error: boom");
}

TEST_F(RestartTypes, transient_other_reason_is_abnormal) {
  auto s = start_with(RestartType::transient);
  Pid old = end_a(s, "stop_other");
  expect_restarted(s, old, "'bye'");
}

TEST_F(RestartTypes, transient_killed) {
  auto s = start_with(RestartType::transient);
  Pid old = end_a(s, "kill");
  expect_restarted(s, old, "killed");
}

TEST_F(RestartTypes, transient_exit_signal_from_outside) {
  auto s = start_with(RestartType::transient);
  Pid old = end_a(s, "exit_other");
  expect_restarted(s, old, "'external'");
}

TEST_F(RestartTypes, transient_stopped_child_can_be_restarted_by_hand) {
  auto s = start_with(RestartType::transient);
  end_a(s, "stop_normal");
  auto r = s.restart_child("a");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(pid_of(s, "a"), r.value());
  EXPECT_EQ(journal_->count("start a"), 2u);
}

// ---- temporary -----------------------------------------------------------------

TEST_F(RestartTypes, temporary_normal) {
  auto s = start_with(RestartType::temporary);
  end_a(s, "stop_normal");
  expect_not_restarted(s, true);
}

TEST_F(RestartTypes, temporary_abnormal) {
  auto s = start_with(RestartType::temporary);
  end_a(s, "crash");
  expect_not_restarted(s, true);
  EXPECT_EQ(s.restart_child("a").error().code, sup::SupErrc::child_not_found);
}

TEST_F(RestartTypes, temporary_killed) {
  auto s = start_with(RestartType::temporary);
  end_a(s, "kill");
  expect_not_restarted(s, true);
}

TEST_F(RestartTypes, abnormal_exit_is_kept_as_last_error) {
  auto s = start_with(RestartType::permanent);
  end_a(s, "crash");
  ASSERT_TRUE(wait_event("child_restarted", "a", 1, s.pid()));
  auto st = s.stats();
  ASSERT_EQ(st.children.size(), 2u);
  EXPECT_EQ(st.children[0].id, "a");
  EXPECT_EQ(st.children[0].last_error, "error std::runtime_error: boom");
  EXPECT_EQ(st.children[0].restart_count, 1);
  EXPECT_EQ(st.children[1].last_error, "");
  // A later normal exit does not overwrite the last error.
  end_a(s, "stop_normal", 2);
  ASSERT_TRUE(wait_event("child_restarted", "a", 2, s.pid()));
  EXPECT_EQ(s.stats().children[0].last_error, "error std::runtime_error: boom");
}

}  // namespace
}  // namespace noexpp::test
