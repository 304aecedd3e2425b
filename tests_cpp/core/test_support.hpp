#pragma once
/// Helpers shared by the core test suites.
///
/// The rule these helpers exist for: a test never sleeps to synchronise. It
/// waits for an event with a deadline (kWait) and then asserts. Everything a
/// handler (engine thread) and the test body (test thread) both touch goes
/// through these mutex-protected types, so the tests are race-free under TSan.
/// State captured by handlers is held by shared_ptr: processes may outlive the
/// test body until the fixture stops the node in TearDown.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <noexpp/behavior.hpp>
#include <noexpp/behavior_registry.hpp>
#include <noexpp/call.hpp>
#include <noexpp/error.hpp>
#include <noexpp/events.hpp>
#include <noexpp/exit_reason.hpp>
#include <noexpp/node.hpp>
#include <noexpp/pid.hpp>
#include <noexpp/term.hpp>

namespace noexpp::test {

using namespace std::chrono_literals;

/// The deadline of every "wait for it to happen" in the tests. Generous, as
/// sanitizer builds on a loaded 2-core machine are slow; a correct engine
/// never gets near it.
inline constexpr std::chrono::seconds kWait{10};

/// A thread-safe, append-only log of events.
template <class T>
class Recorder {
 public:
  /// Thread: any.
  void push(T v) {
    {
      std::lock_guard lk(mu_);
      items_.push_back(std::move(v));
    }
    cv_.notify_all();
  }

  /// Waits until at least `n` events were recorded; false on timeout. Thread: any.
  bool wait_until_count(std::size_t n, std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, timeout, [&] { return items_.size() >= n; });
  }

  /// Waits until `pred(items)` holds; false on timeout. Thread: any.
  template <class Pred>
  bool wait_until(Pred pred, std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, timeout, [&] { return pred(std::as_const(items_)); });
  }

  std::vector<T> snapshot() const {
    std::lock_guard lk(mu_);
    return items_;
  }
  std::size_t size() const {
    std::lock_guard lk(mu_);
    return items_.size();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<T> items_;
};

/// A one-shot value: set once (later sets are ignored), waited for with a deadline.
template <class T>
class Slot {
 public:
  /// True if this call set the value. Thread: any.
  bool set(T v) {
    {
      std::lock_guard lk(mu_);
      if (value_) return false;
      value_ = std::move(v);
    }
    cv_.notify_all();
    return true;
  }
  /// The value, or nullopt after `timeout`. Thread: any.
  std::optional<T> wait(std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, timeout, [&] { return value_.has_value(); });
    return value_;
  }
  std::optional<T> peek() const {
    std::lock_guard lk(mu_);
    return value_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<T> value_;
};

/// A one-shot event (a gate a handler can wait on, or a signal to the test).
class Event {
 public:
  void set() { slot_.set(true); }
  bool wait(std::chrono::milliseconds timeout = kWait) { return slot_.wait(timeout).has_value(); }
  bool is_set() const { return slot_.peek().has_value(); }

 private:
  Slot<bool> slot_;
};

/// A reusable barrier for `parties` threads whose wait has a deadline (std::
/// barrier and std::latch have none). Once any wait times out the barrier is
/// broken and every later wait fails at once, so a test that expects
/// parallelism fails in kWait, not in kWait per handler.
class TimedBarrier {
 public:
  explicit TimedBarrier(std::size_t parties) : parties_(parties) {}

  /// True when all parties of this generation arrived in time. Thread: any.
  bool arrive_and_wait(std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lk(mu_);
    if (broken_) return false;
    const auto gen = generation_;
    if (++arrived_ == parties_) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
      return true;
    }
    if (!cv_.wait_for(lk, timeout, [&] { return generation_ != gen || broken_; })) {
      broken_ = true;
      cv_.notify_all();
      return false;
    }
    return generation_ != gen;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  const std::size_t parties_;
  std::size_t arrived_ = 0;
  std::size_t generation_ = 0;
  bool broken_ = false;
};

/// A GenServer whose callbacks are std::functions, so that a test states the
/// behavior it needs next to its assertions. An unset callback does what
/// GenServer does, except handle_call, which echoes the request.
struct Handlers {
  std::function<void(GenServer&, const Term&)> init;
  std::function<CallReply(GenServer&, const Term&, const From&)> call;
  std::function<void(GenServer&, const Term&)> cast;
  std::function<void(GenServer&, const Info&)> info;
  std::function<void(GenServer&, const Term&)> cont;
  std::function<void(GenServer&, const ExitReason&)> terminate;
};

class FnServer : public GenServer {
 public:
  explicit FnServer(Handlers h) : h_(std::move(h)) {}
  void init(const Term& args) override {
    if (h_.init) h_.init(*this, args);
  }
  CallReply handle_call(const Term& request, const From& from) override {
    if (h_.call) return h_.call(*this, request, from);
    return CallReply::reply(request);
  }
  void handle_cast(const Term& request) override {
    if (h_.cast) h_.cast(*this, request);
  }
  void handle_info(const Info& info) override {
    if (h_.info) h_.info(*this, info);
  }
  void handle_continue(const Term& arg) override {
    if (h_.cont) h_.cont(*this, arg);
  }
  void terminate(const ExitReason& reason) override {
    if (h_.terminate) h_.terminate(*this, reason);
  }
  std::string behavior_name() const override { return "fn_server"; }

 private:
  Handlers h_;
};

inline BehaviorFactory fn_server(Handlers h) {
  return [h = std::move(h)] { return std::make_unique<FnServer>(h); };
}

/// Watches one process from outside (Node::monitor) and hands back its exit
/// reason. Create it before the exit you want to see, else the reason is noproc.
class ExitWatch {
 public:
  ExitWatch(Node& node, Pid pid) : state_(std::make_shared<State>()) {
    ref_ = node.monitor(pid, [s = state_](Pid, const ExitReason& r) {
      s->calls.fetch_add(1);
      s->reason.set(r);
    });
  }
  /// The exit reason, or nullopt if the process is still alive after `timeout`.
  std::optional<ExitReason> wait(std::chrono::milliseconds timeout = kWait) {
    return state_->reason.wait(timeout);
  }
  bool fired() const { return state_->reason.peek().has_value(); }
  int calls() const { return state_->calls.load(); }
  std::uint64_t ref() const { return ref_; }

 private:
  struct State {
    Slot<ExitReason> reason;
    std::atomic<int> calls{0};
  };
  std::shared_ptr<State> state_;
  std::uint64_t ref_ = 0;
};

inline Term ref_term(std::uint64_t ref) { return Term(static_cast<std::int64_t>(ref)); }

/// A process that does what the test asks (monitor, link, send, trap exits)
/// through calls, and records every handle_info: the watcher of the links
/// and monitors suites, local and remote.
struct Watcher {
  std::shared_ptr<Recorder<Info>> infos = std::make_shared<Recorder<Info>>();

  Handlers handlers(bool trap = false) const {
    Handlers h;
    h.init = [trap](GenServer& self, const Term&) { self.trap_exit(trap); };
    h.call = [](GenServer& self, const Term& req, const From&) -> CallReply {
      if (!req.is_tuple()) return req;
      const auto& it = req.as_tuple().items;
      const auto& op = it.at(0).as_string();
      if (op == "monitor") return ref_term(self.monitor(it.at(1).as_pid()));
      if (op == "demonitor") self.demonitor(it.at(1).as_pid(), static_cast<std::uint64_t>(it.at(2).as_int()));
      if (op == "link") self.link(it.at(1).as_pid());
      if (op == "unlink") self.unlink(it.at(1).as_pid());
      if (op == "send") self.send(it.at(1).as_pid(), it.at(2));
      if (op == "trap") self.trap_exit(it.at(1).as_bool());
      return Term("ok");
    };
    h.info = [infos = infos](GenServer&, const Info& i) { infos->push(i); };
    // cast "block": hold the process until `gate`, so signals pile up meanwhile.
    h.cast = [gate = gate, busy = busy](GenServer&, const Term& req) {
      if (!req.is("block")) return;
      busy->set();
      EXPECT_TRUE(gate->wait());
    };
    return h;
  }
  std::shared_ptr<Event> gate = std::make_shared<Event>();
  std::shared_ptr<Event> busy = std::make_shared<Event>();

  std::vector<Info> of_kind(Info::Kind k) const {
    std::vector<Info> out;
    for (auto& i : infos->snapshot())
      if (i.kind == k) out.push_back(i);
    return out;
  }
  /// Waits for a plain message equal to `m` (used as a "everything before
  /// this was delivered" marker).
  bool wait_message(const Term& m) {
    return infos->wait_until([&](const std::vector<Info>& v) {
      for (auto& i : v)
        if (i.kind == Info::Kind::message && i.message == m) return true;
      return false;
    });
  }
  bool wait_kind(Info::Kind k, std::size_t n = 1) {
    return infos->wait_until([&](const std::vector<Info>& v) {
      std::size_t c = 0;
      for (auto& i : v) c += i.kind == k;
      return c >= n;
    });
  }
};

/// cast "crash" raises ("target crashed"), cast "stop" stops normally, cast
/// "shutdown" stops with shutdown; call "crash" raises ("boom"), call
/// ("send_then_crash", to, message) sends, then raises ("target crashed");
/// any other call is echoed.
inline Handlers crasher() {
  Handlers h;
  h.cast = [](GenServer& self, const Term& req) {
    if (req.is("crash")) throw std::runtime_error("target crashed");
    if (req.is("stop")) self.stop();
    if (req.is("shutdown")) self.stop(ExitReason::shutdown());
  };
  h.call = [](GenServer& self, const Term& req, const From&) -> CallReply {
    if (req.is("crash")) throw std::runtime_error("boom");
    if (req.is_tuple()) {
      const auto& it = req.as_tuple().items;
      self.send(it.at(1).as_pid(), it.at(2));
      throw std::runtime_error("target crashed");
    }
    return req;
  };
  return h;
}

/// Every test gets a started node (2 engine threads unless it asks otherwise);
/// every node a test creates is stopped in TearDown.
class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override { node_ = make_node(2); }
  void TearDown() override {
    for (auto& n : nodes_) n->stop();
    nodes_.clear();
    node_.reset();
  }

  std::shared_ptr<Node> make_node(int threads, std::string name = "core_test") {
    NodeOptions o;
    o.name = std::move(name);
    o.threads = threads;
    auto n = Node::create(o);
    n->start();
    nodes_.push_back(n);
    return n;
  }

  /// Spawns on `node_` and fails the test (not just the assertion) on error.
  Pid spawn(const BehaviorFactory& f, const Term& args = {}, const SpawnOptions& o = {}) {
    return spawn_on(*node_, f, args, o);
  }
  static Pid spawn_on(Node& node, const BehaviorFactory& f, const Term& args = {},
                      const SpawnOptions& o = {}) {
    auto r = node.spawn(f, args, o);
    EXPECT_TRUE(r.ok()) << "spawn failed: " << (r.ok() ? std::string() : r.error().to_string());
    return r.ok() ? r.value() : Pid{};
  }

  /// Kills `pid` and waits until it is gone.
  void kill_and_wait(Pid pid) {
    ExitWatch w(*node_, pid);
    node_->exit(pid, ExitReason::killed());
    ASSERT_TRUE(w.wait().has_value()) << pid.to_string() << " did not die";
  }

  std::shared_ptr<Node> node_;
  std::vector<std::shared_ptr<Node>> nodes_;
};

}  // namespace noexpp::test

/// Makes gtest print engine values readably in failure messages.
namespace noexpp {
inline void PrintTo(const Term& t, std::ostream* os) { *os << t.to_string(); }
inline void PrintTo(const ExitReason& r, std::ostream* os) { *os << r.to_string(); }
inline void PrintTo(const Pid& p, std::ostream* os) { *os << p.to_string(); }
inline void PrintTo(Errc s, std::ostream* os) { *os << to_string(s); }
inline void PrintTo(ExitReason::Kind k, std::ostream* os) { *os << to_string(k); }
inline void PrintTo(Info::Kind k, std::ostream* os) {
  *os << (k == Info::Kind::message ? "message" : k == Info::Kind::down ? "down" : "exit");
}
inline void PrintTo(const CallOutcome& o, std::ostream* os) {
  *os << to_string(o.status);
  if (o.ok()) *os << " " << o.value.to_string();
  else *os << " (" << o.reason.to_string() << ")";
}
}  // namespace noexpp
