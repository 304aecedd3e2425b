// dist::GlobalRegistry over real TCP on 127.0.0.1, three nodes (alpha has
// the smallest id, so it decides): register / whereis / unregister / names on
// every replica, removal when the process exits or its node aborts, the table
// synced to a node that joins later, concurrent registrations with exactly one
// winner, replicas agreeing after racing decisions, and a partition healed
// with the name on both sides (OnConflict::stop / keep / notify).
#include <noexpp/dist/global_registry.hpp>

#include <algorithm>
#include <array>
#include <thread>

#include "dist_test_support.hpp"

namespace noexpp::test {
namespace {

using Clock = std::chrono::steady_clock;
using dist::OnConflict;

std::string describe(const std::optional<Pid>& p) { return p ? p->to_string() : "none"; }

/// A process that answers "ping" with "pong", echoes other calls, exits on
/// cast "crash", and records every plain message it receives.
struct Owner {
  std::shared_ptr<Recorder<Term>> infos = std::make_shared<Recorder<Term>>();
  Pid pid;

  explicit Owner(Node& node) {
    Handlers h;
    h.call = [](GenServer&, const Term& req, const From&) -> CallReply {
      if (req.is("ping")) return Term("pong");
      return req;
    };
    h.cast = [](GenServer&, const Term& req) {
      if (req.is("crash")) throw std::runtime_error("crash requested");
    };
    h.info = [infos = infos](GenServer&, const Info& i) {
      if (i.kind == Info::Kind::message) infos->push(i.message);
    };
    auto r = node.spawn(fn_server(h), Term());
    EXPECT_TRUE(r.ok());
    pid = r.ok() ? r.value() : Pid{};
  }
};

class GlobalRegistryTest : public DistTest {
 protected:
  void SetUp() override {
    DistTest::SetUp();
    a_ = make_cluster_node("alpha");
    b_ = make_cluster_node("beta", {a_->id()});
    c_ = make_cluster_node("gamma", {a_->id()});
    ASSERT_TRUE(meshed({a_, b_, c_}));
    ASSERT_LT(a_->id(), b_->id());
    ASSERT_LT(b_->id(), c_->id());
  }

  static dist::GlobalRegistry& g(Node& n) { return *dist::global_registry(n); }

  static bool meshed(const std::vector<std::shared_ptr<Node>>& nodes) {
    return poll_until([&] {
      for (auto& n : nodes)
        for (auto& m : nodes)
          if (n != m && !cluster::cluster_of(*n)->node_pid(m->id())) return false;
      return true;
    });
  }

  /// Every node's replica maps `name` to `expected` (nullopt: absent), within kWait.
  static bool everywhere(const std::vector<std::shared_ptr<Node>>& nodes, const std::string& name,
                         std::optional<Pid> expected) {
    return poll_until([&] {
      for (auto& n : nodes)
        if (g(*n).whereis(name) != expected) return false;
      return true;
    });
  }

  static std::string replicas(const std::vector<std::shared_ptr<Node>>& nodes, const std::string& name) {
    std::string out;
    for (auto& n : nodes) out += n->id().substr(0, n->id().find('@')) + "=" + describe(g(*n).whereis(name)) + " ";
    return out;
  }

  std::vector<std::shared_ptr<Node>> trio() const { return {a_, b_, c_}; }

  /// Partitions [lone] | others and waits until both sides saw node_down.
  void split(const std::shared_ptr<Node>& lone, const std::vector<std::shared_ptr<Node>>& others) {
    auto lone_log = watch_membership(*lone);
    std::vector<std::shared_ptr<Recorder<MembershipEvent>>> logs;
    for (auto& o : others) logs.push_back(watch_membership(*o));
    for (auto& o : others) {
      cluster::cluster_of(*lone)->set_partitioned(o->id(), true);
      cluster::cluster_of(*o)->set_partitioned(lone->id(), true);
    }
    auto saw_down = [](Recorder<MembershipEvent>& log, const std::string& id) {
      return log.wait_until([&](const std::vector<MembershipEvent>& v) {
        return std::any_of(v.begin(), v.end(), [&](auto& e) { return e.type == "node_down" && e.node == id; });
      });
    };
    for (std::size_t i = 0; i < others.size(); ++i) {
      ASSERT_TRUE(saw_down(*lone_log, others[i]->id())) << lone->id() << " never saw " << others[i]->id() << " down";
      ASSERT_TRUE(saw_down(*logs[i], lone->id())) << others[i]->id() << " never saw " << lone->id() << " down";
    }
  }

  std::shared_ptr<Node> a_, b_, c_;
};

// ---- register, whereis, unregister, names ----------------------------------------------

TEST_F(GlobalRegistryTest, a_name_registered_on_one_node_resolves_to_a_usable_pid_on_every_node) {
  Owner owner(*b_);
  const auto name = unique_name("usable");
  const auto start = Clock::now();
  auto r = g(*b_).register_name(name, owner.pid, OnConflict::stop);  // decided by alpha
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r.value());
  ASSERT_TRUE(everywhere(trio(), name, owner.pid)) << replicas(trio(), name);
  const auto visible = Clock::now() - start;
  std::printf("global name visible on 3 nodes %.3f ms after register started\n",
              std::chrono::duration<double, std::milli>(visible).count());
  for (auto& n : trio()) {
    auto pid = g(*n).whereis(name);
    ASSERT_TRUE(pid.has_value());
    auto o = n->call(*pid, "ping", kWait);
    EXPECT_TRUE(o.ok() && o.value == Term("pong")) << n->id() << ": " << testing::PrintToString(o);
    auto names = g(*n).names();
    EXPECT_EQ(names, std::vector<std::string>{name});
    auto entries = g(*n).entries();
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].origin, b_->id());
    EXPECT_EQ(entries[0].on_conflict, OnConflict::stop);
  }
}

TEST_F(GlobalRegistryTest, unregister_from_any_node_removes_the_name_everywhere) {
  Owner owner(*b_), other(*c_);
  const auto name = unique_name("unreg");
  ASSERT_TRUE(g(*b_).register_name(name, owner.pid, OnConflict::stop).ok());
  ASSERT_TRUE(everywhere(trio(), name, owner.pid));
  // the same pid again is accepted, from any node
  EXPECT_TRUE(g(*c_).register_name(name, owner.pid, OnConflict::stop).ok());
  auto u = g(*c_).unregister_name(name);
  ASSERT_TRUE(u.ok()) << u.error().to_string();
  EXPECT_TRUE(u.value());
  EXPECT_TRUE(everywhere(trio(), name, std::nullopt)) << replicas(trio(), name);
  auto again = g(*a_).unregister_name(name);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again.value());
  EXPECT_TRUE(b_->alive(owner.pid));
  ASSERT_TRUE(g(*a_).register_name(name, other.pid, OnConflict::stop).ok());
  EXPECT_TRUE(everywhere(trio(), name, other.pid)) << replicas(trio(), name);
}

TEST_F(GlobalRegistryTest, registration_errors) {
  Owner owner(*a_), rival(*c_);
  const auto name = unique_name("taken");
  ASSERT_TRUE(g(*a_).register_name(name, owner.pid, OnConflict::stop).ok());
  ASSERT_TRUE(everywhere(trio(), name, owner.pid));
  for (auto& n : trio()) {
    auto r = g(*n).register_name(name, rival.pid, OnConflict::stop);
    ASSERT_FALSE(r.ok()) << n->id();
    EXPECT_EQ(r.error().code, Errc::duplicate_name) << r.error().to_string();
    EXPECT_NE(r.error().detail.find(name), std::string::npos) << r.error().detail;
  }
  EXPECT_TRUE(everywhere(trio(), name, owner.pid));

  Owner dead(*a_);
  {
    ExitWatch gone(*a_, dead.pid);
    a_->kill(dead.pid);
    ASSERT_TRUE(gone.wait().has_value());
  }
  auto r = g(*a_).register_name(unique_name("dead"), dead.pid, OnConflict::stop);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::no_process);
  auto empty = g(*a_).register_name("", owner.pid, OnConflict::stop);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, Errc::invalid_argument);
  auto nil = g(*a_).register_name(unique_name("nil"), Pid{}, OnConflict::stop);
  ASSERT_FALSE(nil.ok());
  EXPECT_EQ(nil.error().code, Errc::invalid_argument);
  auto node_itself = g(*a_).register_name(unique_name("node"), b_->node_pid(), OnConflict::stop);
  ASSERT_FALSE(node_itself.ok());
  EXPECT_EQ(node_itself.error().code, Errc::invalid_argument);
  EXPECT_EQ(g(*b_).names(), std::vector<std::string>{name});
}

TEST_F(GlobalRegistryTest, a_hidden_node_resolves_names_through_a_member) {
  // A tool's node is no member and holds no replica: it asks a member.
  auto opts = fast_options();
  opts.hidden = true;
  auto tool = make_cluster_node("tool", {}, opts);
  for (auto& n : trio()) ASSERT_TRUE(connect(*tool, *n));
  Owner owner(*b_), remote(*c_);
  const auto name = unique_name("seen-by-tool"), mine = unique_name("by-tool");
  ASSERT_TRUE(g(*b_).register_name(name, owner.pid, OnConflict::stop).ok());
  EXPECT_TRUE(poll_until([&] { return g(*tool).whereis(name) == owner.pid; }));
  EXPECT_EQ(g(*tool).names(), std::vector<std::string>{name});
  auto r = g(*tool).register_name(mine, remote.pid, OnConflict::stop);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(everywhere(trio(), mine, remote.pid)) << replicas(trio(), mine);
  auto dup = g(*tool).register_name(name, remote.pid, OnConflict::stop);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Errc::duplicate_name);
  c_->kill(remote.pid);
  EXPECT_TRUE(everywhere(trio(), mine, std::nullopt)) << replicas(trio(), mine);
  EXPECT_TRUE(poll_until([&] { return !g(*tool).whereis(mine); })) << "the tool still sees a dead process's name";
  auto u = g(*tool).unregister_name(name);
  ASSERT_TRUE(u.ok() && u.value());
  EXPECT_TRUE(everywhere(trio(), name, std::nullopt)) << replicas(trio(), name);
  EXPECT_TRUE(g(*tool).names().empty());
}

// ---- removal -----------------------------------------------------------------------------

TEST_F(GlobalRegistryTest, a_name_goes_away_everywhere_when_its_process_exits) {
  Owner stopped(*b_), crashed(*b_), killed(*c_);
  const auto n_stop = unique_name("stop"), n_crash = unique_name("crash"), n_kill = unique_name("kill");
  ASSERT_TRUE(g(*b_).register_name(n_stop, stopped.pid, OnConflict::stop).ok());
  ASSERT_TRUE(g(*a_).register_name(n_crash, crashed.pid, OnConflict::stop).ok());  // by another node
  ASSERT_TRUE(g(*a_).register_name(n_kill, killed.pid, OnConflict::stop).ok());    // a pid of gamma
  ASSERT_TRUE(everywhere(trio(), n_stop, stopped.pid));
  ASSERT_TRUE(everywhere(trio(), n_crash, crashed.pid));
  ASSERT_TRUE(everywhere(trio(), n_kill, killed.pid));

  ASSERT_TRUE(b_->stop_process(stopped.pid, ExitReason::normal(), kWait).ok());
  EXPECT_TRUE(everywhere(trio(), n_stop, std::nullopt)) << replicas(trio(), n_stop);
  b_->cast(crashed.pid, "crash");
  EXPECT_TRUE(everywhere(trio(), n_crash, std::nullopt)) << replicas(trio(), n_crash);
  c_->kill(killed.pid);
  EXPECT_TRUE(everywhere(trio(), n_kill, std::nullopt)) << replicas(trio(), n_kill);
  for (auto& n : trio()) EXPECT_TRUE(g(*n).names().empty()) << n->id();
}

TEST_F(GlobalRegistryTest, names_of_an_aborted_node_go_away_everywhere_and_the_next_member_decides) {
  Owner on_c(*c_), on_b(*b_);
  const auto n_c = unique_name("on-gamma"), n_b = unique_name("on-beta");
  ASSERT_TRUE(g(*a_).register_name(n_c, on_c.pid, OnConflict::stop).ok());
  ASSERT_TRUE(g(*a_).register_name(n_b, on_b.pid, OnConflict::stop).ok());
  ASSERT_TRUE(everywhere(trio(), n_c, on_c.pid));
  ASSERT_TRUE(everywhere(trio(), n_b, on_b.pid));

  c_->abort();
  EXPECT_TRUE(everywhere({a_, b_}, n_c, std::nullopt)) << replicas({a_, b_}, n_c);
  EXPECT_TRUE(everywhere({a_, b_}, n_b, on_b.pid));

  // the leader aborts: beta decides from now on
  Owner on_a(*a_);
  const auto n_a = unique_name("on-alpha");
  ASSERT_TRUE(g(*b_).register_name(n_a, on_a.pid, OnConflict::stop).ok());
  ASSERT_TRUE(everywhere({a_, b_}, n_a, on_a.pid));
  a_->abort();
  EXPECT_TRUE(everywhere({b_}, n_a, std::nullopt)) << replicas({b_}, n_a);
  EXPECT_EQ(g(*b_).names(), std::vector<std::string>{n_b});
  auto d = make_cluster_node("delta", {b_->id()});
  ASSERT_TRUE(meshed({b_, d}));
  Owner on_d(*d);
  const auto later = unique_name("later");
  auto r = g(*d).register_name(later, on_d.pid, OnConflict::stop);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(everywhere({b_, d}, later, on_d.pid)) << replicas({b_, d}, later);
  auto dup = g(*b_).register_name(later, on_b.pid, OnConflict::stop);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Errc::duplicate_name);
}

TEST_F(GlobalRegistryTest, a_node_that_joins_later_receives_the_table) {
  Owner on_a(*a_), on_b(*b_), on_c(*c_);
  const std::array<std::pair<std::string, Pid>, 3> names{
      {{unique_name("a"), on_a.pid}, {unique_name("b"), on_b.pid}, {unique_name("c"), on_c.pid}}};
  for (auto& [name, pid] : names) ASSERT_TRUE(g(*c_).register_name(name, pid, OnConflict::stop).ok());
  for (auto& [name, pid] : names) ASSERT_TRUE(everywhere(trio(), name, pid));

  auto d = make_cluster_node("delta", {c_->id()});
  ASSERT_TRUE(meshed({a_, b_, c_, d}));
  for (auto& [name, pid] : names) {
    EXPECT_TRUE(everywhere({d}, name, pid)) << name << " not synced to delta: " << replicas({d}, name);
    auto o = d->call(pid, "ping", kWait);
    EXPECT_TRUE(o.ok()) << testing::PrintToString(o);
  }
  EXPECT_EQ(g(*d).names().size(), 3u);
}

// ---- concurrent registrations ------------------------------------------------------------

TEST_F(GlobalRegistryTest, concurrent_registrations_from_three_nodes_have_exactly_one_winner) {
  const auto nodes = trio();
  std::vector<Owner> owners;
  for (auto& n : nodes) owners.emplace_back(*n);
  std::array<int, 3> wins{};
  for (int run = 0; run < 20; ++run) {
    const auto name = unique_name("race");
    TimedBarrier barrier(3);
    std::array<std::optional<Result<bool>>, 3> results;
    std::vector<std::thread> threads;
    // the thread that arrives last at the barrier goes first: rotate who that is
    for (std::size_t k = 0; k < 3; ++k)
      threads.emplace_back([&, i = (run + k) % 3] {
        if (!barrier.arrive_and_wait()) return;
        results[i] = g(*nodes[i]).register_name(name, owners[i].pid, OnConflict::stop);
      });
    for (auto& t : threads) t.join();
    int ok = 0, dup = 0;
    std::size_t winner = 0;
    for (std::size_t i = 0; i < 3; ++i) {
      ASSERT_TRUE(results[i].has_value()) << "run " << run;
      if (results[i]->ok()) {
        ++ok;
        winner = i;
      } else if (results[i]->error().code == Errc::duplicate_name) {
        ++dup;
      } else {
        ADD_FAILURE() << "run " << run << ": " << results[i]->error().to_string();
      }
    }
    ASSERT_EQ(ok, 1) << "run " << run;
    ASSERT_EQ(dup, 2) << "run " << run;
    ++wins[winner];
    ASSERT_TRUE(everywhere(nodes, name, owners[winner].pid)) << "run " << run << ": " << replicas(nodes, name);
  }
  std::printf("concurrent registrations, 20 runs: alpha %d, beta %d, gamma %d wins\n", wins[0], wins[1], wins[2]);
}

/// A round trip from alpha to a process on beta and on gamma: every frame
/// alpha sent them before (its replication) has been applied there.
void settle(Node& leader, const std::vector<Pid>& pings) {
  for (auto p : pings) ASSERT_TRUE(leader.call(p, "ping", kWait).ok());
}

TEST_F(GlobalRegistryTest, replicas_agree_after_an_unregistration_racing_a_new_registration) {
  // gamma unregisters the name while alpha (the leader) registers it again as
  // soon as it is free: once alpha's replication is applied everywhere,
  // every replica must show alpha's registration.
  Owner on_a(*a_), on_c(*c_), ping_b(*b_), ping_c(*c_);
  const std::vector<Pid> pings{ping_b.pid, ping_c.pid};
  for (int run = 0; run < 300; ++run) {
    const auto name = unique_name("churn");
    ASSERT_TRUE(g(*c_).register_name(name, on_c.pid, OnConflict::stop).ok());
    settle(*a_, pings);
    TimedBarrier barrier(2);
    std::thread leader([&] {
      barrier.arrive_and_wait();
      const auto deadline = Clock::now() + kWait;
      while (Clock::now() < deadline && !g(*a_).register_name(name, on_a.pid, OnConflict::stop).ok()) {
      }
    });
    barrier.arrive_and_wait();
    auto u = g(*c_).unregister_name(name);
    leader.join();
    ASSERT_TRUE(u.ok() && u.value());
    settle(*a_, pings);
    ASSERT_EQ(g(*a_).whereis(name), on_a.pid) << "run " << run;
    ASSERT_TRUE(g(*b_).whereis(name) == on_a.pid && g(*c_).whereis(name) == on_a.pid)
        << "run " << run << ": replicas diverged: " << replicas(trio(), name);
    ASSERT_TRUE(g(*a_).unregister_name(name).ok());
  }
}

TEST_F(GlobalRegistryTest, replicas_agree_after_a_registration_racing_an_unregistration) {
  // gamma registers the name while alpha (the leader) unregisters it as soon
  // as it is taken: every replica must end without it.
  Owner on_c(*c_), ping_b(*b_), ping_c(*c_);
  const std::vector<Pid> pings{ping_b.pid, ping_c.pid};
  for (int run = 0; run < 300; ++run) {
    const auto name = unique_name("churn");
    TimedBarrier barrier(2);
    std::thread leader([&] {
      barrier.arrive_and_wait();
      const auto deadline = Clock::now() + kWait;
      while (Clock::now() < deadline) {
        auto r = g(*a_).unregister_name(name);
        if (r.ok() && r.value()) return;
      }
    });
    barrier.arrive_and_wait();
    auto r = g(*c_).register_name(name, on_c.pid, OnConflict::stop);
    leader.join();
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    settle(*a_, pings);
    ASSERT_FALSE(g(*a_).whereis(name).has_value()) << "run " << run;
    ASSERT_TRUE(!g(*b_).whereis(name) && !g(*c_).whereis(name))
        << "run " << run << ": replicas diverged: " << replicas(trio(), name);
  }
}

// ---- partition and heal --------------------------------------------------------------------

struct Conflict {
  std::string name;
  Pid loser, winner;
};

class GlobalConflictTest : public GlobalRegistryTest,
                           public ::testing::WithParamInterface<std::tuple<OnConflict, bool>> {};

TEST_P(GlobalConflictTest, partition_heal_keeps_one_owner_everywhere_and_the_loser_is_told) {
  const auto [mode, by_gamma] = GetParam();
  const auto& registrar = by_gamma ? c_ : b_;
  auto handled = std::make_shared<Recorder<Conflict>>();
  for (auto& n : trio())
    g(*n).set_conflict_handler([handled, id = n->id(), reg = registrar->id()](const std::string& name, Pid l, Pid w) {
      EXPECT_EQ(id, reg) << "the conflict handler ran on a node that did not register the loser";
      handled->push({name, l, w});
    });
  const auto name = unique_name("split");

  split(a_, {b_, c_});  // alpha | beta, gamma
  Owner winner(*a_), loser(*b_);
  ExitWatch loser_exit(*b_, loser.pid);
  auto w = g(*a_).register_name(name, winner.pid, OnConflict::stop);  // alpha decides alone
  ASSERT_TRUE(w.ok()) << w.error().to_string();
  auto l = g(*registrar).register_name(name, loser.pid, mode);        // beta decides there
  ASSERT_TRUE(l.ok()) << l.error().to_string();
  ASSERT_TRUE(everywhere({b_, c_}, name, loser.pid));
  ASSERT_EQ(g(*a_).whereis(name), winner.pid);

  const auto start = Clock::now();
  for (auto& n : trio()) cluster::cluster_of(*n)->heal_all();
  ASSERT_TRUE(meshed(trio()));
  ASSERT_TRUE(everywhere(trio(), name, winner.pid)) << replicas(trio(), name);
  std::printf("heal (%s): one owner everywhere %.1f ms after heal\n", dist::to_string(mode),
              std::chrono::duration<double, std::milli>(Clock::now() - start).count());

  // the loser gets ("name_conflict", name, winner), once
  ASSERT_TRUE(loser.infos->wait_until_count(1));
  EXPECT_EQ(loser.infos->snapshot()[0], Term::tuple({"name_conflict", name, winner.pid}));
  EXPECT_EQ(winner.infos->size(), 0u);
  if (mode == OnConflict::stop) {
    auto reason = loser_exit.wait();
    ASSERT_TRUE(reason.has_value()) << "the loser was not stopped";
    EXPECT_EQ(reason->kind, ExitReason::Kind::other) << reason->to_string();
    EXPECT_EQ(reason->detail, Term::tuple({"name_conflict", name}));
  } else {
    auto o = a_->call(loser.pid, "ping", kWait);
    EXPECT_TRUE(o.ok()) << "the loser should keep running: " << testing::PrintToString(o);
    EXPECT_FALSE(loser_exit.fired());
  }
  if (mode == OnConflict::notify) {
    ASSERT_TRUE(handled->wait_until_count(1));
    auto c = handled->snapshot()[0];
    EXPECT_EQ(c.name, name);
    EXPECT_EQ(c.loser, loser.pid);
    EXPECT_EQ(c.winner, winner.pid);
  }
  // nothing more: one message, one handler call (a bounded look)
  EXPECT_FALSE(loser.infos->wait_until_count(2, 200ms));
  EXPECT_EQ(handled->size(), mode == OnConflict::notify ? 1u : 0u);
  // the name follows the winner: it goes with it, never back to the loser
  a_->kill(winner.pid);
  EXPECT_TRUE(everywhere(trio(), name, std::nullopt)) << replicas(trio(), name);
}

INSTANTIATE_TEST_SUITE_P(Modes, GlobalConflictTest,
                         ::testing::Values(std::make_tuple(OnConflict::stop, false),
                                           std::make_tuple(OnConflict::stop, true),
                                           std::make_tuple(OnConflict::keep, false),
                                           std::make_tuple(OnConflict::notify, false),
                                           std::make_tuple(OnConflict::notify, true)),
                         [](const auto& info) {
                           return std::string(dist::to_string(std::get<0>(info.param))) +
                                  (std::get<1>(info.param) ? "_registered_by_gamma" : "_registered_by_beta");
                         });

}  // namespace
}  // namespace noexpp::test
