// Stopping children: an orderly shutdown request (terminate runs), a trapping
// child that ignores it is killed after its shutdown time, brutal_kill kills
// at once; a supervisor stops its children in reverse start order, also when
// its parent goes away.
#include <future>

#include "sup_test_support.hpp"

namespace noexpp::test {
namespace {

class Shutdown : public SupTest {};

TEST_F(Shutdown, supervisor_stop_order_is_reverse_start_order) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a"), worker("b"), worker("c")}));
  ExitWatch watch(*node_, s.pid());
  auto r = s.stop();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_FALSE(s.running());
  EXPECT_EQ(journal_->lines("terminate"),
            (Lines{"terminate c shutdown", "terminate b shutdown", "terminate a shutdown"}));
  ASSERT_TRUE(wait_stopped(s.pid()));
  EXPECT_EQ(trace(s.pid()), (Lines{"supervisor_started", "child_started a", "child_started b", "child_started c",
                                   "child_stopped c", "child_stopped b", "child_stopped a", "supervisor_stopped"}));
  auto stopped = events_of("supervisor_stopped", "", s.pid()).at(0);
  EXPECT_EQ(str_field(stopped, "reason"), "shutdown");
  EXPECT_TRUE(field(stopped, "error").is_nil());
  ASSERT_TRUE(watch.wait());
  EXPECT_EQ(*watch.wait(), ExitReason::shutdown());

  auto st = s.stats();
  EXPECT_FALSE(st.running);
  EXPECT_EQ(st.health, "stopped");
  EXPECT_EQ(st.stop_reason, "shutdown");
  EXPECT_FALSE(st.stop_error) << st.stop_error.message();
  EXPECT_EQ(node_->process_count(), 0u);
  EXPECT_TRUE(s.stop().ok());  // idempotent
}

TEST_F(Shutdown, non_trapping_child_runs_terminate) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a")}));
  Pid a = pid_of(s, "a");
  ASSERT_TRUE(s.terminate_child("a").ok());
  EXPECT_FALSE(node_->alive(a));
  EXPECT_EQ(journal_->lines("terminate"), (Lines{"terminate a shutdown"}));
  ASSERT_TRUE(wait_event("child_stopped", "a", 1, s.pid()));
  EXPECT_EQ(str_field(events_of("child_stopped", "a").at(0), "reason"), "shutdown");
}

TEST_F(Shutdown, trapping_child_ignoring_shutdown_is_killed_after_its_shutdown_time) {
  const auto grace = 100ms;
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a", {.shutdown = grace, .trap_exit = true})}));
  Pid a = pid_of(s, "a");
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(s.terminate_child("a").ok());
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_FALSE(node_->alive(a));
  EXPECT_GE(took, grace);  // it had its time before the kill
  // It saw the request (as an EXIT message) and ignored it; a kill runs no terminate.
  EXPECT_EQ(journal_->lines("exit"), (Lines{"exit a shutdown"}));
  EXPECT_TRUE(journal_->lines("terminate").empty());
  ASSERT_TRUE(wait_event("child_stopped", "a", 1, s.pid()));
  EXPECT_EQ(str_field(events_of("child_stopped", "a").at(0), "reason"), "killed");
}

TEST_F(Shutdown, trapping_child_that_stops_on_exit_terminates_cleanly) {
  auto s = start_sup(
      spec_of(Strategy::one_for_one, {worker("a", {.shutdown = 30s, .trap_exit = true, .stop_on_exit = true})}));
  ASSERT_TRUE(s.terminate_child("a").ok());
  EXPECT_EQ(journal_->log.snapshot(), (Lines{"start a", "exit a shutdown", "terminate a shutdown"}));
  ASSERT_TRUE(wait_event("child_stopped", "a", 1, s.pid()));
  EXPECT_EQ(str_field(events_of("child_stopped", "a").at(0), "reason"), "shutdown");
}

TEST_F(Shutdown, brutal_kill_skips_terminate) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("plain", {.shutdown = sup::kBrutalKill}),
                                                     worker("trapper", {.shutdown = sup::kBrutalKill,
                                                                        .trap_exit = true})}));
  ASSERT_TRUE(s.stop().ok());
  EXPECT_EQ(journal_->log.snapshot(), (Lines{"start plain", "start trapper"}));  // no exit, no terminate
  ASSERT_TRUE(wait_stopped(s.pid()));
  for (auto id : {"plain", "trapper"})
    EXPECT_EQ(str_field(events_of("child_stopped", id).at(0), "reason"), "killed") << id;
}

TEST_F(Shutdown, shutdown_waits_for_terminate_within_shutdown_time) {
  auto gate = std::make_shared<Event>();
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a", {.shutdown = 60s, .terminate_gate = gate})}));
  auto stopping = std::async(std::launch::async, [s]() mutable { return s.terminate_child("a"); });
  ASSERT_TRUE(journal_->wait_line("terminate a shutdown"));
  // terminate is running and holds the child: the request cannot have completed.
  EXPECT_EQ(stopping.wait_for(0s), std::future_status::timeout);
  gate->set();
  ASSERT_EQ(stopping.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(stopping.get().ok());
  ASSERT_TRUE(wait_event("child_stopped", "a", 1, s.pid()));
  EXPECT_EQ(str_field(events_of("child_stopped", "a").at(0), "reason"), "shutdown");  // not killed
}

TEST_F(Shutdown, stop_kills_only_the_stubborn_child) {
  auto s = start_sup(spec_of(Strategy::one_for_one,
                             {worker("stubborn", {.shutdown = 100ms, .trap_exit = true}), worker("polite")}));
  ASSERT_TRUE(s.stop().ok());
  EXPECT_EQ(journal_->log.snapshot(),
            (Lines{"start stubborn", "start polite", "terminate polite shutdown", "exit stubborn shutdown"}));
  ASSERT_TRUE(wait_stopped(s.pid()));
  EXPECT_EQ(str_field(events_of("child_stopped", "polite").at(0), "reason"), "shutdown");
  EXPECT_EQ(str_field(events_of("child_stopped", "stubborn").at(0), "reason"), "killed");
}

TEST_F(Shutdown, supervisor_stops_when_its_parent_dies) {
  Pid parent = spawn(fn_server({}));
  SpawnOptions opts;
  opts.link_to = parent;
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a"), worker("b")}), opts);
  ExitWatch watch(*node_, s.pid());
  node_->kill(parent);
  auto reason = watch.wait();
  ASSERT_TRUE(reason);
  EXPECT_EQ(*reason, ExitReason::killed());
  EXPECT_EQ(journal_->lines("terminate"), (Lines{"terminate b shutdown", "terminate a shutdown"}));
  auto st = s.stats();
  EXPECT_FALSE(st.running);
  EXPECT_NE(st.stop_reason.find("parent exited"), std::string::npos) << st.stop_reason;
  EXPECT_EQ(node_->process_count(), 0u);
}

TEST_F(Shutdown, killed_supervisor_takes_its_workers_along) {
  // No terminate_child here: the supervisor itself is killed, and its links
  // carry `killed` to the children.
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a"), worker("b")}));
  ExitWatch a(*node_, pid_of(s, "a")), b(*node_, pid_of(s, "b"));
  node_->kill(s.pid());
  ASSERT_TRUE(a.wait());
  ASSERT_TRUE(b.wait());
  EXPECT_EQ(*a.wait(), ExitReason::killed());
  EXPECT_EQ(*b.wait(), ExitReason::killed());
  EXPECT_EQ(node_->process_count(), 0u);
}

// A child that traps exits does not outlive its killed supervisor: an EXIT
// over the link from its parent ends it through terminate, as OTP's
// gen_server does, instead of reaching handle_info where it could be ignored.
TEST_F(Shutdown, killed_supervisor_leaves_no_trapping_orphan) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("t", {.trap_exit = true})}));
  Pid t = pid_of(s, "t");
  ExitWatch watch(*node_, t);
  node_->kill(s.pid());
  auto reason = watch.wait();
  ASSERT_TRUE(reason) << "the child outlived its killed supervisor";
  EXPECT_EQ(*reason, ExitReason::killed());
}

TEST_F(Shutdown, terminate_child_does_not_restart_a_permanent_child) {
  auto s = start_sup(spec_of(Strategy::one_for_all, {worker("a"), worker("b")}));
  Pid b = pid_of(s, "b");
  ASSERT_TRUE(s.terminate_child("a").ok());
  EXPECT_TRUE(pid_of(s, "a").is_nil());
  EXPECT_EQ(pid_of(s, "b"), b);  // no strategy runs for an explicit stop
  EXPECT_EQ(s.stats().total_restarts, 0u);
  EXPECT_EQ(journal_->count("start a"), 1u);
}

TEST_F(Shutdown, node_stop_stops_the_whole_tree) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a"), worker("b"), worker("c")}));
  ExitWatch watch(*node_, s.pid());
  node_->stop();
  EXPECT_TRUE(watch.wait());
  EXPECT_EQ(node_->process_count(), 0u);
  // Every child that started was terminated (a child may be stopped by the
  // node before the supervisor sees its stop request, then restarted and stopped again).
  for (auto id : {"a", "b", "c"})
    EXPECT_EQ(journal_->lines(std::string("start ") + id).size(), journal_->lines(std::string("terminate ") + id).size())
        << id;
}

}  // namespace
}  // namespace noexpp::test
