// The node: identity, process listing, and stopping (every process gets
// terminate(shutdown), newest first).
#include <algorithm>
#include <set>

#include "test_support.hpp"

namespace noexpp::test {
namespace {

struct Terminated {
  Pid pid;
  ExitReason reason;
};

Handlers recording_terminate(std::shared_ptr<Recorder<Terminated>> log) {
  Handlers h;
  h.terminate = [log](GenServer& self, const ExitReason& r) { log->push({self.self(), r}); };
  return h;
}

class NodeLifecycleTest : public NodeTest {};

TEST_F(NodeLifecycleTest, identity) {
  EXPECT_TRUE(node_->running());
  EXPECT_EQ(node_->id().rfind("core_test@127.0.0.1:", 0), 0u) << node_->id();
  Pid self = node_->node_pid();
  EXPECT_TRUE(self.is_node_itself());
  EXPECT_TRUE(node_->is_local(self));
  EXPECT_EQ(node_name(self.node), node_->id());
  EXPECT_EQ(node_->threads(), 2);
  EXPECT_FALSE(node_->on_engine_thread());
}

TEST_F(NodeLifecycleTest, incarnations_with_one_name_do_not_share_pids) {
  auto again = make_node(1, "core_test");
  EXPECT_EQ(again->node_pid().node, node_->node_pid().node);          // same name
  EXPECT_NE(again->node_pid().creation, node_->node_pid().creation);  // another incarnation
  Pid p = spawn_on(*again, fn_server({}));
  EXPECT_FALSE(node_->is_local(p));
  EXPECT_FALSE(node_->alive(p));
  EXPECT_TRUE(again->alive(p));
}

TEST_F(NodeLifecycleTest, processes_lists_what_runs) {
  SpawnOptions named;
  named.name = "db";
  Pid a = spawn(fn_server({}));
  Pid b = spawn(fn_server({}), {}, named);
  auto list = node_->processes();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(node_->process_count(), 2u);
  EXPECT_EQ(list[0].pid, a);
  EXPECT_EQ(list[0].name, "");
  EXPECT_EQ(list[1].pid, b);
  EXPECT_EQ(list[1].name, "db");
  for (auto& i : list) EXPECT_EQ(i.behavior, "fn_server");
  kill_and_wait(a);
  EXPECT_EQ(node_->process_count(), 1u);
}

TEST_F(NodeLifecycleTest, node_stop_stops_all_processes_calling_terminate) {
  auto log = std::make_shared<Recorder<Terminated>>();
  std::set<Pid> pids;
  for (int i = 0; i < 5; ++i) pids.insert(spawn(fn_server(recording_terminate(log))));
  node_->stop();
  EXPECT_FALSE(node_->running());
  EXPECT_EQ(node_->process_count(), 0u);
  auto v = log->snapshot();  // stop() returns after every terminate ran
  ASSERT_EQ(v.size(), 5u);
  std::set<Pid> stopped;
  for (auto& t : v) {
    EXPECT_EQ(t.reason, ExitReason::shutdown());
    stopped.insert(t.pid);
  }
  EXPECT_EQ(stopped, pids);
  node_->stop();  // idempotent
  EXPECT_EQ(log->size(), 5u);
}

TEST_F(NodeLifecycleTest, node_stop_terminates_newest_first) {
  // One engine thread, so that terminate order is the order of the requests.
  auto single = make_node(1, "stop_order");
  auto log = std::make_shared<Recorder<Terminated>>();
  std::vector<Pid> pids;
  for (int i = 0; i < 6; ++i) pids.push_back(spawn_on(*single, fn_server(recording_terminate(log))));
  single->stop();
  auto v = log->snapshot();
  ASSERT_EQ(v.size(), pids.size());
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i].pid, pids[pids.size() - 1 - i]) << i;
}

TEST_F(NodeLifecycleTest, node_stop_also_stops_trapping_and_busy_processes) {
  auto log = std::make_shared<Recorder<Terminated>>();
  auto h = recording_terminate(log);
  h.init = [](GenServer& self, const Term&) { self.trap_exit(true); };
  h.cast = [](GenServer& self, const Term&) { self.cast(self.self(), "more"); };  // always has work
  Pid p = spawn(fn_server(h));
  node_->cast(p, "start");
  node_->stop();
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ(log->snapshot()[0].reason, ExitReason::shutdown());
}

TEST_F(NodeLifecycleTest, destroying_a_running_node_stops_it) {
  NodeOptions o;
  o.name = "dropped";
  auto n = Node::create(o);
  n->start();
  auto log = std::make_shared<Recorder<Terminated>>();
  spawn_on(*n, fn_server(recording_terminate(log)));
  n.reset();  // no stop(): the destructor does it
  EXPECT_EQ(log->size(), 1u);
}

TEST_F(NodeLifecycleTest, set_log_level) {
  EXPECT_TRUE(set_log_level("error"));
  EXPECT_FALSE(set_log_level("loud"));
  EXPECT_TRUE(set_log_level("info"));
}

}  // namespace
}  // namespace noexpp::test
