// Children added and removed at run time (start_child, terminate_child,
// restart_child, delete_child) and what which_children, count_children and
// stats report; startup failures and registered names.
#include "sup_test_support.hpp"

namespace noexpp::test {
namespace {

class DynamicChildren : public SupTest {};

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// ---- starting -----------------------------------------------------------------

TEST_F(DynamicChildren, start_child_adds_and_starts_it_last) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a")}));
  auto r = s.start_child(worker("d"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(node_->alive(r.value()));
  EXPECT_EQ(ids_of(s), (Lines{"a", "d"}));
  EXPECT_EQ(pid_of(s, "d"), r.value());
  EXPECT_EQ(node_->call(r.value(), "ping").value, Term("pong"));
  ASSERT_TRUE(wait_event("child_started", "d", 1, s.pid()));
  EXPECT_EQ(field(events_of("child_started", "d").at(0), "pid"), Term(r.value()));
  // A dynamic child is supervised like the others and stopped first.
  crash_and_wait_restart(s, "d", 1);
  ASSERT_TRUE(s.stop().ok());
  EXPECT_EQ(journal_->lines("terminate"), (Lines{"terminate d error std::runtime_error: boom",
                                                 "terminate d shutdown", "terminate a shutdown"}));
}

TEST_F(DynamicChildren, start_child_duplicate_id) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a")}));
  Pid a = pid_of(s, "a");
  auto r = s.start_child(worker("a"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, sup::SupErrc::duplicate_child);
  EXPECT_EQ(pid_of(s, "a"), a);
  EXPECT_EQ(journal_->count("start a"), 1u);  // the duplicate never started
}

TEST_F(DynamicChildren, start_child_invalid_spec) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a")}));
  ChildSpec empty;
  empty.id = "empty";
  EXPECT_EQ(s.start_child(empty).error().code, Errc::invalid_argument);
  auto sig = worker("sig", {.restart = RestartType::transient, .significant = true});
  EXPECT_EQ(s.start_child(sig).error().code, Errc::invalid_argument);  // auto_shutdown is never
  EXPECT_EQ(ids_of(s), (Lines{"a"}));
}

TEST_F(DynamicChildren, start_child_init_failure_is_not_kept) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a")}));
  journal_->fail_next_inits("d", 1);
  auto r = s.start_child(worker("d"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::init_failed);
  EXPECT_NE(r.error().detail.find("'d'"), std::string::npos) << r.error().detail;
  EXPECT_NE(r.error().detail.find("init refused"), std::string::npos) << r.error().detail;
  EXPECT_EQ(ids_of(s), (Lines{"a"}));
  EXPECT_TRUE(s.running());
  EXPECT_EQ(s.stats().total_restarts, 0u);
  auto again = s.start_child(worker("d"));  // the id is free again
  ASSERT_TRUE(again.ok()) << again.error().to_string();
}

TEST_F(DynamicChildren, start_failure_stops_started_children_in_reverse) {
  journal_->fail_next_inits("c", 1);
  auto r = sup::start_supervisor(node_, spec_of(Strategy::one_for_one, {worker("a"), worker("b"), worker("c"),
                                                                        worker("d")}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::init_failed);
  EXPECT_NE(r.error().detail.find("child 'c'"), std::string::npos) << r.error().detail;
  EXPECT_NE(r.error().detail.find("init refused"), std::string::npos) << r.error().detail;
  EXPECT_EQ(journal_->log.snapshot(), (Lines{"start a", "start b", "init_failed c", "terminate b shutdown",
                                             "terminate a shutdown"}));
  EXPECT_EQ(node_->process_count(), 0u);
  ASSERT_TRUE(wait_event("supervisor_stopped"));
  Lines types;
  for (auto& e : events_of("")) types.push_back(e.type + " " + str_field(e, "child_id"));
  EXPECT_EQ(types, (Lines{"supervisor_started ", "child_started a", "child_started b", "child_stopped b",
                          "child_stopped a", "supervisor_stopped "}));
  EXPECT_NE(str_field(events_of("supervisor_stopped").at(0), "reason").find("'c'"), std::string::npos);
}

// ---- terminate / restart / delete ------------------------------------------------

TEST_F(DynamicChildren, terminate_child_keeps_the_spec) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a"), worker("b")}));
  ASSERT_TRUE(s.terminate_child("a").ok());
  auto a = info_of(s, "a");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->pid.is_nil());
  EXPECT_EQ(a->started_at, 0.0);
  auto counts = s.count_children().value();
  EXPECT_EQ(counts.specs, 2);
  EXPECT_EQ(counts.active, 1);
  EXPECT_TRUE(s.terminate_child("a").ok());  // already stopped: nothing to do
  EXPECT_EQ(journal_->count("terminate a shutdown"), 1u);
  EXPECT_EQ(s.terminate_child("nope").error().code, sup::SupErrc::child_not_found);
  EXPECT_EQ(s.stats().total_restarts, 0u);
}

TEST_F(DynamicChildren, terminate_temporary_child_deletes_it) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a"), worker("t", {.restart = RestartType::temporary})}));
  ASSERT_TRUE(s.terminate_child("t").ok());
  EXPECT_EQ(ids_of(s), (Lines{"a"}));
}

TEST_F(DynamicChildren, restart_child_starts_a_terminated_child) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a"), worker("b")}));
  Pid old = pid_of(s, "a");
  EXPECT_EQ(s.restart_child("a").error().code, sup::SupErrc::child_running);
  ASSERT_TRUE(s.terminate_child("a").ok());
  auto r = s.restart_child("a");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_NE(r.value(), old);
  EXPECT_EQ(pid_of(s, "a"), r.value());
  EXPECT_EQ(ids_of(s), (Lines{"a", "b"}));  // keeps its place in the start order
  EXPECT_EQ(s.restart_child("nope").error().code, sup::SupErrc::child_not_found);
  // A restart by hand is a start: child_started, not counted as a restart.
  ASSERT_TRUE(wait_event("child_started", "a", 2, s.pid()));
  EXPECT_TRUE(events_of("child_restarted").empty());
  EXPECT_EQ(s.stats().total_restarts, 0u);
  ASSERT_TRUE(s.stop().ok());
  EXPECT_EQ(journal_->lines("terminate"),
            (Lines{"terminate a shutdown", "terminate b shutdown", "terminate a shutdown"}));
}

TEST_F(DynamicChildren, restart_child_init_failure) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a")}));
  ASSERT_TRUE(s.terminate_child("a").ok());
  journal_->fail_next_inits("a", 1);
  auto r = s.restart_child("a");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::init_failed);
  EXPECT_TRUE(pid_of(s, "a").is_nil());
  ASSERT_TRUE(s.restart_child("a").ok());
}

TEST_F(DynamicChildren, delete_child_only_when_terminated) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a"), worker("b")}));
  EXPECT_EQ(s.delete_child("a").error().code, sup::SupErrc::child_running);
  ASSERT_TRUE(s.terminate_child("a").ok());
  ASSERT_TRUE(s.delete_child("a").ok());
  EXPECT_EQ(ids_of(s), (Lines{"b"}));
  EXPECT_EQ(s.delete_child("a").error().code, sup::SupErrc::child_not_found);
  EXPECT_EQ(s.restart_child("a").error().code, sup::SupErrc::child_not_found);
  EXPECT_EQ(s.terminate_child("a").error().code, sup::SupErrc::child_not_found);
  // The id can be used again, now as the last child.
  ASSERT_TRUE(s.start_child(worker("a")).ok());
  EXPECT_EQ(ids_of(s), (Lines{"b", "a"}));
}

// ---- reports ---------------------------------------------------------------------

TEST_F(DynamicChildren, which_children_reports_each_child) {
  const double before = wall_now();
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a", {.restart = RestartType::transient}),
                                                     supervisor_child("sub", spec_of(Strategy::one_for_one, {}))}));
  auto kids = s.which_children().value();
  ASSERT_EQ(kids.size(), 2u);
  EXPECT_EQ(kids[0].id, "a");
  EXPECT_EQ(kids[0].behavior, "test_worker");
  EXPECT_EQ(kids[0].restart, RestartType::transient);
  EXPECT_FALSE(kids[0].is_supervisor);
  EXPECT_EQ(kids[0].restart_count, 0);
  EXPECT_GE(kids[0].started_at, before - 1);
  EXPECT_LE(kids[0].started_at, wall_now() + 1);
  EXPECT_EQ(kids[1].id, "sub");
  EXPECT_EQ(kids[1].behavior, "supervisor");
  EXPECT_TRUE(kids[1].is_supervisor);
  EXPECT_TRUE(node_->alive(kids[1].pid));
}

TEST_F(DynamicChildren, count_children_counts_workers_and_supervisors) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a"), worker("b"),
                                                     supervisor_child("sub", spec_of(Strategy::one_for_one, {}))}));
  ASSERT_TRUE(s.terminate_child("b").ok());
  auto c = s.count_children().value();
  EXPECT_EQ(c.specs, 3);
  EXPECT_EQ(c.active, 2);
  EXPECT_EQ(c.supervisors, 1);
  EXPECT_EQ(c.workers, 2);
}

TEST_F(DynamicChildren, stats_report_children_and_uptime) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a"), worker("b")}));
  crash_and_wait_restart(s, "b", 1);
  ASSERT_TRUE(s.terminate_child("a").ok());
  auto st = s.stats();
  EXPECT_TRUE(st.running);
  EXPECT_EQ(st.child_count, 2u);
  EXPECT_EQ(st.total_restarts, 1u);
  EXPECT_GT(st.uptime, 0.0);
  EXPECT_EQ(st.stop_reason, "");
  ASSERT_EQ(st.children.size(), 2u);
  EXPECT_EQ(st.children[0].id, "a");
  EXPECT_TRUE(st.children[0].pid.is_nil());
  EXPECT_EQ(st.children[0].uptime, 0.0);
  EXPECT_EQ(st.children[1].id, "b");
  EXPECT_EQ(st.children[1].pid, pid_of(s, "b"));
  EXPECT_GT(st.children[1].uptime, 0.0);
  EXPECT_EQ(st.children[1].restart_count, 1);
  EXPECT_EQ(st.children[1].last_error, "error std::runtime_error: boom");
  // Frozen after stop.
  ASSERT_TRUE(s.stop().ok());
  auto after = s.stats();
  EXPECT_FALSE(after.running);
  EXPECT_EQ(after.health, "stopped");
  EXPECT_EQ(after.total_restarts, 1u);
  EXPECT_GT(after.uptime, 0.0);
}

// ---- names ------------------------------------------------------------------------

TEST_F(DynamicChildren, named_child_is_registered_again_after_a_restart) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a", {.name = "alpha"})}));
  Pid first = pid_of(s, "a");
  ASSERT_EQ(node_->whereis("alpha"), first);
  crash_and_wait_restart(s, "a", 1);
  Pid second = pid_of(s, "a");
  EXPECT_NE(second, first);
  EXPECT_EQ(node_->whereis("alpha"), second);
  ASSERT_TRUE(s.terminate_child("a").ok());
  EXPECT_EQ(node_->whereis("alpha"), std::nullopt);
  ASSERT_TRUE(s.restart_child("a").ok());
  EXPECT_EQ(node_->whereis("alpha"), pid_of(s, "a"));
}

TEST_F(DynamicChildren, named_supervisor_is_registered_and_named_in_events) {
  auto spec = spec_of(Strategy::one_for_one, {worker("a")});
  spec.name = "top";
  auto s = start_sup(spec);
  EXPECT_EQ(node_->whereis("top"), s.pid());
  ASSERT_TRUE(wait_event("child_started", "a", 1, s.pid()));
  for (auto& e : events_of("", "", s.pid())) EXPECT_EQ(str_field(e, "supervisor"), "top") << e.type;
  // A second supervisor cannot take the name.
  auto dup = sup::start_supervisor(node_, spec);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Errc::duplicate_name);
  ASSERT_TRUE(s.stop().ok());
  EXPECT_EQ(node_->whereis("top"), std::nullopt);
}

TEST_F(DynamicChildren, unnamed_supervisor_is_labelled_by_its_pid) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {}));
  ASSERT_TRUE(wait_event("supervisor_started", "", 1, s.pid()));
  EXPECT_EQ(str_field(events_of("supervisor_started").at(0), "supervisor"), s.pid().to_string());
  EXPECT_EQ(str_field(events_of("supervisor_started").at(0), "strategy"), "one_for_one");
}

}  // namespace
}  // namespace noexpp::test
