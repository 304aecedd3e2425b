// auto_shutdown (OTP 24): significant children whose own exit ends the
// supervisor (any_significant / all_significant), but not when they are
// restarted or terminated explicitly.
#include "sup_test_support.hpp"

namespace noexpp::test {
namespace {

class AutoShutdownTest : public SupTest {
 protected:
  ChildSpec significant(std::string id, RestartType r = RestartType::transient) {
    return worker(std::move(id), {.restart = r, .significant = true});
  }
  SupervisorSpec spec(AutoShutdown a, std::vector<ChildSpec> children) {
    auto s = spec_of(Strategy::one_for_one, std::move(children));
    s.auto_shutdown = a;
    return s;
  }
  /// Lets `id` exit by `how` and waits until the supervisor handled it.
  void end(Supervisor& s, const std::string& id, const std::string& how) {
    Pid p = pid_of(s, id);
    ASSERT_FALSE(p.is_nil()) << id;
    node_->cast(p, how);
    ASSERT_TRUE(wait_event("child_stopped", id, 1, s.pid())) << id;
  }
  void expect_auto_shutdown(Supervisor& s, ExitWatch& watch, const char* mode) {
    auto reason = watch.wait();
    ASSERT_TRUE(reason) << "the supervisor did not stop";
    EXPECT_EQ(*reason, ExitReason::shutdown());
    auto st = s.stats();
    EXPECT_FALSE(st.running);
    EXPECT_EQ(st.stop_reason, std::string("auto_shutdown (") + mode + ")");
    EXPECT_FALSE(st.stop_error) << st.stop_error.message();
    EXPECT_EQ(st.health, "stopped");
    EXPECT_EQ(node_->process_count(), 0u);
  }
};

TEST_F(AutoShutdownTest, any_significant_normal_exit_stops_the_supervisor) {
  auto s = start_sup(spec(AutoShutdown::any_significant, {worker("a"), significant("sig"), worker("c")}));
  ExitWatch watch(*node_, s.pid());
  end(s, "sig", "stop_normal");
  expect_auto_shutdown(s, watch, "any_significant");
  ASSERT_TRUE(wait_stopped(s.pid()));
  EXPECT_EQ(trace(s.pid()), (Lines{"supervisor_started", "child_started a", "child_started sig", "child_started c",
                                   "child_stopped sig", "child_stopped c", "child_stopped a", "supervisor_stopped"}));
  EXPECT_EQ(journal_->lines("terminate"),
            (Lines{"terminate sig normal", "terminate c shutdown", "terminate a shutdown"}));
  EXPECT_TRUE(field(events_of("supervisor_stopped").at(0), "error").is_nil());
}

TEST_F(AutoShutdownTest, any_significant_shutdown_exit_stops_the_supervisor) {
  auto s = start_sup(spec(AutoShutdown::any_significant, {worker("a"), significant("sig")}));
  ExitWatch watch(*node_, s.pid());
  end(s, "sig", "stop_shutdown");
  expect_auto_shutdown(s, watch, "any_significant");
}

TEST_F(AutoShutdownTest, any_significant_abnormal_exit_restarts_instead) {
  auto s = start_sup(spec(AutoShutdown::any_significant, {worker("a"), significant("sig")}));
  crash_and_wait_restart(s, "sig", 1);
  EXPECT_TRUE(s.running());
  EXPECT_EQ(s.count_children().value().active, 2);
}

TEST_F(AutoShutdownTest, any_significant_temporary_crash_stops_the_supervisor) {
  auto s = start_sup(spec(AutoShutdown::any_significant, {worker("a"), significant("sig", RestartType::temporary)}));
  ExitWatch watch(*node_, s.pid());
  end(s, "sig", "crash");
  expect_auto_shutdown(s, watch, "any_significant");
}

TEST_F(AutoShutdownTest, all_significant_waits_for_every_significant_child) {
  auto s = start_sup(spec(AutoShutdown::all_significant,
                          {worker("a"), significant("s1", RestartType::temporary), significant("s2")}));
  ExitWatch watch(*node_, s.pid());
  end(s, "s1", "stop_normal");
  EXPECT_TRUE(s.which_children().ok());  // answered after s1's exit was handled
  EXPECT_TRUE(s.running());
  EXPECT_EQ(ids_of(s), (Lines{"a", "s2"}));
  end(s, "s2", "stop_normal");
  expect_auto_shutdown(s, watch, "all_significant");
  EXPECT_EQ(journal_->lines("terminate"), (Lines{"terminate s1 normal", "terminate s2 normal", "terminate a shutdown"}));
}

TEST_F(AutoShutdownTest, all_significant_restarting_child_still_counts_as_running) {
  auto s = start_sup(spec(AutoShutdown::all_significant, {significant("s1"), significant("s2")}));
  crash_and_wait_restart(s, "s1", 1);
  end(s, "s2", "stop_normal");
  EXPECT_TRUE(s.which_children().ok());
  EXPECT_TRUE(s.running());
}

TEST_F(AutoShutdownTest, explicit_terminate_of_significant_child_does_not_stop_the_supervisor) {
  auto s = start_sup(spec(AutoShutdown::any_significant, {worker("a"), significant("sig")}));
  ASSERT_TRUE(s.terminate_child("sig").ok());
  EXPECT_TRUE(s.running());
  auto counts = s.count_children().value();
  EXPECT_EQ(counts.specs, 2);
  EXPECT_EQ(counts.active, 1);
  // Started again by hand, its own exit still counts.
  ASSERT_TRUE(s.restart_child("sig").ok());
  ExitWatch watch(*node_, s.pid());
  node_->cast(pid_of(s, "sig"), "stop_normal");
  expect_auto_shutdown(s, watch, "any_significant");
}

TEST_F(AutoShutdownTest, explicit_terminate_of_temporary_significant_child) {
  auto s = start_sup(spec(AutoShutdown::all_significant, {worker("a"), significant("sig", RestartType::temporary)}));
  ASSERT_TRUE(s.terminate_child("sig").ok());
  EXPECT_TRUE(s.running());
  EXPECT_EQ(ids_of(s), (Lines{"a"}));
}

TEST_F(AutoShutdownTest, non_significant_exit_does_not_stop_the_supervisor) {
  auto s = start_sup(spec(AutoShutdown::any_significant,
                          {worker("t", {.restart = RestartType::transient}), significant("sig")}));
  end(s, "t", "stop_normal");
  EXPECT_TRUE(s.which_children().ok());
  EXPECT_TRUE(s.running());
}

TEST_F(AutoShutdownTest, linked_parent_sees_the_auto_shutdown) {
  ExitTrapper parent;
  SpawnOptions opts;
  opts.link_to = spawn(parent.factory());
  auto s = start_sup(spec(AutoShutdown::any_significant, {significant("sig")}), opts);
  end(s, "sig", "stop_normal");
  auto reason = parent.wait_exit_from(s.pid());
  ASSERT_TRUE(reason);
  EXPECT_EQ(*reason, ExitReason::shutdown());
}

TEST_F(AutoShutdownTest, significant_child_with_auto_shutdown_never_is_invalid) {
  auto r = sup::start_supervisor(node_, spec(AutoShutdown::never, {worker("a"), significant("sig")}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_NE(r.error().detail.find("'sig'"), std::string::npos) << r.error().detail;
  EXPECT_TRUE(journal_->log.snapshot().empty());
  EXPECT_EQ(node_->process_count(), 0u);
}

TEST_F(AutoShutdownTest, significant_permanent_child_is_invalid) {
  auto r = sup::start_supervisor(node_,
                                 spec(AutoShutdown::any_significant, {significant("sig", RestartType::permanent)}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(node_->process_count(), 0u);
}

TEST_F(AutoShutdownTest, significant_dynamic_child_is_checked_too) {
  auto s = start_sup(spec(AutoShutdown::any_significant, {worker("a")}));
  EXPECT_EQ(s.start_child(significant("p", RestartType::permanent)).error().code, Errc::invalid_argument);
  ASSERT_TRUE(s.start_child(significant("sig")).ok());
  ExitWatch watch(*node_, s.pid());
  node_->cast(pid_of(s, "sig"), "stop_normal");
  expect_auto_shutdown(s, watch, "any_significant");
}

}  // namespace
}  // namespace noexpp::test
