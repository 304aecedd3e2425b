// Supervision trees: a supervisor as a child (ChildSpec::supervisor), three
// levels deep. Starting, restarting inside a level, escalation to the level
// above, and stopping the whole tree in reverse.
#include <future>

#include "sup_test_support.hpp"

namespace noexpp::test {
namespace {

class Nested : public SupTest {
 protected:
  /// root [w1, mid [w2, leaf [w3, w4]]], each level one_for_one.
  SupervisorSpec tree(int leaf_max = 10, int mid_max = 10, bool named = true) {
    auto leaf = spec_of(Strategy::one_for_one, {worker("w3"), worker("w4")}, leaf_max);
    auto mid = spec_of(Strategy::one_for_one, {worker("w2"), supervisor_child("leaf", leaf)}, mid_max);
    auto root = spec_of(Strategy::one_for_one, {worker("w1"), supervisor_child("mid", mid)});
    if (named) {
      leaf.name = "leaf_sup";
      mid.children[1] = supervisor_child("leaf", leaf);
      mid.name = "mid_sup";
      root.children[1] = supervisor_child("mid", mid);
      root.name = "root_sup";
    }
    return root;
  }
  /// The pid a supervisor last started child `id` with, from the events
  /// (waits for its first child_started to be delivered).
  Pid started_pid(Pid sup, const std::string& id) {
    Pid out;
    EXPECT_TRUE(wait_event("child_started", id, 1, sup)) << id;
    for (auto& e : events_of("", id, sup))
      if ((e.type == "child_started" || e.type == "child_restarted") && field(e, "pid").is_pid())
        out = field(e, "pid").as_pid();
    return out;
  }
  Pid where(const std::string& name) { return node_->whereis(name).value_or(Pid{}); }
};

TEST_F(Nested, depth_three_tree_starts_in_order) {
  auto root = start_sup(tree());
  EXPECT_EQ(journal_->lines("start"), (Lines{"start w1", "start w2", "start w3", "start w4"}));
  Pid mid = where("mid_sup");
  Pid leaf = where("leaf_sup");
  ASSERT_FALSE(mid.is_nil());
  ASSERT_FALSE(leaf.is_nil());
  EXPECT_EQ(pid_of(root, "mid"), mid);
  auto kids = root.which_children().value();
  ASSERT_EQ(kids.size(), 2u);
  EXPECT_FALSE(kids[0].is_supervisor);
  EXPECT_TRUE(kids[1].is_supervisor);
  EXPECT_EQ(kids[1].behavior, "supervisor");
  auto counts = root.count_children().value();
  EXPECT_EQ(counts.supervisors, 1);
  EXPECT_EQ(counts.workers, 1);
  EXPECT_EQ(node_->process_count(), 7u);

  ASSERT_TRUE(wait_event("child_started", "mid", 1, root.pid()));
  Lines started;
  for (auto& e : events_of("supervisor_started")) started.push_back(str_field(e, "supervisor"));
  EXPECT_EQ(started, (Lines{"root_sup", "mid_sup", "leaf_sup"}));
  EXPECT_EQ(trace(mid), (Lines{"supervisor_started", "child_started w2", "child_started leaf"}));
  EXPECT_EQ(started_pid(mid, "leaf"), leaf);
}

TEST_F(Nested, child_supervisor_hands_out_a_working_handle) {
  auto root = start_sup(tree());
  auto mid = root.child_supervisor("mid");
  ASSERT_TRUE(mid.ok()) << mid.error().to_string();
  EXPECT_EQ(mid.value().pid(), where("mid_sup"));
  auto leaf = mid.value().child_supervisor("leaf");
  ASSERT_TRUE(leaf.ok());
  ASSERT_TRUE(leaf.value().terminate_child("w4").ok());
  auto kids = leaf.value().which_children().value();
  ASSERT_EQ(kids.size(), 2u);
  EXPECT_TRUE(kids[1].pid.is_nil());
  EXPECT_EQ(root.child_supervisor("w1").error().code, Errc::invalid_argument);
  EXPECT_EQ(root.child_supervisor("nope").error().code, sup::SupErrc::child_not_found);
  ASSERT_TRUE(root.terminate_child("mid").ok());
  EXPECT_FALSE(mid.value().running());
  EXPECT_EQ(mid.value().which_children().error().code, sup::SupErrc::supervisor_not_running);
  EXPECT_EQ(root.child_supervisor("mid").error().code, sup::SupErrc::supervisor_not_running);
}

TEST_F(Nested, crash_in_the_leaf_is_handled_by_the_leaf) {
  auto root = start_sup(tree());
  Pid mid = where("mid_sup");
  Pid leaf = where("leaf_sup");
  Pid w3 = started_pid(leaf, "w3");
  Pid w4 = started_pid(leaf, "w4");
  node_->cast(w4, "crash");
  ASSERT_TRUE(wait_event("child_restarted", "w4", 1, leaf));
  EXPECT_NE(started_pid(leaf, "w4"), w4);
  EXPECT_EQ(started_pid(leaf, "w3"), w3);
  EXPECT_TRUE(node_->alive(w3));
  EXPECT_EQ(where("mid_sup"), mid);
  EXPECT_EQ(where("leaf_sup"), leaf);
  EXPECT_TRUE(events_of("child_restarted", "", mid).empty());
  EXPECT_TRUE(events_of("child_restarted", "", root.pid()).empty());
  EXPECT_EQ(root.stats().total_restarts, 0u);
}

TEST_F(Nested, leaf_giving_up_is_restarted_by_mid) {
  auto root = start_sup(tree(/*leaf_max=*/0));
  Pid mid = where("mid_sup");
  Pid leaf = where("leaf_sup");
  Pid w2 = started_pid(mid, "w2");
  node_->cast(started_pid(leaf, "w3"), "crash");
  ASSERT_TRUE(wait_event("child_restarted", "leaf", 1, mid));
  EXPECT_EQ(trace(leaf), (Lines{"supervisor_started", "child_started w3", "child_started w4", "child_stopped w3",
                                "restart_intensity_exceeded w3", "child_stopped w4", "supervisor_stopped"}));
  auto stopped = events_of("child_stopped", "leaf", mid);
  ASSERT_EQ(stopped.size(), 1u);
  EXPECT_EQ(str_field(stopped[0], "reason"), "shutdown");
  Pid leaf2 = where("leaf_sup");
  EXPECT_FALSE(leaf2.is_nil());
  EXPECT_NE(leaf2, leaf);
  EXPECT_EQ(started_pid(mid, "leaf"), leaf2);
  EXPECT_EQ(started_pid(mid, "w2"), w2);  // one_for_one: w2 untouched
  EXPECT_EQ(where("mid_sup"), mid);
  EXPECT_EQ(journal_->lines("start"), (Lines{"start w1", "start w2", "start w3", "start w4", "start w3", "start w4"}));
  EXPECT_TRUE(events_of("child_stopped", "", root.pid()).empty());
  EXPECT_EQ(node_->process_count(), 7u);
}

TEST_F(Nested, escalation_climbs_to_the_root) {
  // leaf and mid both give up at their first restart: root restarts mid,
  // which brings the whole subtree back.
  auto root = start_sup(tree(/*leaf_max=*/0, /*mid_max=*/0));
  Pid mid = where("mid_sup");
  Pid leaf = where("leaf_sup");
  Pid w1 = pid_of(root, "w1");
  node_->cast(started_pid(leaf, "w4"), "crash");
  ASSERT_TRUE(wait_event("child_restarted", "mid", 1, root.pid()));
  ASSERT_TRUE(wait_stopped(mid));
  EXPECT_EQ(trace(mid), (Lines{"supervisor_started", "child_started w2", "child_started leaf", "child_stopped leaf",
                               "restart_intensity_exceeded leaf", "child_stopped w2", "supervisor_stopped"}));
  EXPECT_EQ(str_field(events_of("supervisor_stopped", "", mid).at(0), "error"), "max_restarts_exceeded");
  EXPECT_EQ(str_field(events_of("child_stopped", "mid", root.pid()).at(0), "reason"), "shutdown");
  EXPECT_NE(where("mid_sup"), mid);
  EXPECT_NE(where("leaf_sup"), leaf);
  EXPECT_EQ(pid_of(root, "w1"), w1);
  EXPECT_EQ(journal_->lines("start"), (Lines{"start w1", "start w2", "start w3", "start w4", "start w2", "start w3",
                                             "start w4"}));
  EXPECT_EQ(journal_->lines("terminate"), (Lines{"terminate w4 error std::runtime_error: boom",
                                                 "terminate w3 shutdown", "terminate w2 shutdown"}));
  EXPECT_EQ(root.stats().total_restarts, 1u);
  EXPECT_EQ(node_->process_count(), 7u);
}

TEST_F(Nested, killed_mid_supervisor_takes_its_subtree_down_and_comes_back) {
  auto root = start_sup(tree(10, 10, /*named=*/false));
  Pid mid = pid_of(root, "mid");
  Pid w2 = started_pid(mid, "w2");
  Pid leaf = started_pid(mid, "leaf");
  Pid w3 = started_pid(leaf, "w3");
  ExitWatch w2_watch(*node_, w2), leaf_watch(*node_, leaf), w3_watch(*node_, w3);
  node_->kill(mid);
  ASSERT_TRUE(wait_event("child_restarted", "mid", 1, root.pid()));
  // Linked to the dead supervisor: a worker dies with it, a supervisor stops its own children first.
  ASSERT_TRUE(w2_watch.wait());
  EXPECT_EQ(*w2_watch.wait(), ExitReason::killed());
  ASSERT_TRUE(leaf_watch.wait());
  EXPECT_EQ(*leaf_watch.wait(), ExitReason::killed());
  ASSERT_TRUE(w3_watch.wait());
  EXPECT_EQ(*w3_watch.wait(), ExitReason::shutdown());
  ASSERT_TRUE(wait_stopped(leaf));
  EXPECT_NE(str_field(events_of("supervisor_stopped", "", leaf).at(0), "reason").find("parent exited"),
            std::string::npos);
  // The new subtree.
  Pid mid2 = pid_of(root, "mid");
  ASSERT_TRUE(wait_event("child_started", "leaf", 1, mid2));
  Pid leaf2 = started_pid(mid2, "leaf");
  ASSERT_TRUE(wait_event("child_started", "w4", 1, leaf2));
  EXPECT_TRUE(node_->alive(started_pid(leaf2, "w3")));
  EXPECT_TRUE(node_->alive(started_pid(leaf2, "w4")));
  EXPECT_EQ(node_->process_count(), 7u);
}

TEST_F(Nested, stopping_the_root_stops_the_tree_in_reverse) {
  auto root = start_sup(tree());
  Pid mid = where("mid_sup");
  Pid leaf = where("leaf_sup");
  ASSERT_TRUE(root.stop().ok());
  EXPECT_EQ(journal_->lines("terminate"), (Lines{"terminate w4 shutdown", "terminate w3 shutdown",
                                                 "terminate w2 shutdown", "terminate w1 shutdown"}));
  EXPECT_EQ(node_->process_count(), 0u);
  ASSERT_TRUE(wait_stopped(root.pid()));
  Lines stopped;
  for (auto& e : events_of("supervisor_stopped")) stopped.push_back(str_field(e, "supervisor"));
  EXPECT_EQ(stopped, (Lines{"leaf_sup", "mid_sup", "root_sup"}));
  EXPECT_EQ(trace(mid), (Lines{"supervisor_started", "child_started w2", "child_started leaf", "child_stopped leaf",
                               "child_stopped w2", "supervisor_stopped"}));
  EXPECT_EQ(str_field(events_of("supervisor_stopped", "", leaf).at(0), "reason"), "parent exited: shutdown");
}

TEST_F(Nested, nested_supervisor_waits_for_its_children_by_default) {
  // A supervisor child's shutdown time is infinity: its parent waits for the
  // whole subtree, however long a worker's terminate takes within its own time.
  auto gate = std::make_shared<Event>();
  auto leaf = spec_of(Strategy::one_for_one, {worker("slow", {.shutdown = 60s, .terminate_gate = gate})});
  auto root = start_sup(spec_of(Strategy::one_for_one, {supervisor_child("leaf", leaf)}));
  auto stopping = std::async(std::launch::async, [root]() mutable { return root.stop(); });
  ASSERT_TRUE(journal_->wait_line("terminate slow shutdown"));
  EXPECT_EQ(stopping.wait_for(0s), std::future_status::timeout);
  gate->set();
  ASSERT_EQ(stopping.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(stopping.get().ok());
  ASSERT_TRUE(wait_event("child_stopped", "leaf"));
  EXPECT_EQ(str_field(events_of("child_stopped", "leaf").at(0), "reason"), "shutdown");
}

TEST_F(Nested, nested_start_failure_fails_the_whole_start) {
  journal_->fail_next_inits("w4", 1);
  auto r = sup::start_supervisor(node_, tree());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::init_failed);
  EXPECT_NE(r.error().detail.find("child 'mid'"), std::string::npos) << r.error().detail;
  EXPECT_EQ(journal_->log.snapshot(), (Lines{"start w1", "start w2", "start w3", "init_failed w4",
                                             "terminate w3 shutdown", "terminate w2 shutdown", "terminate w1 shutdown"}));
  EXPECT_EQ(node_->process_count(), 0u);
  EXPECT_EQ(node_->whereis("root_sup"), std::nullopt);
  EXPECT_EQ(node_->whereis("leaf_sup"), std::nullopt);
}

TEST_F(Nested, invalid_nested_spec_fails_the_start) {
  // A nested spec is checked like a top-level one before its supervisor runs.
  auto bad = spec_of(Strategy::one_for_one, {worker("x"), worker("x")});
  auto r = sup::start_supervisor(node_, spec_of(Strategy::one_for_one, {worker("w1"), supervisor_child("bad", bad)}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("duplicate child id 'x'"), std::string::npos) << r.error().detail;
  EXPECT_EQ(journal_->count("start x"), 0u);
  EXPECT_EQ(node_->process_count(), 0u);
}

TEST_F(Nested, invalid_nested_spec_is_refused_by_start_child) {
  auto root = start_sup(spec_of(Strategy::one_for_one, {worker("w1")}));
  auto bad = spec_of(Strategy::simple_one_for_one, {});  // no child_template
  auto r = root.start_child(supervisor_child("bad", bad));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ids_of(root), (Lines{"w1"}));
  EXPECT_EQ(node_->process_count(), 2u);
}

}  // namespace
}  // namespace noexpp::test
