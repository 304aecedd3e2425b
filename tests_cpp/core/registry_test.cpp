// The local registry: unique names, released when their process dies.
#include <algorithm>
#include <stdexcept>
#include <thread>

#include "core/registry.hpp"
#include "test_support.hpp"

namespace noexpp::test {
namespace {

TEST(Registry, names_are_unique) {
  Registry r;
  Pid a{1, 1, 1}, b{1, 1, 2};
  EXPECT_TRUE(r.add("db", a));
  EXPECT_FALSE(r.add("db", b));
  EXPECT_EQ(r.whereis("db"), a);
  EXPECT_TRUE(r.add("cache", b));  // one pid may hold several names
  EXPECT_FALSE(r.whereis("nope").has_value());
  auto e = r.entries();
  std::sort(e.begin(), e.end());
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], (std::pair<std::string, Pid>{"cache", b}));
  EXPECT_EQ(e[1], (std::pair<std::string, Pid>{"db", a}));
}

TEST(Registry, remove_with_pid_only_removes_its_own_name) {
  Registry r;
  Pid old_pid{1, 1, 1}, new_pid{1, 1, 2};
  ASSERT_TRUE(r.add("svc", new_pid));
  r.remove("svc", old_pid);  // a stale owner cannot remove its successor's name
  EXPECT_EQ(r.whereis("svc"), new_pid);
  r.remove("svc", new_pid);
  EXPECT_FALSE(r.whereis("svc").has_value());
  EXPECT_TRUE(r.add("svc", old_pid));
  EXPECT_TRUE(r.remove("svc"));
  EXPECT_FALSE(r.remove("svc"));
}

class RegistryTest : public NodeTest {};

TEST_F(RegistryTest, spawn_with_name_registers_it) {
  SpawnOptions o;
  o.name = "svc";
  Pid p = spawn(fn_server({}), {}, o);
  EXPECT_EQ(node_->whereis("svc"), p);
  auto procs = node_->processes();
  ASSERT_EQ(procs.size(), 1u);
  EXPECT_EQ(procs[0].pid, p);
  EXPECT_EQ(procs[0].name, "svc");
  EXPECT_EQ(procs[0].behavior, "fn_server");
}

TEST_F(RegistryTest, duplicate_name_fails_spawn) {
  SpawnOptions o;
  o.name = "unique";
  Pid first = spawn(fn_server({}), {}, o);
  auto second = node_->spawn(fn_server({}), {}, o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, Errc::duplicate_name);
  EXPECT_FALSE(second.error().detail.empty());
  EXPECT_EQ(node_->whereis("unique"), first);  // the holder keeps it
  EXPECT_EQ(node_->process_count(), 1u);      // no half-started second process
  EXPECT_TRUE(node_->call(first, "ping", kWait).ok());
}

TEST_F(RegistryTest, name_released_on_death_before_monitors_fire) {
  SpawnOptions o;
  o.name = "worker";
  Pid p = spawn(fn_server({}), {}, o);
  // What a supervisor sees when it is told about the death: the name is free.
  auto name_at_down = std::make_shared<Slot<bool>>();
  node_->monitor(p, [node = node_.get(), name_at_down](Pid, const ExitReason&) {
    name_at_down->set(node->whereis("worker").has_value());
  });
  node_->kill(p);
  auto held = name_at_down->wait();
  ASSERT_TRUE(held.has_value()) << "no DOWN";
  EXPECT_FALSE(*held) << "name still registered when the monitor fired";
  // So a restart with the same name succeeds at once.
  auto again = node_->spawn(fn_server({}), {}, o);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_NE(again.value(), p);
  EXPECT_EQ(node_->whereis("worker"), again.value());
}

TEST_F(RegistryTest, name_released_after_normal_stop_and_crash) {
  SpawnOptions o;
  o.name = "svc";
  Handlers h;
  h.cast = [](GenServer& self, const Term& req) {
    if (req.is("stop")) self.stop();
    if (req.is("crash")) throw std::runtime_error("boom");
  };
  for (const char* how : {"stop", "crash"}) {
    SCOPED_TRACE(how);
    Pid p = spawn(fn_server(h), {}, o);
    ExitWatch w(*node_, p);
    node_->cast(p, how);
    ASSERT_TRUE(w.wait().has_value());
    EXPECT_FALSE(node_->whereis("svc").has_value());
  }
  auto again = node_->spawn(fn_server(h), {}, o);
  EXPECT_TRUE(again.ok());
}

TEST_F(RegistryTest, concurrent_spawns_with_one_name_have_one_winner) {
  constexpr int kThreads = 4;
  std::atomic<int> won{0}, duplicate{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&] {
      SpawnOptions o;
      o.name = "contended";
      auto r = node_->spawn(fn_server({}), {}, o);
      if (r.ok()) won.fetch_add(1);
      else if (r.error().code == Errc::duplicate_name) duplicate.fetch_add(1);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(duplicate.load(), kThreads - 1);
  EXPECT_EQ(node_->process_count(), 1u);
}

}  // namespace
}  // namespace noexpp::test
