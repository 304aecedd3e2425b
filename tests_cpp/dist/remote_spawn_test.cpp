// The process-wide behavior registry (register_behavior<T>: one entry per
// name, the same implementation again is a no-op, another one is refused,
// whatever its language) and Cluster::spawn of registered C++ behaviors over
// real TCP on 127.0.0.1, with each of its errors: behavior_not_found,
// init_failed, duplicate_name, no_connection (not connected, or the node goes
// down during the spawn), call_timeout, and no orphan after a timeout.
#include <noexpp/behavior_registry.hpp>
#include <noexpp/dist/remote_spawn.hpp>

#include <array>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>

#include "dist_test_support.hpp"

namespace noexpp::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kCounter = "dist_test.cpp.counter";
constexpr const char* kFailing = "dist_test.cpp.failing";
constexpr const char* kGated = "dist_test.cpp.gated";
constexpr const char* kFactoryThrows = "dist_test.cpp.factory_throws";

const Term& arg(const Term& args, std::size_t i) {
  static const Term nil;
  const auto* items = args.is_tuple() ? &args.as_tuple().items : args.is_list() ? &args.as_list().items : nullptr;
  return items && i < items->size() ? (*items)[i] : nil;
}

/// init(start = 0, notify = nil): sends ("up", self) to notify. call "get" ->
/// value, ("add", n) -> new value, "args" -> the init args, "node" -> node id.
class Counter : public GenServer {
 public:
  void init(const Term& args) override {
    args_ = args;
    if (arg(args, 0).is_int()) value_ = arg(args, 0).as_int();
    if (arg(args, 1).is_pid()) send(arg(args, 1).as_pid(), Term::tuple({"up", self()}));
  }
  CallReply handle_call(const Term& req, const From&) override {
    if (req.is("get")) return Term(value_);
    if (req.is("args")) return args_;
    if (req.is("node")) return Term(node().id());
    if (req.is_tuple() && arg(req, 0).is("add")) return Term(value_ += arg(req, 1).as_int());
    return req;
  }
  std::string behavior_name() const override { return kCounter; }

 private:
  std::int64_t value_ = 0;
  Term args_;
};

/// Another implementation, to try to take Counter's name.
class OtherCounter : public GenServer {
  std::string behavior_name() const override { return "other_counter"; }
};

/// init(what) throws std::invalid_argument("refusing to start with <what>").
class FailingInit : public GenServer {
 public:
  void init(const Term& args) override {
    throw std::invalid_argument("refusing to start with " + arg(args, 0).to_string());
  }
};

/// Its factory itself throws (a C++ constructor failing).
class FactoryThrows : public GenServer {
 public:
  FactoryThrows() { throw std::runtime_error("constructor failed"); }
};

/// Gates by token: a GatedInit's init blocks until the test opens its gate.
std::mutex gates_mu;
std::map<std::string, std::shared_ptr<Event>> gates;
std::shared_ptr<Event> gate(const std::string& token) {
  std::lock_guard lk(gates_mu);
  auto& g = gates[token];
  if (!g) g = std::make_shared<Event>();
  return g;
}

/// init(token, notify): sends ("init_started", self) to notify, waits for
/// gate `token` (at most kWait), sends ("init_done", self). terminate sends
/// ("terminated", self, reason).
class GatedInit : public GenServer {
 public:
  void init(const Term& args) override {
    notify_ = arg(args, 1).is_pid() ? arg(args, 1).as_pid() : Pid{};
    if (!notify_.is_nil()) send(notify_, Term::tuple({"init_started", self()}));
    if (!gate(arg(args, 0).as_string())->wait()) throw std::runtime_error("gate never opened");
    if (!notify_.is_nil()) send(notify_, Term::tuple({"init_done", self()}));
  }
  void terminate(const ExitReason& r) override {
    if (!notify_.is_nil()) send(notify_, Term::tuple({"terminated", self(), r.to_string()}));
  }

 private:
  Pid notify_;
};

void register_test_behaviors() {
  ASSERT_TRUE(register_behavior<Counter>(kCounter).ok());
  ASSERT_TRUE(register_behavior<FailingInit>(kFailing).ok());
  ASSERT_TRUE(register_behavior<GatedInit>(kGated).ok());
  ASSERT_TRUE(register_behavior<FactoryThrows>(kFactoryThrows).ok());
}

/// A process on `node` that records every plain message it receives.
struct Inbox {
  std::shared_ptr<Recorder<Term>> got = std::make_shared<Recorder<Term>>();
  Pid pid;

  explicit Inbox(Node& node) {
    Handlers h;
    h.info = [got = got](GenServer&, const Info& i) {
      if (i.kind == Info::Kind::message) got->push(i.message);
    };
    auto r = node.spawn(fn_server(h), Term());
    EXPECT_TRUE(r.ok());
    pid = r.ok() ? r.value() : Pid{};
  }
  /// Waits for the n-th message (1-based) and returns it (nil on timeout).
  Term nth(std::size_t n) {
    if (!got->wait_until_count(n)) return Term();
    return got->snapshot()[n - 1];
  }
};

// ---- the behavior registry ---------------------------------------------------------

TEST(BehaviorRegistryTest, register_behavior_adds_a_cpp_entry_and_again_is_a_no_op) {
  const auto name = unique_name("reg.once");
  auto first = register_behavior<Counter>(name);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_TRUE(first.value());
  auto again = register_behavior<Counter>(name);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again.value());  // the same type: nothing changes
  auto entry = BehaviorRegistry::instance().find(name);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->language, "cpp");
  EXPECT_EQ(entry->identity, &typeid(Counter));
  EXPECT_EQ(entry->factory()->behavior_name(), kCounter);
  int listed = 0;
  for (auto& e : BehaviorRegistry::instance().list()) listed += e.name == name;
  EXPECT_EQ(listed, 1);
  EXPECT_FALSE(BehaviorRegistry::instance().find(unique_name("reg.never")).has_value());
}

TEST(BehaviorRegistryTest, another_type_under_a_taken_name_fails_with_duplicate_name) {
  const auto name = unique_name("reg.taken");
  ASSERT_TRUE(register_behavior<Counter>(name).ok());
  auto clash = register_behavior<OtherCounter>(name);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code, Errc::duplicate_name);
  EXPECT_NE(clash.error().detail.find(name), std::string::npos) << clash.error().detail;
  EXPECT_EQ(BehaviorRegistry::instance().find(name)->identity, &typeid(Counter));
}

TEST(BehaviorRegistryTest, one_registry_for_both_languages) {
  // A Python class registers as a "python" entry whose identity is the class
  // object; a C++ type cannot take its name, nor the other way round.
  static int fake_python_class = 0;
  const auto py_name = unique_name("reg.python");
  auto py = BehaviorRegistry::instance().add(
      BehaviorEntry{py_name, "python", [] { return std::make_unique<Counter>(); }, &fake_python_class});
  ASSERT_TRUE(py.ok() && py.value());
  auto cpp_on_py = register_behavior<Counter>(py_name);
  ASSERT_FALSE(cpp_on_py.ok());
  EXPECT_EQ(cpp_on_py.error().code, Errc::duplicate_name);
  EXPECT_EQ(BehaviorRegistry::instance().find(py_name)->language, "python");

  const auto cpp_name = unique_name("reg.cpp");
  ASSERT_TRUE(register_behavior<Counter>(cpp_name).ok());
  auto py_on_cpp = BehaviorRegistry::instance().add(
      BehaviorEntry{cpp_name, "python", [] { return std::make_unique<Counter>(); }, &fake_python_class});
  ASSERT_FALSE(py_on_cpp.ok());
  EXPECT_EQ(py_on_cpp.error().code, Errc::duplicate_name);
  EXPECT_EQ(BehaviorRegistry::instance().find(cpp_name)->language, "cpp");
}

template <int I>
class Racer : public GenServer {
 public:
  CallReply handle_call(const Term&, const From&) override { return Term(I); }
};

TEST(BehaviorRegistryTest, concurrent_registrations_of_one_name_exactly_one_type_wins) {
  const auto name = unique_name("reg.race");
  TimedBarrier barrier(4);
  std::array<Result<bool>, 4> results{false, false, false, false};
  std::vector<std::thread> threads;
  threads.emplace_back([&] { barrier.arrive_and_wait(); results[0] = register_behavior<Racer<0>>(name); });
  threads.emplace_back([&] { barrier.arrive_and_wait(); results[1] = register_behavior<Racer<1>>(name); });
  threads.emplace_back([&] { barrier.arrive_and_wait(); results[2] = register_behavior<Racer<2>>(name); });
  threads.emplace_back([&] { barrier.arrive_and_wait(); results[3] = register_behavior<Racer<3>>(name); });
  for (auto& t : threads) t.join();
  int won = 0, refused = 0;
  for (auto& r : results) {
    if (r.ok() && r.value()) ++won;
    if (!r.ok() && r.error().code == Errc::duplicate_name) ++refused;
  }
  EXPECT_EQ(won, 1);
  EXPECT_EQ(refused, 3);
}

// ---- remote spawn ------------------------------------------------------------------

class RemoteSpawnTest : public DistTest {
 protected:
  void SetUp() override {
    DistTest::SetUp();
    register_test_behaviors();
    a_ = make_cluster_node("alpha");
    b_ = make_cluster_node("beta", {a_->id()});
    ASSERT_TRUE(wait_members_up(*a_, {b_->id()}));
    ASSERT_TRUE(wait_members_up(*b_, {a_->id()}));
  }
  Result<Pid> spawn_on_b(const std::string& behavior, Term args, const std::string& name = "",
                         Duration timeout = kWait) {
    return dist::spawn(*a_, b_->id(), behavior, std::move(args), name, timeout);
  }
  std::shared_ptr<Node> a_, b_;
};

TEST_F(RemoteSpawnTest, spawn_starts_a_registered_cpp_behavior_on_the_target_node) {
  Inbox inbox(*a_);
  auto r = spawn_on_b(kCounter, Term::tuple({5, inbox.pid}));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Pid pid = r.value();
  EXPECT_TRUE(b_->is_local(pid));
  EXPECT_TRUE(b_->alive(pid));
  EXPECT_EQ(inbox.nth(1), Term::tuple({"up", pid}));
  auto got = a_->call(pid, "get", kWait);
  ASSERT_TRUE(got.ok()) << testing::PrintToString(got);
  EXPECT_EQ(got.value, Term(5));
  EXPECT_EQ(a_->call(pid, Term::tuple({"add", 2}), kWait).value, Term(7));
  EXPECT_EQ(a_->call(pid, "node", kWait).value, Term(b_->id()));
  EXPECT_EQ(a_->process_count(), 1u);  // only the inbox
  ASSERT_EQ(b_->processes().size(), 1u);
  EXPECT_EQ(b_->processes()[0].behavior, kCounter);
}

TEST_F(RemoteSpawnTest, args_travel_as_terms_and_a_name_registers_it_there) {
  Inbox inbox(*a_);
  const Term args = Term::tuple({1, inbox.pid, Term(), true, 2.5, "text", Term::list({1, Term::tuple({"x"})}),
                                 Term::map({{Term("k"), Term(1)}})});
  const auto name = unique_name("spawned");
  auto r = spawn_on_b(kCounter, args, name);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(a_->call(r.value(), "args", kWait).value, args);
  EXPECT_EQ(b_->whereis(name), r.value());
  EXPECT_FALSE(a_->whereis(name).has_value());
  auto via_request = cluster::cluster_of(*a_)->request(b_->id(), Term::tuple({"whereis", name}), kWait);
  ASSERT_TRUE(via_request.ok());
  EXPECT_EQ(via_request.value(), Term(r.value()));
}

TEST_F(RemoteSpawnTest, unknown_behavior_is_behavior_not_found_naming_behavior_and_node) {
  const auto missing = unique_name("no.such.behavior");
  auto r = spawn_on_b(missing, Term::tuple({}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::behavior_not_found);
  EXPECT_NE(r.error().detail.find(missing), std::string::npos) << r.error().detail;
  EXPECT_NE(r.error().detail.find(b_->id()), std::string::npos) << r.error().detail;
  EXPECT_EQ(b_->process_count(), 0u);
}

TEST_F(RemoteSpawnTest, failing_init_is_init_failed_with_the_exception_type_and_text) {
  auto r = spawn_on_b(kFailing, Term::tuple({"bad-42"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::init_failed);
  EXPECT_NE(r.error().detail.find("std::invalid_argument"), std::string::npos) << r.error().detail;
  EXPECT_NE(r.error().detail.find("refusing to start with"), std::string::npos) << r.error().detail;
  EXPECT_NE(r.error().detail.find("bad-42"), std::string::npos) << r.error().detail;
  auto f = spawn_on_b(kFactoryThrows, Term::tuple({}));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, Errc::init_failed);
  EXPECT_NE(f.error().detail.find("constructor failed"), std::string::npos) << f.error().detail;
  EXPECT_EQ(b_->process_count(), 0u);
  EXPECT_TRUE(spawn_on_b(kCounter, Term::tuple({})).ok());  // b still serves spawns
}

TEST_F(RemoteSpawnTest, taken_name_is_duplicate_name_and_starts_nothing) {
  const auto name = unique_name("taken");
  auto first = spawn_on_b(kCounter, Term::tuple({}), name);
  ASSERT_TRUE(first.ok());
  auto second = spawn_on_b(kCounter, Term::tuple({}), name);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, Errc::duplicate_name);
  EXPECT_NE(second.error().detail.find(name), std::string::npos) << second.error().detail;
  EXPECT_EQ(b_->process_count(), 1u);
  EXPECT_EQ(b_->whereis(name), first.value());
}

TEST_F(RemoteSpawnTest, node_not_connected_is_no_connection_at_once) {
  const auto start = Clock::now();
  auto r = dist::spawn(*a_, "ghost@127.0.0.1:1", kCounter, Term::tuple({}), "", 30s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::no_connection);
  EXPECT_NE(r.error().detail.find("ghost@127.0.0.1:1"), std::string::npos) << r.error().detail;
  EXPECT_LT(Clock::now() - start, 1s);
}

TEST_F(RemoteSpawnTest, node_going_down_during_the_spawn_is_no_connection_promptly) {
  Inbox inbox(*a_);
  const auto token = unique_name("gate");
  Slot<Result<Pid>> outcome;
  Slot<Clock::time_point> ended;
  std::thread spawner([&] {
    auto r = spawn_on_b(kGated, Term::tuple({token, inbox.pid}), "", 30s);
    ended.set(Clock::now());
    outcome.set(std::move(r));
  });
  EXPECT_EQ(arg(inbox.nth(1), 0), Term("init_started"));
  const auto start = Clock::now();
  // abort closes b's connections, then stops its processes: the gated init
  // holds one, so abort runs in a thread until the gate opens.
  std::thread aborter([&] { b_->abort(); });
  auto r = outcome.wait(kWait);
  gate(token)->set();
  spawner.join();
  aborter.join();
  ASSERT_TRUE(r.has_value());
  ASSERT_FALSE(r->ok());
  EXPECT_EQ(r->error().code, Errc::no_connection) << r->error().to_string();
  EXPECT_LT(*ended.peek() - start, 1s);
}

TEST_F(RemoteSpawnTest, init_longer_than_the_timeout_is_call_timeout_and_the_child_is_killed_first) {
  // OTP's loop_start_fail: proc_lib:start kills a child whose init outlives
  // the timeout, before it returns. Here too: when the error comes back the
  // child is dead and its name free, although its init still runs.
  Inbox inbox(*a_);
  const auto token = unique_name("gate");
  const auto name = unique_name("late");
  const auto before = b_->process_count();
  const auto start = Clock::now();
  auto r = spawn_on_b(kGated, Term::tuple({token, inbox.pid}), name, 500ms);
  const auto took = Clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::call_timeout) << r.error().to_string();
  EXPECT_GE(took, 500ms);
  EXPECT_LT(took, 1500ms);  // at its timeout (a loaded or TSan build adds some), not kWait
  const Term started = inbox.nth(1);
  ASSERT_EQ(arg(started, 0), Term("init_started"));
  const Pid child = arg(started, 1).as_pid();
  EXPECT_FALSE(b_->alive(child));
  EXPECT_FALSE(b_->whereis(name).has_value());
  EXPECT_EQ(b_->process_count(), before);
  // The name can be taken again at once; the old init is still gated.
  auto again = spawn_on_b(kCounter, Term::tuple({}), name);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(b_->whereis(name), again.value());
  gate(token)->set();  // what the killed init still does is dropped (KillTest)
}

TEST_F(RemoteSpawnTest, spawns_from_many_threads_each_get_their_own_child) {
  std::vector<std::thread> threads;
  Recorder<Pid> pids;
  TimedBarrier barrier(4);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      barrier.arrive_and_wait();
      for (int i = 0; i < 10; ++i) {
        auto r = spawn_on_b(kCounter, Term::tuple({t * 100 + i}));
        if (r.ok()) pids.push(r.value());
      }
    });
  for (auto& t : threads) t.join();
  auto all = pids.snapshot();
  ASSERT_EQ(all.size(), 40u);
  std::set<std::uint64_t> serials;
  for (auto p : all) serials.insert(p.serial);
  EXPECT_EQ(serials.size(), 40u);
  EXPECT_EQ(b_->process_count(), 40u);
}

}  // namespace
}  // namespace noexpp::test
