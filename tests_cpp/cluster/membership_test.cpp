// Membership over real TCP on 127.0.0.1: the handshake, the full mesh from
// one seed, node_up / node_down once per incident, graceful leave,
// failure detection, fault injection and incarnations.
#include <asio.hpp>
#include <future>
#include <thread>

#include "cluster_test_support.hpp"

namespace noexpp::test {
namespace {

class MembershipTest : public ClusterTest {};

TEST_F(MembershipTest, listen_on_port_zero_reports_the_bound_port_in_the_id) {
  auto a = make_cluster_node("alpha");
  EXPECT_EQ(a->id().rfind("alpha@127.0.0.1:", 0), 0u);
  EXPECT_NE(a->id(), "alpha@127.0.0.1:0");
  EXPECT_EQ(a->id(), "alpha@127.0.0.1:" + std::to_string(cluster::cluster_of(*a)->port()));
}

TEST_F(MembershipTest, three_nodes_form_a_full_mesh_from_one_seed) {
  auto a = make_cluster_node("alpha");
  auto b = make_cluster_node("beta", {a->id()});
  auto c = make_cluster_node("gamma", {a->id()});
  EXPECT_TRUE(wait_members_up(*a, {b->id(), c->id()}));
  EXPECT_TRUE(wait_members_up(*b, {a->id(), c->id()}));  // b learns c from a's gossip
  EXPECT_TRUE(wait_members_up(*c, {a->id(), b->id()}));
  auto members = cluster::cluster_of(*b)->members();
  ASSERT_EQ(members.size(), 2u);
  for (auto& m : members) EXPECT_EQ(m.status, "up") << m.id;
}

TEST_F(MembershipTest, simultaneous_connects_keep_exactly_one_connection) {
  auto a = make_cluster_node("alpha");
  auto b = make_cluster_node("beta");
  auto a_log = watch_membership(*a);
  auto b_log = watch_membership(*b);
  std::thread t([&] { EXPECT_TRUE(connect(*a, *b)); });
  EXPECT_TRUE(connect(*b, *a));
  t.join();
  EXPECT_TRUE(a_log->wait_until_count(1));
  EXPECT_TRUE(b_log->wait_until_count(1));
  // Round trips through the survivor; a second connection would have made
  // one side see a node_down (the loser closing) after its node_up.
  auto pa = cluster::cluster_of(*a)->node_pid(b->id());
  ASSERT_TRUE(pa);
  EXPECT_TRUE(a->call(*pa, Term::tuple({Term("members")})).ok());
  auto b_events = b_log->snapshot();
  auto a_events = a_log->snapshot();
  EXPECT_EQ(a_events.size(), 1u);
  EXPECT_EQ(b_events.size(), 1u);
  for (auto& e : a_events) EXPECT_EQ(e.type, "node_up");
}

TEST_F(MembershipTest, a_wrong_cookie_is_rejected_before_any_other_frame) {
  auto a = make_cluster_node("alpha");
  auto other = fast_options();
  other.cookie = "not-the-same-cookie";
  auto b = make_cluster_node("beta", {}, other);
  auto r = cluster::cluster_of(*b)->connect_wait(a->id(), kWait);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, cluster::ClusterErrc::authentication_failed) << r.error().to_string();
  EXPECT_FALSE(cluster::cluster_of(*a)->node_pid(b->id()));
  EXPECT_FALSE(cluster::cluster_of(*b)->node_pid(a->id()));
  EXPECT_TRUE(cluster::cluster_of(*a)->members().empty());
}

TEST_F(MembershipTest, connecting_to_a_port_nobody_listens_on_fails_with_no_connection) {
  auto a = make_cluster_node("alpha");
  auto r = cluster::cluster_of(*a)->connect_wait("ghost@127.0.0.1:1", kWait);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::no_connection);
}

TEST_F(MembershipTest, a_hostname_id_is_resolved_and_dialled_and_an_unknown_one_fails_with_no_connection) {
  // A plain listener stands for the peer: the dial reaches it only if
  // "localhost" was resolved (on asio's resolver thread).
  asio::io_context io;
  asio::ip::tcp::acceptor listener(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::promise<void> accepted;
  listener.async_accept([&](const std::error_code& e, asio::ip::tcp::socket) {
    if (!e) accepted.set_value();
  });
  std::thread net([&] { io.run(); });
  auto a = make_cluster_node("alpha");
  auto c = cluster::cluster_of(*a);
  std::thread dialler([&] {
    (void)c->connect_wait("ghost@localhost:" + std::to_string(listener.local_endpoint().port()), kWait);
  });
  EXPECT_EQ(accepted.get_future().wait_for(kWait), std::future_status::ready);
  auto r = c->connect_wait("ghost@no-such-host.invalid:4370", kWait);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::no_connection);
  EXPECT_NE(r.error().detail.find("cannot resolve host"), std::string::npos) << r.error().to_string();
  a->stop();  // ends the dial to the listener
  dialler.join();
  io.stop();
  net.join();
}

TEST_F(MembershipTest, graceful_leave_reports_node_down_with_reason_shutdown_once) {
  auto a = make_cluster_node("alpha");
  auto b = make_cluster_node("beta", {a->id()});
  ASSERT_TRUE(wait_members_up(*a, {b->id()}));
  ASSERT_TRUE(wait_members_up(*b, {a->id()}));  // a node still in its handshake leaves without a goodbye
  auto log = watch_membership(*a);
  b->stop();
  ASSERT_TRUE(log->wait_until_count(1));
  auto e = log->snapshot()[0];
  EXPECT_EQ(e.type, "node_down");
  EXPECT_EQ(e.node, b->id());
  EXPECT_EQ(e.reason, "shutdown");
}

TEST_F(MembershipTest, an_aborted_node_is_down_at_once_with_noconnection) {
  auto a = make_cluster_node("alpha");
  auto b = make_cluster_node("beta", {a->id()});
  ASSERT_TRUE(wait_members_up(*a, {b->id()}));
  auto log = watch_membership(*a);
  b->abort();
  ASSERT_TRUE(log->wait_until_count(1));
  auto e = log->snapshot()[0];
  EXPECT_EQ(e.type, "node_down");
  EXPECT_EQ(e.reason, "noconnection");
}

TEST_F(MembershipTest, a_partition_is_seen_as_node_down_by_both_sides_and_heal_brings_node_up) {
  auto a = make_cluster_node("alpha");
  auto b = make_cluster_node("beta", {a->id()});
  ASSERT_TRUE(wait_members_up(*a, {b->id()}));
  ASSERT_TRUE(wait_members_up(*b, {a->id()}));
  auto a_log = watch_membership(*a);
  auto b_log = watch_membership(*b);
  // The logs may open with the node_up of the first connection: seeing the
  // peer's pid does not mean its node_up event was already delivered.
  auto first = [](const std::vector<MembershipEvent>& es, const std::string& type, std::size_t from = 0) {
    for (std::size_t i = from; i < es.size(); ++i)
      if (es[i].type == type) return i;
    return es.size();
  };
  auto has_down = [&](const std::vector<MembershipEvent>& es) { return first(es, "node_down") < es.size(); };
  auto has_up_after_down = [&](const std::vector<MembershipEvent>& es) {
    auto down = first(es, "node_down");
    return down < es.size() && first(es, "node_up", down) < es.size();
  };
  cluster::cluster_of(*a)->set_partitioned(b->id(), true);
  cluster::cluster_of(*b)->set_partitioned(a->id(), true);
  ASSERT_TRUE(a_log->wait_until(has_down));
  ASSERT_TRUE(b_log->wait_until(has_down));
  auto a_events = a_log->snapshot();
  EXPECT_EQ(a_events[first(a_events, "node_down")].reason, "noconnection");
  cluster::cluster_of(*a)->heal_all();
  cluster::cluster_of(*b)->heal_all();
  EXPECT_TRUE(a_log->wait_until(has_up_after_down));
  EXPECT_TRUE(b_log->wait_until(has_up_after_down));
}

TEST_F(MembershipTest, a_restarted_node_with_the_same_name_is_a_new_incarnation) {
  auto a = make_cluster_node("alpha");
  auto b = make_cluster_node("beta", {a->id()});
  ASSERT_TRUE(wait_members_up(*a, {b->id()}));
  const auto port = cluster::cluster_of(*b)->port();
  Pid old_pid = spawn_on(*b, fn_server({}));
  auto log = watch_membership(*a);
  b->abort();
  ASSERT_TRUE(log->wait_until_count(1));  // down
  auto b2 = make_cluster_node("beta", {a->id()}, fast_options(), port);
  ASSERT_EQ(b2->id(), b->id());
  ASSERT_TRUE(log->wait_until_count(2));  // up again
  EXPECT_EQ(log->snapshot()[1].type, "node_up");
  auto o = a->call(old_pid, Term("ping"), 2s);
  EXPECT_EQ(o.status, Errc::no_process);
  Pid new_pid = spawn_on(*b2, fn_server({}));
  EXPECT_EQ(new_pid.node, old_pid.node);
  EXPECT_NE(new_pid.creation, old_pid.creation);
  EXPECT_TRUE(a->call(new_pid, Term("ping"), 2s).ok());
}

}  // namespace
}  // namespace noexpp::test

namespace noexpp::test {
namespace {

class FaultInjectionTest : public ClusterTest {};

TEST_F(FaultInjectionTest, a_delay_slows_every_frame_to_that_peer_and_keeps_order_until_healed) {
  auto a = make_cluster_node("alpha");
  auto b = make_cluster_node("beta", {a->id()});
  ASSERT_TRUE(wait_members_up(*a, {b->id()}));
  auto seen = std::make_shared<Recorder<std::int64_t>>();
  Handlers h;
  h.cast = [seen](GenServer&, const Term& t) { seen->push(t.as_int()); };
  Pid target = spawn_on(*b, fn_server(h));
  cluster::cluster_of(*a)->set_delay(b->id(), 150ms);
  ASSERT_TRUE(a->call(target, Term("sync"), kWait).ok());  // the delay is in place once a frame went through it
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) a->cast(target, Term(std::int64_t{i}));
  ASSERT_TRUE(a->call(target, Term("sync"), kWait).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 150ms);
  auto v = seen->snapshot();
  ASSERT_EQ(v.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(v[i], i);
  cluster::cluster_of(*a)->heal_all();
  ASSERT_TRUE(a->call(target, Term("sync"), kWait).ok());  // frames queued before the heal drain first
  const auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(a->call(target, Term("sync"), kWait).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t1, 150ms);
}

}  // namespace
}  // namespace noexpp::test
