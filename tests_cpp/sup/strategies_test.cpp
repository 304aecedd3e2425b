// Strategies: which children a failure takes down and brings back, in which
// order (one_for_one, one_for_all, rest_for_one), and simple_one_for_one's
// dynamic children started from a template.
#include <set>

#include "sup_test_support.hpp"

namespace noexpp::test {
namespace {

class Strategies : public SupTest {
 protected:
  std::map<std::string, Pid> pids(Supervisor& s) {
    std::map<std::string, Pid> out;
    auto kids = s.which_children();
    if (kids)
      for (auto& k : kids.value()) out[k.id] = k.pid;
    return out;
  }
};

// ---- one_for_one -----------------------------------------------------------------

TEST_F(Strategies, one_for_one_restarts_only_the_failed_child) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a"), worker("b"), worker("c")}));
  auto before = pids(s);
  crash_and_wait_restart(s, "b", 1);
  auto after = pids(s);
  EXPECT_EQ(after["a"], before["a"]);
  EXPECT_NE(after["b"], before["b"]);
  EXPECT_EQ(after["c"], before["c"]);
  EXPECT_EQ(journal_->log.snapshot(), (Lines{"start a", "start b", "start c",
                                             "terminate b error std::runtime_error: boom", "start b"}));
  EXPECT_EQ(trace(s.pid()), (Lines{"supervisor_started", "child_started a", "child_started b", "child_started c",
                                   "child_stopped b", "child_restarted b"}));
}

// ---- one_for_all -----------------------------------------------------------------

TEST_F(Strategies, one_for_all_restarts_every_child_in_order) {
  auto s = start_sup(spec_of(Strategy::one_for_all, {worker("a"), worker("b"), worker("c")}));
  auto before = pids(s);
  crash_and_wait_restart(s, "c", 1);
  ASSERT_TRUE(wait_event("child_restarted", "", 3, s.pid()));
  auto after = pids(s);
  for (auto id : {"a", "b", "c"}) EXPECT_NE(after[id], before[id]) << id;
  // The failed child first, then the others newest first; all back in start order.
  EXPECT_EQ(trace(s.pid()), (Lines{"supervisor_started", "child_started a", "child_started b", "child_started c",
                                   "child_stopped c", "child_stopped b", "child_stopped a", "child_restarted a",
                                   "child_restarted b", "child_restarted c"}));
  EXPECT_EQ(journal_->log.snapshot(),
            (Lines{"start a", "start b", "start c", "terminate c error std::runtime_error: boom",
                   "terminate b shutdown", "terminate a shutdown", "start a", "start b", "start c"}));
  auto stopped = events_of("child_stopped", "a", s.pid());
  ASSERT_EQ(stopped.size(), 1u);
  EXPECT_EQ(str_field(stopped[0], "reason"), "shutdown");
  // One failure is one restart, however many children it brought back.
  EXPECT_EQ(s.stats().total_restarts, 1u);
  auto kids = s.which_children().value();
  for (auto& k : kids) EXPECT_EQ(k.restart_count, 1) << k.id;
}

TEST_F(Strategies, one_for_all_forgets_temporary_siblings) {
  auto s = start_sup(spec_of(Strategy::one_for_all,
                             {worker("a"), worker("tmp", {.restart = RestartType::temporary}), worker("c")}));
  crash_and_wait_restart(s, "c", 1);
  ASSERT_TRUE(wait_event("child_restarted", "a", 1, s.pid()));
  EXPECT_EQ(ids_of(s), (Lines{"a", "c"}));
  EXPECT_EQ(journal_->count("start tmp"), 1u);
  EXPECT_EQ(journal_->count("terminate tmp shutdown"), 1u);
}

TEST_F(Strategies, one_for_all_transient_normal_exit_restarts_nobody) {
  auto s = start_sup(spec_of(Strategy::one_for_all,
                             {worker("a"), worker("t", {.restart = RestartType::transient}), worker("c")}));
  auto before = pids(s);
  node_->cast(before["t"], "stop_normal");
  ASSERT_TRUE(wait_event("child_stopped", "t", 1, s.pid()));
  auto after = pids(s);
  EXPECT_EQ(after["a"], before["a"]);
  EXPECT_TRUE(after["t"].is_nil());
  EXPECT_EQ(after["c"], before["c"]);
  EXPECT_EQ(s.stats().total_restarts, 0u);
}

// ---- rest_for_one ----------------------------------------------------------------

TEST_F(Strategies, rest_for_one_restarts_the_failed_and_later_children) {
  auto s = start_sup(spec_of(Strategy::rest_for_one, {worker("a"), worker("b"), worker("c"), worker("d")}));
  auto before = pids(s);
  crash_and_wait_restart(s, "b", 1);
  ASSERT_TRUE(wait_event("child_restarted", "d", 1, s.pid()));
  auto after = pids(s);
  EXPECT_EQ(after["a"], before["a"]);
  for (auto id : {"b", "c", "d"}) EXPECT_NE(after[id], before[id]) << id;
  EXPECT_EQ(trace(s.pid()),
            (Lines{"supervisor_started", "child_started a", "child_started b", "child_started c", "child_started d",
                   "child_stopped b", "child_stopped d", "child_stopped c", "child_restarted b", "child_restarted c",
                   "child_restarted d"}));
  EXPECT_EQ(journal_->lines("terminate"), (Lines{"terminate b error std::runtime_error: boom",
                                                 "terminate d shutdown", "terminate c shutdown"}));
  EXPECT_EQ(journal_->count("start a"), 1u);
}

TEST_F(Strategies, rest_for_one_last_child_restarts_alone) {
  auto s = start_sup(spec_of(Strategy::rest_for_one, {worker("a"), worker("b"), worker("c")}));
  auto before = pids(s);
  crash_and_wait_restart(s, "c", 1);
  auto after = pids(s);
  EXPECT_EQ(after["a"], before["a"]);
  EXPECT_EQ(after["b"], before["b"]);
  EXPECT_NE(after["c"], before["c"]);
  EXPECT_EQ(events_of("child_restarted", "", s.pid()).size(), 1u);
}

TEST_F(Strategies, rest_for_one_first_child_restarts_all) {
  auto s = start_sup(spec_of(Strategy::rest_for_one, {worker("a"), worker("b"), worker("c")}));
  crash_and_wait_restart(s, "a", 1);
  ASSERT_TRUE(wait_event("child_restarted", "c", 1, s.pid()));
  EXPECT_EQ(journal_->lines("start"), (Lines{"start a", "start b", "start c", "start a", "start b", "start c"}));
}

// ---- simple_one_for_one -----------------------------------------------------------

class SimpleOneForOne : public SupTest {
 protected:
  SupervisorSpec sofo(WorkerOpts o = {}) {
    o.args = Term::list({"base"});
    SupervisorSpec spec = spec_of(Strategy::simple_one_for_one, {});
    spec.child_template = worker("w", o);
    return spec;
  }
  Pid add(Supervisor& s, Term extra) {
    auto r = s.start_child(std::move(extra));
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    return r.ok() ? r.value() : Pid{};
  }
};

TEST_F(SimpleOneForOne, start_child_appends_args_to_the_template) {
  auto s = start_sup(sofo());
  Pid p1 = add(s, Term::list({1, 2}));
  Pid p2 = add(s, Term(7));
  Pid p3 = add(s, Term());
  Pid p4 = add(s, Term::tuple({"x"}));
  EXPECT_EQ(node_->call(p1, "args").value, Term::list({"base", 1, 2}));
  EXPECT_EQ(node_->call(p2, "args").value, Term::list({"base", 7}));
  EXPECT_EQ(node_->call(p3, "args").value, Term::list({"base"}));
  EXPECT_EQ(node_->call(p4, "args").value, Term::list({"base", "x"}));
  auto kids = s.which_children().value();
  ASSERT_EQ(kids.size(), 4u);
  for (auto& k : kids) EXPECT_EQ(k.id, "w");  // all share the template's id
  EXPECT_EQ(kids[0].pid, p1);
  EXPECT_EQ(kids[3].pid, p4);
  auto counts = s.count_children().value();
  EXPECT_EQ(counts.specs, 1);  // one spec, the template (OTP)
  EXPECT_EQ(counts.active, 4);
  EXPECT_EQ(counts.workers, 4);
  EXPECT_TRUE(wait_event("child_started", "w", 4, s.pid()));
}

TEST_F(SimpleOneForOne, crashed_child_restarts_with_its_own_args) {
  auto s = start_sup(sofo());
  Pid p1 = add(s, Term::list({1}));
  Pid p2 = add(s, Term::list({2}));
  node_->cast(p2, "crash");
  ASSERT_TRUE(wait_event("child_restarted", "w", 1, s.pid()));
  auto kids = s.which_children().value();
  ASSERT_EQ(kids.size(), 2u);
  EXPECT_EQ(kids[0].pid, p1);
  EXPECT_NE(kids[1].pid, p2);
  EXPECT_EQ(kids[1].restart_count, 1);
  EXPECT_EQ(node_->call(kids[1].pid, "args").value, Term::list({"base", 2}));
  EXPECT_EQ(field(events_of("child_restarted", "w", s.pid()).at(0), "pid"), Term(kids[1].pid));
}

TEST_F(SimpleOneForOne, terminate_child_by_pid_forgets_it) {
  auto s = start_sup(sofo());
  Pid p1 = add(s, Term::list({1}));
  Pid p2 = add(s, Term::list({2}));
  auto r = s.terminate_child(p1);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_FALSE(node_->alive(p1));
  auto kids = s.which_children().value();
  ASSERT_EQ(kids.size(), 1u);
  EXPECT_EQ(kids[0].pid, p2);
  EXPECT_EQ(journal_->lines("terminate"), (Lines{"terminate w shutdown"}));
  EXPECT_TRUE(s.terminate_child(p1).ok());  // terminated already: OTP answers ok
  EXPECT_EQ(s.terminate_child(s.pid()).error().code, sup::SupErrc::child_not_found);  // alive, not a child
  EXPECT_EQ(s.stats().total_restarts, 0u);
}

TEST_F(SimpleOneForOne, transient_child_exiting_normally_is_forgotten) {
  auto s = start_sup(sofo({.restart = RestartType::transient}));
  Pid p1 = add(s, Term::list({1}));
  add(s, Term::list({2}));
  node_->cast(p1, "stop_normal");
  ASSERT_TRUE(wait_event("child_stopped", "w", 1, s.pid()));
  EXPECT_EQ(s.count_children().value().specs, 1);
  EXPECT_EQ(s.stats().total_restarts, 0u);
}

TEST_F(SimpleOneForOne, temporary_crash_is_forgotten) {
  auto s = start_sup(sofo({.restart = RestartType::temporary}));
  Pid p1 = add(s, Term::list({1}));
  node_->cast(p1, "crash");
  ASSERT_TRUE(wait_event("child_stopped", "w", 1, s.pid()));
  auto counts = s.count_children().value();
  EXPECT_EQ(counts.workers, 0);
  EXPECT_EQ(counts.active, 0);
}

TEST_F(SimpleOneForOne, stop_stops_every_child) {
  auto s = start_sup(sofo());
  for (int i = 0; i < 5; ++i) add(s, Term::list({i}));
  ASSERT_TRUE(s.stop().ok());
  EXPECT_FALSE(s.running());
  EXPECT_EQ(journal_->lines("terminate"), Lines(5, "terminate w shutdown"));
  ASSERT_TRUE(wait_stopped(s.pid()));
  EXPECT_EQ(events_of("child_stopped", "w", s.pid()).size(), 5u);
}

TEST_F(SimpleOneForOne, failing_init_is_an_error_and_not_kept) {
  auto s = start_sup(sofo());
  add(s, Term::list({1}));
  journal_->fail_next_inits("w", 1);
  auto r = s.start_child(Term::list({2}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::init_failed);
  EXPECT_NE(r.error().detail.find("init refused"), std::string::npos) << r.error().detail;
  EXPECT_EQ(s.count_children().value().specs, 1);
  EXPECT_TRUE(s.running());
}

TEST_F(SimpleOneForOne, rejects_static_children) {
  auto spec = sofo();
  spec.children.push_back(worker("static"));
  auto r = sup::start_supervisor(node_, spec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, sup::SupErrc::invalid_simple_one_for_one);
  EXPECT_EQ(journal_->count("start static"), 0u);
}

TEST_F(SimpleOneForOne, needs_a_child_template) {
  auto r = sup::start_supervisor(node_, spec_of(Strategy::simple_one_for_one, {}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, sup::SupErrc::missing_child_template);
  EXPECT_EQ(node_->process_count(), 0u);
}

TEST_F(SimpleOneForOne, rejects_operations_by_id_and_child_specs) {
  auto s = start_sup(sofo());
  add(s, Term::list({1}));
  EXPECT_EQ(s.terminate_child("w").error().code, sup::SupErrc::invalid_simple_one_for_one);
  EXPECT_EQ(s.restart_child("w").error().code, sup::SupErrc::invalid_simple_one_for_one);
  EXPECT_EQ(s.delete_child("w").error().code, sup::SupErrc::invalid_simple_one_for_one);
  EXPECT_EQ(s.start_child(worker("x")).error().code, sup::SupErrc::invalid_simple_one_for_one);
  EXPECT_EQ(s.count_children().value().specs, 1);
}

TEST_F(Strategies, start_child_with_args_needs_simple_one_for_one) {
  auto s = start_sup(spec_of(Strategy::one_for_one, {worker("a")}));
  auto r = s.start_child(Term::list({1}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(ids_of(s), (Lines{"a"}));
}

}  // namespace
}  // namespace noexpp::test
