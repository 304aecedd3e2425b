// TLS on the cluster transport (ClusterOptions::tls) over real TCP on
// 127.0.0.1, with a throwaway PKI made at test time: TLS nodes call, cast
// and monitor each other, and see each other leave or die; a TLS node and
// a plain one refuse each other in both directions and keep running; a
// certificate of another CA is refused both ways; the cookie is still
// required inside TLS; TLS handshakes count against handshake_timeout and
// the pending-handshake limits; many threads send over one TLS connection
// at once (the TSan build checks that only the network thread touches the
// TLS stream); bad files are refused at node creation, naming the file.
#include <asio.hpp>

#include <array>
#include <thread>

#include "cluster_test_support.hpp"
#include "tls_test_pki.hpp"

namespace noexpp::test {
namespace {

class TlsTest : public ClusterTest {
 protected:
  /// One PKI for the suite: CA "one" with nodes alpha, beta, gamma; CA
  /// "two" with node mallory (and a bundle of both CAs she trusts).
  static void SetUpTestSuite() {
    pki_ = new TestPki;
    ca_one_ = pki_->make_ca("ca-one");
    ca_two_ = pki_->make_ca("ca-two");
    alpha_ = pki_->make_node("alpha", ca_one_);
    beta_ = pki_->make_node("beta", ca_one_);
    gamma_ = pki_->make_node("gamma", ca_one_);
    mallory_ = pki_->make_node("mallory", ca_two_);
    both_cas_ = pki_->concat("both-cas.pem", {ca_one_.certfile, ca_two_.certfile});
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  static cluster::TlsOptions tls_of(const TestPki::Identity& id, const std::string& cafile) {
    return cluster::TlsOptions{id.certfile, id.keyfile, cafile};
  }
  static cluster::ClusterOptions tls_options(const TestPki::Identity& id,
                                             const std::string& cafile = ca_one_.certfile) {
    auto o = fast_options();
    o.tls = tls_of(id, cafile);
    return o;
  }

  /// The error creating a node with `tls` throws (ok() if none).
  Error creation_error(const cluster::TlsOptions& tls) {
    auto o = fast_options();
    o.tls = tls;
    try {
      make_cluster_node("broken", {}, o);
    } catch (const ErrorException& e) {
      return e.error;
    }
    return Error{};
  }

  /// A node still serves: a new TLS peer of CA one connects and calls it.
  void expect_serves_tls_peers(Node& node, const std::string& name) {
    auto other = make_cluster_node(name, {}, tls_options(gamma_));
    auto r = cluster::cluster_of(*other)->connect_wait(node.id(), kWait);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    Pid p = spawn_on(node, fn_server({}));
    auto o = other->call(p, "still serving?", kWait);
    EXPECT_TRUE(o.ok()) << testing::PrintToString(o);
  }

  static TestPki* pki_;
  static TestPki::Identity ca_one_, ca_two_, alpha_, beta_, gamma_, mallory_;
  static std::string both_cas_;
};

TestPki* TlsTest::pki_ = nullptr;
TestPki::Identity TlsTest::ca_one_, TlsTest::ca_two_, TlsTest::alpha_, TlsTest::beta_, TlsTest::gamma_,
    TlsTest::mallory_;
std::string TlsTest::both_cas_;

/// Reads from a raw TCP connection until it ends; true if it ended within `timeout`.
bool closed_within(asio::ip::tcp::socket& s, asio::io_context& io, std::chrono::milliseconds timeout) {
  bool closed = false;
  std::array<char, 512> buf{};
  std::function<void()> read_more = [&] {
    s.async_read_some(asio::buffer(buf), [&](const std::error_code& e, std::size_t) {
      if (e) {
        closed = true;
        return;
      }
      read_more();
    });
  };
  read_more();
  io.restart();
  io.run_for(timeout);
  return closed;
}

// ---- TLS between nodes ---------------------------------------------------------

TEST_F(TlsTest, two_tls_nodes_connect_and_call_cast_and_monitor_each_other) {
  auto a = make_cluster_node("alpha", {}, tls_options(alpha_));
  auto b = make_cluster_node("beta", {a->id()}, tls_options(beta_));
  ASSERT_TRUE(wait_members_up(*a, {b->id()}));
  ASSERT_TRUE(wait_members_up(*b, {a->id()}));
  auto casts = std::make_shared<Recorder<Term>>();
  Handlers h;
  h.call = [](GenServer& self, const Term& req, const From&) -> CallReply { return Term::tuple({req, self.self()}); };
  h.cast = [casts](GenServer& self, const Term& req) {
    if (req.is("stop")) self.stop(ExitReason::normal());
    casts->push(req);
  };
  Pid pb = spawn_on(*b, fn_server(h));
  auto o = a->call(pb, Term::list({Term("over"), Term("tls")}), kWait);
  ASSERT_TRUE(o.ok()) << testing::PrintToString(o);
  EXPECT_EQ(o.value, Term::tuple({Term::list({Term("over"), Term("tls")}), Term(pb)}));
  // A large message: many TLS records.
  const std::string big(300 * 1024, 'x');
  auto o2 = a->call(pb, Term(big), kWait);
  ASSERT_TRUE(o2.ok()) << testing::PrintToString(o2);
  EXPECT_EQ(o2.value.as_tuple().items.at(0), Term(big));
  ExitWatch w(*a, pb);
  EXPECT_TRUE(a->cast(pb, "hello"));
  EXPECT_TRUE(a->cast(pb, "stop"));
  ASSERT_TRUE(casts->wait_until_count(2));
  EXPECT_EQ(casts->snapshot().at(0), Term("hello"));
  auto r = w.wait();
  ASSERT_TRUE(r.has_value()) << "no DOWN over TLS";
  EXPECT_EQ(*r, ExitReason::normal());
}

TEST_F(TlsTest, a_third_tls_node_joins_the_mesh_through_gossip) {
  auto a = make_cluster_node("alpha", {}, tls_options(alpha_));
  auto b = make_cluster_node("beta", {a->id()}, tls_options(beta_));
  auto c = make_cluster_node("gamma", {a->id()}, tls_options(gamma_));
  EXPECT_TRUE(wait_members_up(*b, {a->id(), c->id()}));  // b dials c, learnt from a
  EXPECT_TRUE(wait_members_up(*c, {a->id(), b->id()}));
}

TEST_F(TlsTest, many_threads_call_and_cast_over_one_tls_connection_at_once) {
  auto a = make_cluster_node("alpha", {}, tls_options(alpha_));
  auto b = make_cluster_node("beta", {a->id()}, tls_options(beta_));
  ASSERT_TRUE(wait_members_up(*a, {b->id()}));
  auto casts = std::make_shared<std::atomic<int>>(0);
  Handlers h;
  h.cast = [casts](GenServer&, const Term&) { casts->fetch_add(1); };
  Pid pb = spawn_on(*b, fn_server(h));
  constexpr int kThreads = 4, kEach = 150;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (!a->cast(pb, Term(static_cast<std::int64_t>(i)))) failures.fetch_add(1);
        const Term request = Term::list({Term(static_cast<std::int64_t>(t)), Term(static_cast<std::int64_t>(i))});
        auto o = a->call(pb, request, kWait);
        if (!o.ok() || o.value != request) failures.fetch_add(1);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  // Every cast went before the last call of its thread on the same connection.
  EXPECT_EQ(casts->load(), kThreads * kEach);
}

TEST_F(TlsTest, a_stopped_tls_node_says_goodbye_and_an_aborted_one_is_down_at_once) {
  auto a = make_cluster_node("alpha", {}, tls_options(alpha_));
  auto b = make_cluster_node("beta", {a->id()}, tls_options(beta_));
  auto c = make_cluster_node("gamma", {a->id()}, tls_options(gamma_));
  ASSERT_TRUE(wait_members_up(*a, {b->id(), c->id()}));
  ASSERT_TRUE(wait_members_up(*b, {a->id()}));
  ASSERT_TRUE(wait_members_up(*c, {a->id()}));
  auto log = watch_membership(*a);
  b->stop();   // a goodbye inside TLS
  c->abort();  // connections closed without a goodbye (or a TLS close_notify)
  ASSERT_TRUE(log->wait_until_count(2));
  for (auto& e : log->snapshot()) {
    EXPECT_EQ(e.type, "node_down");
    EXPECT_EQ(e.reason, e.node == b->id() ? "shutdown" : "noconnection") << e.node << ": " << e.detail;
  }
}

// ---- refusals ------------------------------------------------------------------

TEST_F(TlsTest, a_plain_node_and_a_tls_node_refuse_each_other_both_ways_and_keep_running) {
  auto t = make_cluster_node("alpha", {}, tls_options(alpha_));
  auto p = make_cluster_node("plain");
  // The plain node dials the TLS node.
  auto r1 = cluster::cluster_of(*p)->connect_wait(t->id(), kWait);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, cluster::ClusterErrc::authentication_failed) << r1.error().to_string();
  EXPECT_NE(r1.error().detail.find("requires TLS"), std::string::npos) << r1.error().detail;
  // The TLS node dials the plain node.
  auto r2 = cluster::cluster_of(*t)->connect_wait(p->id(), kWait);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, cluster::ClusterErrc::authentication_failed) << r2.error().to_string();
  EXPECT_NE(r2.error().detail.find("TLS handshake failed"), std::string::npos) << r2.error().detail;
  EXPECT_NE(r2.error().detail.find("TLS off"), std::string::npos) << r2.error().detail;
  EXPECT_FALSE(cluster::cluster_of(*t)->node_pid(p->id()));
  EXPECT_FALSE(cluster::cluster_of(*p)->node_pid(t->id()));
  // Both keep serving peers of their own kind.
  expect_serves_tls_peers(*t, "gamma");
  auto p2 = make_cluster_node("plain2");
  EXPECT_TRUE(connect(*p2, *p));
}

TEST_F(TlsTest, a_certificate_signed_by_another_ca_is_refused_both_ways) {
  auto a = make_cluster_node("alpha", {}, tls_options(alpha_));
  // Mallory's certificate is from CA two; she trusts both CAs, so only
  // alpha's check of her certificate can refuse her.
  auto m = make_cluster_node("mallory", {}, tls_options(mallory_, both_cas_));
  // Alpha as the TLS server: she dials, alpha refuses her client certificate.
  auto r1 = cluster::cluster_of(*m)->connect_wait(a->id(), kWait);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error().code, cluster::ClusterErrc::authentication_failed) << r1.error().to_string();
  EXPECT_NE(r1.error().detail.find("TLS handshake failed"), std::string::npos) << r1.error().detail;
  // Alpha as the TLS client: it refuses her server certificate.
  auto r2 = cluster::cluster_of(*a)->connect_wait(m->id(), kWait);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, cluster::ClusterErrc::authentication_failed) << r2.error().to_string();
  EXPECT_NE(r2.error().detail.find("certificate verify failed"), std::string::npos) << r2.error().detail;
  EXPECT_FALSE(cluster::cluster_of(*a)->node_pid(m->id()));
  EXPECT_FALSE(cluster::cluster_of(*m)->node_pid(a->id()));
  expect_serves_tls_peers(*a, "gamma");
}

TEST_F(TlsTest, a_wrong_cookie_is_still_refused_inside_tls) {
  auto a = make_cluster_node("alpha", {}, tls_options(alpha_));
  auto o = tls_options(beta_);
  o.cookie = "not-the-same-cookie";
  auto b = make_cluster_node("beta", {}, o);
  auto r = cluster::cluster_of(*b)->connect_wait(a->id(), kWait);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, cluster::ClusterErrc::authentication_failed) << r.error().to_string();
  EXPECT_NE(r.error().detail.find("cookie"), std::string::npos) << r.error().detail;
  EXPECT_FALSE(cluster::cluster_of(*a)->node_pid(b->id()));
  expect_serves_tls_peers(*a, "gamma");
}

// ---- the bounds on unauthenticated connections ---------------------------------------

TEST_F(TlsTest, a_client_that_never_starts_its_tls_handshake_is_closed_at_the_handshake_timeout) {
  auto o = tls_options(alpha_);
  o.handshake_timeout = 300ms;
  auto a = make_cluster_node("alpha", {}, o);
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  std::error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), cluster::cluster_of(*a)->port()}, ec);
  ASSERT_FALSE(ec) << ec.message();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(closed_within(s, io, kWait)) << "the silent connection stayed open";
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);  // closed by the timer, not at once
  expect_serves_tls_peers(*a, "gamma");
}

TEST_F(TlsTest, tls_handshakes_under_way_count_against_the_pending_handshake_limit) {
  auto o = tls_options(alpha_);
  o.handshake_timeout = std::chrono::milliseconds(60'000);  // longer than any wait here
  o.max_pending_handshakes_per_address = 2;
  auto a = make_cluster_node("alpha", {}, o);
  asio::io_context io;
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> silent;
  for (int i = 0; i < 3; ++i) {
    silent.push_back(std::make_unique<asio::ip::tcp::socket>(io));
    std::error_code ec;
    silent.back()->connect({asio::ip::make_address("127.0.0.1"), cluster::cluster_of(*a)->port()}, ec);
    ASSERT_FALSE(ec) << ec.message();
  }
  // The node accepts in order: the third is over the limit of two.
  EXPECT_TRUE(closed_within(*silent[2], io, kWait)) << "the third TLS handshake was not turned away";
  for (auto& s : silent) s->close();
}

// ---- configuration ---------------------------------------------------------------

TEST_F(TlsTest, bad_tls_files_are_refused_at_node_creation_naming_the_file_and_the_problem) {
  const auto garbage = pki_->write_text("garbage.pem", "not a certificate\n");
  const auto encrypted = pki_->write_encrypted_key("encrypted.key", alpha_);
  const auto server_only = pki_->make_node("server-only", ca_one_, "serverAuth");
  const auto expired = pki_->make_node("expired", ca_one_, "serverAuth,clientAuth", -30, -1);
  const auto missing = pki_->path("missing.pem");
  struct Case {
    const char* what;
    cluster::TlsOptions tls;
    std::string path;     // named in the message
    const char* problem;  // said in the message
  };
  const Case cases[] = {
      {"missing certfile", {missing, alpha_.keyfile, ca_one_.certfile}, missing, "does not exist"},
      {"missing keyfile", {alpha_.certfile, missing, ca_one_.certfile}, missing, "does not exist"},
      {"missing cafile", {alpha_.certfile, alpha_.keyfile, missing}, missing, "does not exist"},
      {"empty certfile", {"", alpha_.keyfile, ca_one_.certfile}, "certfile", "is empty"},
      {"a directory", {alpha_.certfile, alpha_.keyfile, pki_->path("")}, pki_->path(""), "is a directory"},
      {"certfile not PEM", {garbage, alpha_.keyfile, ca_one_.certfile}, garbage, "no usable PEM certificate"},
      {"keyfile not PEM", {alpha_.certfile, garbage, ca_one_.certfile}, garbage, "no PEM private key"},
      {"key of another certificate", {alpha_.certfile, beta_.keyfile, ca_one_.certfile}, beta_.keyfile,
       "does not match"},
      {"encrypted key", {alpha_.certfile, encrypted, ca_one_.certfile}, encrypted, "passphrase"},
      {"cafile not PEM", {alpha_.certfile, alpha_.keyfile, garbage}, garbage, "no usable PEM certificate"},
      {"certificate of another CA", {mallory_.certfile, mallory_.keyfile, ca_one_.certfile}, mallory_.certfile,
       "does not verify against cafile"},
      {"expired certificate", {expired.certfile, expired.keyfile, ca_one_.certfile}, expired.certfile, "expired"},
      {"server-only certificate", {server_only.certfile, server_only.keyfile, ca_one_.certfile},
       server_only.certfile, "clientAuth"},
  };
  for (const auto& c : cases) {
    auto e = creation_error(c.tls);
    EXPECT_EQ(e.code, cluster::ClusterErrc::tls_config_failed) << c.what << ": " << e.to_string();
    EXPECT_NE(e.detail.find(c.path), std::string::npos) << c.what << ": " << e.detail;
    EXPECT_NE(e.detail.find(c.problem), std::string::npos) << c.what << ": " << e.detail;
  }
  // The good files make a node.
  EXPECT_FALSE(creation_error(tls_of(alpha_, ca_one_.certfile)).code) << "the good files were refused";
}

}  // namespace
}  // namespace noexpp::test
