// The engine as a C++ user sees it: only <noexpp/noexpp.hpp> and the shared
// library. If this builds and runs, the public headers are enough to write
// behaviors, run them, supervise them and call them across nodes.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include <noexpp/noexpp.hpp>

namespace {

using namespace std::chrono_literals;

class Doubler : public noexpp::GenServer {
 public:
  noexpp::CallReply handle_call(const noexpp::Term& request, const noexpp::From&) override {
    return noexpp::Term(request.as_int() * 2);
  }
  std::string behavior_name() const override { return "public_api.doubler"; }
};

noexpp::BehaviorFactory doubler() {
  return [] { return std::make_unique<Doubler>(); };
}

TEST(PublicApi, a_local_node_runs_and_supervises_a_behavior) {
  auto node = noexpp::Node::create({"public_api"});
  node->start();
  auto pid = node->spawn(doubler(), {});
  ASSERT_TRUE(pid.ok());
  auto reply = node->call(pid.value(), noexpp::Term(21));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.value, noexpp::Term(42));

  noexpp::sup::SupervisorSpec spec;
  noexpp::sup::ChildSpec child;
  child.id = "doubler";
  child.behavior = doubler();
  child.behavior_name = "public_api.doubler";
  spec.children.push_back(child);
  auto sup = noexpp::sup::start_supervisor(node, spec);
  ASSERT_TRUE(sup.ok()) << sup.error().to_string();
  auto children = sup.value().which_children();
  ASSERT_TRUE(children.ok());
  ASSERT_EQ(children.value().size(), 1u);
  EXPECT_EQ(node->call(children.value()[0].pid, noexpp::Term(4)).value, noexpp::Term(8));
  node->stop();
}

TEST(PublicApi, two_nodes_of_a_cluster_call_and_spawn_by_behavior_name) {
  ASSERT_TRUE(noexpp::register_behavior<Doubler>("public_api.doubler").ok());
  noexpp::cluster::ClusterOptions options;
  options.cookie = "public-api-test";
  auto a = noexpp::dist::create_node({"a"}, options);
  auto b = noexpp::dist::create_node({"b"}, options);
  a->start();
  b->start();
  auto* cluster = noexpp::cluster::cluster_of(*a);
  ASSERT_NE(cluster, nullptr);
  ASSERT_TRUE(cluster->connect_wait(b->id(), 10s).ok());
  auto pid = noexpp::dist::spawn(*a, b->id(), "public_api.doubler", {}, "", 10s);
  ASSERT_TRUE(pid.ok()) << pid.error().to_string();
  EXPECT_FALSE(a->is_local(pid.value()));
  EXPECT_EQ(a->call(pid.value(), noexpp::Term(5), 10s).value, noexpp::Term(10));
  EXPECT_NE(noexpp::dist::global_registry(*a), nullptr);
  a->stop();
  b->stop();
}

class Scaler : public noexpp::GenServer {
 public:
  explicit Scaler(int factor) : factor_(factor) {}
  noexpp::CallReply handle_call(const noexpp::Term& request, const noexpp::From&) override {
    return noexpp::Term(request.as_int() * factor_);
  }
  std::string behavior_name() const override { return "public_api.scaler"; }

 private:
  int factor_;
};

TEST(PublicApi, a_behavior_registered_with_constructor_arguments_gets_them_in_every_process) {
  ASSERT_TRUE(noexpp::register_behavior<Scaler>("public_api.times_three", 3).ok());
  ASSERT_TRUE(noexpp::register_behavior<Scaler>("public_api.times_five", 5).ok());
  auto node = noexpp::Node::create({"public_api_args"});
  node->start();
  for (auto [name, expected] : {std::pair{"public_api.times_three", 21}, std::pair{"public_api.times_five", 35}}) {
    auto entry = noexpp::BehaviorRegistry::instance().find(name);
    ASSERT_TRUE(entry.has_value()) << name;
    EXPECT_EQ(entry->language, "cpp");
    for (int i = 0; i < 2; ++i) {  // every process a new Scaler with the same factor
      auto pid = node->spawn(entry->factory, {});
      ASSERT_TRUE(pid.ok());
      EXPECT_EQ(node->call(pid.value(), noexpp::Term(7)).value, noexpp::Term(expected));
    }
  }
  node->stop();
}

TEST(PublicApi, engine_matches_headers_when_built_in_this_tree) { EXPECT_TRUE(noexpp::engine_matches_headers()); }

TEST(PublicApi, the_library_and_the_headers_agree_on_the_version) {
  EXPECT_STREQ(noexpp::engine_version(), noexpp::kHeaderVersion);
}

}  // namespace
