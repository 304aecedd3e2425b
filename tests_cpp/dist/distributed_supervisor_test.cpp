// The distributed supervisor over real TCP on 127.0.0.1: placement by each
// selector, crash restarts on other nodes, migration after an abrupt node
// stop (not counted toward the intensity), no remote process left after
// terminate/stop, the lease (children stop when their supervisor's node
// goes), the epoch rule, and the pure selector table.
#include <noexpp/behavior_registry.hpp>
#include <noexpp/dist/distributed_supervisor.hpp>

#include <map>
#include <set>

#include "dist/child_leases.hpp"
#include "dist/lease.hpp"
#include "dist/placement.hpp"
#include "dist_test_support.hpp"

namespace noexpp::test {
namespace {

constexpr const char* kWorker = "dsup_test.worker";

/// call "node" -> its node id, "crash" -> raises, anything else -> echoed.
class Worker : public GenServer {
 public:
  CallReply handle_call(const Term& req, const From&) override {
    if (req.is("node")) return Term(node().id());
    if (req.is("crash")) throw std::runtime_error("asked to crash");
    return req;
  }
  std::string behavior_name() const override { return kWorker; }
};

struct Registered {
  Registered() { register_behavior<Worker>(kWorker); }
};
const Registered registered;

dist::DistributedChildSpec child(const std::string& id, std::optional<dist::NodeSelector> sel = std::nullopt) {
  dist::DistributedChildSpec c;
  c.id = id;
  c.behavior_name = kWorker;
  c.node_selector = std::move(sel);
  return c;
}

dist::NodeSelector on(const std::string& node) {
  dist::NodeSelector s;
  s.kind = dist::NodeSelector::Kind::node;
  s.node = node;
  return s;
}

class DistributedSupervisorTest : public DistTest {
 protected:
  /// Three connected nodes.
  void SetUp() override {
    DistTest::SetUp();
    a = make_cluster_node("dsa");
    b = make_cluster_node("dsb", {a->id()});
    c = make_cluster_node("dsc", {a->id()});
    ASSERT_TRUE(wait_members_up(*a, {b->id(), c->id()}));
    ASSERT_TRUE(wait_members_up(*b, {a->id(), c->id()}));
    ASSERT_TRUE(wait_members_up(*c, {a->id(), b->id()}));
  }

  /// Records the lifecycle events of `node`.
  std::shared_ptr<Recorder<LifecycleEvent>> watch_events(Node& node) {
    auto log = std::make_shared<Recorder<LifecycleEvent>>();
    node.events().subscribe([log](const LifecycleEvent& e) { log->push(e); });
    return log;
  }

  static std::string node_of(Node& from, Pid pid) {
    auto o = from.call(pid, "node", 5s);
    return o.ok() && o.value.is_string() ? o.value.as_string() : "";
  }

  static std::size_t workers_on(Node& n) {
    std::size_t count = 0;
    for (auto& p : n.processes()) count += p.behavior == kWorker ? 1 : 0;
    return count;
  }

  std::shared_ptr<Node> a, b, c;
};

TEST_F(DistributedSupervisorTest, round_robin_places_children_on_every_node_in_turn) {
  dist::DistributedSupervisorSpec spec;
  spec.node_selector.kind = dist::NodeSelector::Kind::round_robin;
  for (auto id : {"w1", "w2", "w3"}) spec.children.push_back(child(id));
  auto sup = dist::start_distributed_supervisor(a, spec);
  ASSERT_TRUE(sup.ok()) << sup.error().detail;
  auto kids = sup.value().which_children(kWait);
  ASSERT_TRUE(kids.ok());
  std::set<std::string> nodes;
  for (auto& k : kids.value()) {
    EXPECT_EQ(node_of(*a, k.pid), k.node_id);
    nodes.insert(k.node_id);
  }
  EXPECT_EQ(nodes, (std::set<std::string>{a->id(), b->id(), c->id()}));
  EXPECT_TRUE(sup.value().stop(kWait).ok());
}

TEST_F(DistributedSupervisorTest, a_crash_on_another_node_is_restarted_there_by_its_selector_and_counted) {
  dist::DistributedSupervisorSpec spec;
  spec.children.push_back(child("w", on(b->id())));
  auto events = watch_events(*a);
  auto sup = dist::start_distributed_supervisor(a, spec);
  ASSERT_TRUE(sup.ok()) << sup.error().detail;
  const Pid first = sup.value().which_children(kWait).value().at(0).pid;
  EXPECT_FALSE(a->call(first, "crash", 5s).ok());
  ASSERT_TRUE(events->wait_until([](auto& es) {
    return std::any_of(es.begin(), es.end(), [](auto& e) { return e.type == "child_restarted"; });
  }));
  auto kids = sup.value().which_children(kWait).value();
  ASSERT_EQ(kids.size(), 1u);
  EXPECT_NE(kids[0].pid, first);
  EXPECT_EQ(kids[0].node_id, b->id());
  EXPECT_EQ(kids[0].restart_count, 1);
  auto stats = sup.value().stats(kWait);
  EXPECT_EQ(stats.total_restarts, 1u);
  EXPECT_EQ(stats.node_failure_restarts, 0u);
  EXPECT_TRUE(sup.value().stop(kWait).ok());
}

TEST_F(DistributedSupervisorTest, a_child_pinned_to_a_node_that_dies_finds_no_live_node_and_the_supervisor_gives_up) {
  dist::DistributedSupervisorSpec spec;
  spec.max_restarts = 1;
  spec.lease = 300ms;
  spec.children.push_back(child("pinned", on(b->id())));
  auto events = watch_events(*a);
  auto sup = dist::start_distributed_supervisor(a, spec);
  ASSERT_TRUE(sup.ok()) << sup.error().detail;
  b->abort();
  ASSERT_TRUE(events->wait_until([](auto& es) {
    return std::any_of(es.begin(), es.end(), [](auto& e) { return e.type == "supervisor_stopped"; });
  }));
  std::vector<std::string> types;
  for (auto& e : events->snapshot()) types.push_back(e.type);
  EXPECT_NE(std::find(types.begin(), types.end(), "node_failure_detected"), types.end());
  EXPECT_NE(std::find(types.begin(), types.end(), "child_start_failed"), types.end());
  auto stats = sup.value().stats(kWait);
  EXPECT_FALSE(stats.running);
  EXPECT_NE(stats.stop_reason.find("no live node for child 'pinned'"), std::string::npos) << stats.stop_reason;
}

TEST_F(DistributedSupervisorTest, a_lost_childs_replacement_starts_after_the_lease_on_a_live_node_with_child_migrated) {
  dist::DistributedSupervisorSpec spec;
  spec.max_restarts = 0;  // a counted restart would end the supervisor
  spec.lease = 300ms;
  spec.node_selector.kind = dist::NodeSelector::Kind::round_robin;
  for (auto id : {"w1", "w2", "w3"}) spec.children.push_back(child(id));  // a, b, c in turn
  auto events = watch_events(*a);
  auto sup = dist::start_distributed_supervisor(a, spec);
  ASSERT_TRUE(sup.ok()) << sup.error().detail;
  auto before = sup.value().which_children(kWait).value();
  ASSERT_EQ(before[1].node_id, b->id());
  const auto t0 = std::chrono::steady_clock::now();
  b->abort();
  ASSERT_TRUE(events->wait_until([](auto& es) {
    return std::any_of(es.begin(), es.end(), [](auto& e) { return e.type == "child_migrated"; });
  }));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, dist::reclaim_wait(spec.lease));
  auto after = sup.value().which_children(kWait).value();
  ASSERT_EQ(after.size(), 3u);
  EXPECT_NE(after[1].node_id, b->id());
  EXPECT_EQ(node_of(*a, after[1].pid), after[1].node_id);
  EXPECT_EQ(after[0].pid, before[0].pid);  // one_for_one: the others run on
  EXPECT_EQ(after[2].pid, before[2].pid);
  auto stats = sup.value().stats(kWait);
  EXPECT_TRUE(stats.running);
  EXPECT_EQ(stats.node_failure_restarts, 1u);
  for (auto& e : events->snapshot())
    if (e.type == "child_migrated") {
      EXPECT_EQ(map_string(e.fields, "child_id"), "w2");
      EXPECT_EQ(map_string(e.fields, "from_node"), b->id());
      EXPECT_EQ(map_string(e.fields, "to_node"), after[1].node_id);
    }
  EXPECT_TRUE(sup.value().stop(kWait).ok());
}

TEST_F(DistributedSupervisorTest, a_node_that_stops_gracefully_hands_its_children_over_without_counting_them) {
  dist::DistributedSupervisorSpec spec;
  spec.max_restarts = 0;  // a counted restart would end the supervisor
  spec.node_selector.kind = dist::NodeSelector::Kind::round_robin;
  for (auto id : {"w1", "w2", "w3", "w4", "w5", "w6"}) spec.children.push_back(child(id));
  auto events = watch_events(*a);
  auto sup = dist::start_distributed_supervisor(a, spec);
  ASSERT_TRUE(sup.ok()) << sup.error().detail;
  ASSERT_EQ(workers_on(*b), 2u);
  b->stop();
  ASSERT_TRUE(events->wait_until([](auto& es) {
    return std::count_if(es.begin(), es.end(), [](auto& e) { return e.type == "child_migrated"; }) == 2;
  }));
  auto stats = sup.value().stats(kWait);
  EXPECT_TRUE(stats.running) << stats.stop_reason;
  EXPECT_EQ(stats.node_failure_restarts, 2u);
  for (auto& k : sup.value().which_children(kWait).value()) EXPECT_NE(k.node_id, b->id());
  for (auto& e : events->snapshot()) {
    if (e.type != "child_migrated") continue;
    EXPECT_EQ(map_string(e.fields, "reason"), "node_leaving") << [&] {
      std::string all;
      for (auto& x : events->snapshot()) all += x.type + " " + x.fields.to_string() + "\n";
      return all;
    }();
  }
  EXPECT_TRUE(sup.value().stop(kWait).ok());
}

TEST_F(DistributedSupervisorTest, one_for_all_restarts_every_child_on_every_node_once_after_a_node_is_lost) {
  dist::DistributedSupervisorSpec spec;
  spec.strategy = sup::Strategy::one_for_all;
  spec.lease = 300ms;
  spec.max_restarts = 0;
  spec.node_selector.kind = dist::NodeSelector::Kind::round_robin;
  for (auto id : {"w1", "w2", "w3"}) spec.children.push_back(child(id));  // a, b, c
  auto events = watch_events(*a);
  auto sup = dist::start_distributed_supervisor(a, spec);
  ASSERT_TRUE(sup.ok()) << sup.error().detail;
  auto before = sup.value().which_children(kWait).value();
  c->abort();
  ASSERT_TRUE(events->wait_until([](auto& es) {
    return std::count_if(es.begin(), es.end(), [](auto& e) { return e.type == "child_restarted"; }) == 3;
  }));
  auto after = sup.value().which_children(kWait).value();
  ASSERT_EQ(after.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_NE(after[i].pid, before[i].pid);
    EXPECT_EQ(after[i].restart_count, 1);
    EXPECT_NE(after[i].node_id, c->id());
  }
  // Started again in start order.
  std::vector<std::string> order;
  for (auto& e : events->snapshot())
    if (e.type == "child_restarted") order.push_back(map_string(e.fields, "child_id"));
  EXPECT_EQ(order, (std::vector<std::string>{"w1", "w2", "w3"}));
  EXPECT_TRUE(sup.value().stats(kWait).running);
  EXPECT_TRUE(sup.value().stop(kWait).ok());
}

TEST_F(DistributedSupervisorTest, terminate_child_and_stop_leave_no_process_on_the_other_nodes) {
  dist::DistributedSupervisorSpec spec;
  spec.children.push_back(child("on_b", on(b->id())));
  spec.children.push_back(child("on_c", on(c->id())));
  auto sup = dist::start_distributed_supervisor(a, spec);
  ASSERT_TRUE(sup.ok()) << sup.error().detail;
  EXPECT_EQ(workers_on(*b), 1u);
  EXPECT_EQ(workers_on(*c), 1u);
  ASSERT_TRUE(sup.value().terminate_child("on_b", kWait).ok());
  EXPECT_TRUE(poll_until([&] { return workers_on(*b) == 0; }));
  ASSERT_TRUE(sup.value().restart_child("on_b", kWait).ok());
  EXPECT_EQ(workers_on(*b), 1u);
  ASSERT_TRUE(sup.value().stop(kWait).ok());
  EXPECT_TRUE(poll_until([&] { return workers_on(*b) == 0 && workers_on(*c) == 0; }));
}

TEST_F(DistributedSupervisorTest, the_children_of_a_supervisor_whose_node_dies_stop_within_the_lease) {
  dist::DistributedSupervisorSpec spec;
  spec.lease = 300ms;
  spec.children.push_back(child("on_b", on(b->id())));
  spec.children.push_back(child("on_c", on(c->id())));
  auto sup = dist::start_distributed_supervisor(a, spec);
  ASSERT_TRUE(sup.ok()) << sup.error().detail;
  ASSERT_EQ(workers_on(*b) + workers_on(*c), 2u);
  a->abort();
  EXPECT_TRUE(poll_until([&] { return workers_on(*b) == 0 && workers_on(*c) == 0; }));
}

TEST_F(DistributedSupervisorTest, a_child_cut_off_by_a_partition_stops_within_the_lease_and_runs_once_after_the_heal) {
  dist::DistributedSupervisorSpec spec;
  spec.lease = 200ms;
  spec.max_restarts = 0;  // the loss must not count
  spec.children.push_back(child("w", on(b->id())));
  auto events = watch_events(*a);
  auto sup = dist::start_distributed_supervisor(a, spec);
  ASSERT_TRUE(sup.ok()) << sup.error().detail;
  ASSERT_EQ(workers_on(*b), 1u);
  // Nothing arrives either way; the links hold until failure detection.
  cluster::cluster_of(*a)->set_partitioned(b->id(), true);
  cluster::cluster_of(*b)->set_partitioned(a->id(), true);
  EXPECT_TRUE(poll_until([&] { return workers_on(*b) == 0; }));
  cluster::cluster_of(*a)->heal_all();
  cluster::cluster_of(*b)->heal_all();
  // The supervisor learns of the loss as a node down and places it again.
  ASSERT_TRUE(events->wait_until([](auto& es) {
    return std::any_of(es.begin(), es.end(), [](auto& e) { return e.type == "child_migrated"; });
  }));
  EXPECT_EQ(workers_on(*a) + workers_on(*b) + workers_on(*c), 1u);
  auto stats = sup.value().stats(kWait);
  EXPECT_TRUE(stats.running) << stats.stop_reason;
  EXPECT_EQ(stats.node_failure_restarts, 1u);
}

TEST_F(DistributedSupervisorTest, a_behavior_missing_on_the_chosen_node_is_a_typed_error_naming_it) {
  dist::DistributedSupervisorSpec spec;
  auto sup = dist::start_distributed_supervisor(a, spec);
  ASSERT_TRUE(sup.ok());
  auto missing = child("m", on(b->id()));
  missing.behavior_name = "dsup_test.not_registered";
  auto r = sup.value().start_child(missing, kWait);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::behavior_not_found);
  EXPECT_NE(r.error().detail.find(b->id()), std::string::npos) << r.error().detail;
  auto nowhere = sup.value().start_child(child("n", on("nobody@127.0.0.1:1")), kWait);
  ASSERT_FALSE(nowhere.ok());
  EXPECT_EQ(nowhere.error().code, sup::SupErrc::no_available_node);
  EXPECT_EQ(sup.value().which_children(kWait).value().size(), 0u);
  EXPECT_TRUE(sup.value().stop(kWait).ok());
}

TEST_F(DistributedSupervisorTest, a_static_child_that_cannot_be_placed_fails_the_start_with_its_own_error) {
  dist::DistributedSupervisorSpec spec;
  spec.children.push_back(child("fine", on(b->id())));
  auto missing = child("m", on(b->id()));
  missing.behavior_name = "dsup_test.not_registered";
  spec.children.push_back(missing);
  auto r = dist::start_distributed_supervisor(a, spec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::behavior_not_found);
  EXPECT_NE(r.error().detail.find("child 'm'"), std::string::npos) << r.error().detail;
  EXPECT_NE(r.error().detail.find(b->id()), std::string::npos) << r.error().detail;
  // The child started before it was stopped again.
  EXPECT_TRUE(poll_until([&] { return workers_on(*b) == 0; }));

  dist::DistributedSupervisorSpec nowhere;
  nowhere.children.push_back(child("n", on("nobody@127.0.0.1:1")));
  auto none = dist::start_distributed_supervisor(a, nowhere);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, sup::SupErrc::no_available_node);
}

TEST_F(DistributedSupervisorTest, a_nested_distributed_supervisor_that_gives_up_escalates_to_its_parent) {
  dist::DistributedSupervisorSpec inner;
  inner.max_restarts = 0;  // its first crash ends it
  inner.children.push_back(child("w", on(b->id())));
  auto nested = dist::supervisor_child("placed", inner);
  ASSERT_TRUE(nested.ok()) << nested.error().detail;
  sup::SupervisorSpec outer;
  outer.max_restarts = 1;
  outer.children.push_back(nested.value());
  auto parent = sup::start_supervisor(a, outer);
  ASSERT_TRUE(parent.ok()) << parent.error().detail;
  auto crash_the_worker = [&] {
    auto inner_handle = parent.value().child_supervisor("placed", kWait);
    ASSERT_TRUE(inner_handle.ok()) << inner_handle.error().detail;
    auto kids = inner_handle.value().which_children(kWait).value();
    ASSERT_EQ(kids.size(), 1u);
    EXPECT_EQ(kids[0].node_id, b->id());
    EXPECT_FALSE(a->call(kids[0].pid, "crash", 5s).ok());
  };
  // The inner supervisor gives up; the parent restarts it (counted), which
  // places its worker on b again.
  crash_the_worker();
  ASSERT_TRUE(poll_until([&] {
    auto kids = parent.value().which_children(kWait);
    return kids.ok() && kids.value().at(0).restart_count == 1 && !kids.value().at(0).pid.is_nil();
  }));
  EXPECT_TRUE(poll_until([&] { return workers_on(*b) == 1; }));
  // Again: now the parent is over its own intensity and gives up too.
  crash_the_worker();
  EXPECT_TRUE(poll_until([&] { return !parent.value().running(); }));
  auto stats = parent.value().stats(kWait);
  EXPECT_TRUE(stats.stop_error) << stats.stop_reason;
  EXPECT_TRUE(poll_until([&] { return workers_on(*b) == 0; }));
}

TEST_F(DistributedSupervisorTest, a_distributed_supervisor_nested_or_not_on_a_node_without_a_cluster_fails_the_start) {
  auto plain = Node::create(NodeOptions{.name = "plain", .threads = 1});
  plain->start();
  auto nested = dist::supervisor_child("placed", dist::DistributedSupervisorSpec{});
  ASSERT_TRUE(nested.ok());
  sup::SupervisorSpec outer;
  outer.children.push_back(nested.value());
  auto r = sup::start_supervisor(plain, outer);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("takes part in no cluster"), std::string::npos) << r.error().detail;
  auto top = dist::start_distributed_supervisor(plain, dist::DistributedSupervisorSpec{});
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.error().code, Errc::invalid_argument);
  EXPECT_NE(top.error().detail.find("takes part in no cluster"), std::string::npos) << top.error().detail;
  plain->stop();
}

TEST_F(DistributedSupervisorTest, a_start_of_an_older_epoch_is_refused_and_a_newer_one_kills_the_older_copy) {
  auto* leases = dynamic_cast<dist::ChildLeases*>(b->module("child_leases"));
  ASSERT_NE(leases, nullptr);
  auto holder = a->spawn([] { return std::make_unique<Worker>(); }, Term());  // stands in for a supervisor on a
  ASSERT_TRUE(holder.ok());
  const dist::ChildLeases::ChildOf of{holder.value(), 7, "w"};
  ASSERT_TRUE(leases->admit(of, 5).ok());
  auto copy = b->spawn([] { return std::make_unique<Worker>(); }, Term());
  ASSERT_TRUE(copy.ok());
  leases->hold(of, 5, copy.value(), 10s);
  EXPECT_EQ(leases->held(), 1u);
  auto stale = leases->admit(of, 4);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::invalid_argument);
  EXPECT_NE(stale.error().detail.find("stale start"), std::string::npos);
  EXPECT_TRUE(b->alive(copy.value()));
  ASSERT_TRUE(leases->admit(of, 6).ok());
  EXPECT_TRUE(poll_until([&] { return !b->alive(copy.value()); }));
}

// ---- the selectors, as a table ---------------------------------------------------

cluster::MemberInfo member(const std::string& id, std::int64_t processes = -1) {
  cluster::MemberInfo m;
  m.id = id;
  m.status = "up";
  m.process_count = processes;
  return m;
}

TEST(NodeSelectorTable, each_selector_picks_as_documented) {
  const std::vector<cluster::MemberInfo> nodes{member("a", 10), member("b", 3), member("c")};
  std::uint64_t turn = 0;
  auto pick = [&](dist::NodeSelector s, bool here_has_it = true, double r = 0.0) {
    auto out = dist::pick_node(s, nodes, "a", here_has_it, "x", turn, r);
    return out.ok() ? out.value() : "error: " + out.error().detail;
  };
  using Kind = dist::NodeSelector::Kind;
  dist::NodeSelector s;
  EXPECT_EQ(pick(s), "a");
  EXPECT_EQ(pick(s, false), "b");  // not registered here: the first other node
  s.kind = Kind::round_robin;
  std::string turns;
  for (int i = 0; i < 4; ++i) turns += pick(s);
  EXPECT_EQ(turns, "abca");
  s.kind = Kind::least_loaded;
  EXPECT_EQ(pick(s), "b");  // c's count is unknown: ranked last
  s.kind = Kind::random;
  EXPECT_EQ(pick(s, true, 0.0), "a");
  EXPECT_EQ(pick(s, true, 0.99), "c");
  s = on("c");
  EXPECT_EQ(pick(s), "c");
  s = on("z");
  EXPECT_NE(pick(s).find("not a live member"), std::string::npos);
  s.kind = Kind::custom;
  s.choose = [](const std::vector<cluster::MemberInfo>& n, const std::string& id) { return n.back().id + id; };
  EXPECT_NE(pick(s).find("chose 'cx'"), std::string::npos);
  s.choose = [](const std::vector<cluster::MemberInfo>& n, const std::string&) { return n.back().id; };
  EXPECT_EQ(pick(s), "c");
}

TEST(LeaseTiming, the_reclaim_wait_covers_the_lease_drift_check_and_stop_margin) {
  EXPECT_GT(dist::reclaim_wait(1s), 1s + dist::lease::kCheckEvery);
  EXPECT_EQ(dist::reclaim_wait(1s), 1s + 50ms + dist::lease::kCheckEvery + dist::lease::kStopMargin);
}

}  // namespace
}  // namespace noexpp::test
