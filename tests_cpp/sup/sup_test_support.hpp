#pragma once
/// Helpers shared by the supervisor suites (tests_cpp/sup).
///
/// Same rule as the core helpers: no sleeps. A test waits for a lifecycle
/// event or a journal line with a deadline (kWait), then asserts. A decision
/// the supervisor takes inline (a restart without backoff, dropping a
/// temporary child) is complete once its event was seen *and* a later call
/// to the supervisor (which_children, stats) returned, since the supervisor
/// handles one message at a time.
///
/// What the children report goes through the mutex-protected Journal and the
/// event Recorder, both held by shared_ptr: children and the event bus may
/// outlive the test body until the fixture stops the node.
#include <algorithm>
#include <climits>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <noexpp/sup/child_spec.hpp>
#include <noexpp/sup/supervisor.hpp>

#include "../core/test_support.hpp"

namespace noexpp::test {

using sup::AutoShutdown;
using sup::Backoff;
using sup::ChildInfo;
using sup::ChildSpec;
using sup::Directive;
using sup::RestartType;
using sup::Strategy;
using sup::Supervisor;
using sup::SupervisorSpec;

/// What every incarnation of every test child reports, in order:
///   "start <id>"             init succeeded
///   "init_failed <id>"       init refused (see fail_next_inits)
///   "exit <id> <reason>"     a trapping child got an EXIT message
///   "terminate <id> <reason>"
class Journal {
 public:
  Recorder<std::string> log;

  /// The next `n` inits of child `id` throw. Thread: any.
  void fail_next_inits(const std::string& id, int n = INT_MAX) {
    std::lock_guard lk(mu_);
    fail_inits_[id] = n;
  }
  /// Called by a child's init: true when this init must fail. Thread: any.
  bool take_init_failure(const std::string& id) {
    std::lock_guard lk(mu_);
    auto it = fail_inits_.find(id);
    if (it == fail_inits_.end() || it->second <= 0) return false;
    if (it->second != INT_MAX) --it->second;
    return true;
  }

  /// The lines that start with `prefix`, in order.
  std::vector<std::string> lines(std::string_view prefix = "") const {
    std::vector<std::string> out;
    for (auto& l : log.snapshot())
      if (std::string_view(l).substr(0, prefix.size()) == prefix) out.push_back(l);
    return out;
  }
  /// Waits until `line` was logged `n` times.
  bool wait_line(const std::string& line, std::size_t n = 1) {
    return log.wait_until([&](const std::vector<std::string>& v) {
      return static_cast<std::size_t>(std::count(v.begin(), v.end(), line)) >= n;
    });
  }
  std::size_t count(const std::string& line) const {
    auto v = log.snapshot();
    return static_cast<std::size_t>(std::count(v.begin(), v.end(), line));
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, int> fail_inits_;
};

/// How a test child behaves beyond the defaults.
struct WorkerOpts {
  RestartType restart = RestartType::permanent;
  std::optional<Duration> shutdown{};
  bool significant = false;
  /// Traps exits: the supervisor's shutdown request arrives as an EXIT
  /// message, which the child logs and ignores (so it must be killed)...
  bool trap_exit = false;
  /// ...unless this is set: then it stops with the EXIT's reason, as a
  /// well-behaved trapping gen_server does.
  bool stop_on_exit = false;
  /// terminate logs "terminate ..." and then waits for this gate (bounded by kWait).
  std::shared_ptr<Event> terminate_gate{};
  std::string name{};
  Term args = Term::list({});
};

/// The test child. Requests (calls unless noted):
///   "ping" -> "pong"; "incr" -> the incremented counter (state that a
///   restart resets and a resume keeps); "args" -> its init args; "crash"
///   (call or cast) raises std::runtime_error("boom"); casts "stop_normal",
///   "stop_shutdown", "stop_shutdown_term", "stop_other" stop it with that reason.
class TestWorker : public GenServer {
 public:
  TestWorker(std::string id, std::shared_ptr<Journal> journal, WorkerOpts opts)
      : id_(std::move(id)), journal_(std::move(journal)), opts_(std::move(opts)) {}

  void init(const Term& args) override {
    if (journal_->take_init_failure(id_)) {
      journal_->log.push("init_failed " + id_);
      throw std::runtime_error("init refused");
    }
    args_ = args;
    if (opts_.trap_exit) trap_exit(true);
    journal_->log.push("start " + id_);
  }
  CallReply handle_call(const Term& req, const From&) override {
    if (req.is("ping")) return Term("pong");
    if (req.is("incr")) return Term(++count_);
    if (req.is("args")) return args_;
    if (req.is("crash")) throw std::runtime_error("boom");
    return req;
  }
  void handle_cast(const Term& req) override {
    if (req.is("crash")) throw std::runtime_error("boom");
    if (req.is("stop_normal")) stop(ExitReason::normal());
    if (req.is("stop_shutdown")) stop(ExitReason::shutdown());
    if (req.is("stop_shutdown_term")) stop(ExitReason::shutdown_with("done"));
    if (req.is("stop_other")) stop(ExitReason::other("bye"));
  }
  void handle_info(const Info& info) override {
    if (info.kind != Info::Kind::exit) return;
    journal_->log.push("exit " + id_ + " " + info.reason.to_string());
    if (opts_.stop_on_exit) stop(info.reason);
  }
  void terminate(const ExitReason& reason) override {
    journal_->log.push("terminate " + id_ + " " + reason.to_string());
    if (opts_.terminate_gate) {
      EXPECT_TRUE(opts_.terminate_gate->wait()) << id_ << ": terminate gate never opened";
    }
  }
  std::string behavior_name() const override { return "test_worker"; }

 private:
  std::string id_;
  std::shared_ptr<Journal> journal_;
  WorkerOpts opts_;
  Term args_;
  int count_ = 0;
};

/// A lifecycle event's field, nil when absent.
inline Term field(const LifecycleEvent& e, std::string_view key) {
  if (!e.fields.is_map()) return {};
  for (auto& [k, v] : e.fields.as_map().items)
    if (k.is(key)) return v;
  return {};
}
inline std::string str_field(const LifecycleEvent& e, std::string_view key) {
  Term t = field(e, key);
  return t.is_string() ? t.as_string() : std::string();
}

/// A process that traps exits and records the EXIT messages it gets: the
/// parent a supervisor is linked to.
struct ExitTrapper {
  std::shared_ptr<Recorder<Info>> exits = std::make_shared<Recorder<Info>>();

  BehaviorFactory factory() const {
    Handlers h;
    h.init = [](GenServer& self, const Term&) { self.trap_exit(true); };
    h.info = [exits = exits](GenServer&, const Info& i) {
      if (i.kind == Info::Kind::exit) exits->push(i);
    };
    return fn_server(h);
  }
  /// The first EXIT from `from`, or nullopt after kWait.
  std::optional<ExitReason> wait_exit_from(Pid from) {
    std::optional<ExitReason> out;
    exits->wait_until([&](const std::vector<Info>& v) {
      for (auto& i : v)
        if (i.from == from) {
          out = i.reason;
          return true;
        }
      return false;
    });
    return out;
  }
};

/// A started node plus the test children's journal and every lifecycle event.
class SupTest : public NodeTest {
 protected:
  void SetUp() override {
    NodeTest::SetUp();
    node_->events().subscribe([events = events_](const LifecycleEvent& e) { events->push(e); });
  }

  // ---- children -------------------------------------------------------------

  ChildSpec worker(std::string id, WorkerOpts o = {}) {
    ChildSpec c;
    c.id = id;
    c.behavior_name = "test_worker";
    c.restart = o.restart;
    c.shutdown = o.shutdown;
    c.significant = o.significant;
    c.name = o.name;
    c.args = o.args;
    c.behavior = [id, journal = journal_, o] { return std::make_unique<TestWorker>(id, journal, o); };
    return c;
  }
  static ChildSpec supervisor_child(std::string id, SupervisorSpec spec) {
    ChildSpec c;
    c.id = std::move(id);
    c.supervisor = std::make_shared<SupervisorSpec>(std::move(spec));
    return c;
  }
  static SupervisorSpec spec_of(Strategy s, std::vector<ChildSpec> children, int max_restarts = 10) {
    SupervisorSpec spec;
    spec.strategy = s;
    spec.max_restarts = max_restarts;
    spec.within = std::chrono::seconds(60);
    spec.children = std::move(children);
    return spec;
  }

  /// Starts a supervisor; a failure ends the test (an exception gtest reports).
  Supervisor start_sup(SupervisorSpec spec, const SpawnOptions& opts = {}) {
    auto r = sup::start_supervisor(node_, std::move(spec), opts);
    if (!r) throw std::runtime_error("start_supervisor failed: " + r.error().to_string());
    return r.value();
  }

  /// The child's pid (nil when not running or not there).
  static Pid pid_of(Supervisor& s, const std::string& id) {
    auto kids = s.which_children();
    if (!kids) return {};
    for (auto& k : kids.value())
      if (k.id == id) return k.pid;
    return {};
  }
  static std::vector<std::string> ids_of(Supervisor& s) {
    std::vector<std::string> out;
    auto kids = s.which_children();
    if (kids)
      for (auto& k : kids.value()) out.push_back(k.id);
    return out;
  }
  static std::optional<ChildInfo> info_of(Supervisor& s, const std::string& id) {
    auto kids = s.which_children();
    if (kids)
      for (auto& k : kids.value())
        if (k.id == id) return k;
    return std::nullopt;
  }

  /// Crashes the child `id` of `s` (a cast that raises) and waits for its
  /// restart number `n` (counted over the test).
  void crash_and_wait_restart(Supervisor& s, const std::string& id, std::size_t n) {
    Pid p = pid_of(s, id);
    ASSERT_FALSE(p.is_nil()) << id << " is not running";
    node_->cast(p, "crash");
    ASSERT_TRUE(wait_event("child_restarted", id, n, s.pid())) << id << " restart #" << n << " not seen";
  }

  // ---- events ---------------------------------------------------------------

  /// Events of `type` ("" = all) about child `child_id` ("" = any) from the
  /// supervisor `sup` (nil = any), in emit order.
  std::vector<LifecycleEvent> events_of(std::string_view type, std::string_view child_id = "",
                                        Pid sup = {}) const {
    std::vector<LifecycleEvent> out;
    for (auto& e : events_->snapshot())
      if (matches(e, type, child_id, sup)) out.push_back(e);
    return out;
  }
  /// Waits for `n` such events.
  bool wait_event(std::string_view type, std::string_view child_id = "", std::size_t n = 1, Pid sup = {}) {
    return events_->wait_until([&](const std::vector<LifecycleEvent>& v) {
      std::size_t c = 0;
      for (auto& e : v) c += matches(e, type, child_id, sup);
      return c >= n;
    });
  }
  /// "type child_id" (or just "type") of every event of supervisor `sup`, in emit order.
  std::vector<std::string> trace(Pid sup) const {
    std::vector<std::string> out;
    for (auto& e : events_->snapshot()) {
      if (!matches(e, "", "", sup)) continue;
      auto id = str_field(e, "child_id");
      out.push_back(id.empty() ? e.type : e.type + " " + id);
    }
    return out;
  }
  /// Waits until the trace of `sup` ends with supervisor_stopped.
  bool wait_stopped(Pid sup) { return wait_event("supervisor_stopped", "", 1, sup); }

  static bool matches(const LifecycleEvent& e, std::string_view type, std::string_view child_id, Pid sup) {
    if (!type.empty() && e.type != type) return false;
    if (!child_id.empty() && str_field(e, "child_id") != child_id) return false;
    if (!sup.is_nil()) {
      Term p = field(e, "supervisor_pid");
      if (!p.is_pid() || p.as_pid() != sup) return false;
    }
    return true;
  }

  std::shared_ptr<Journal> journal_ = std::make_shared<Journal>();
  std::shared_ptr<Recorder<LifecycleEvent>> events_ = std::make_shared<Recorder<LifecycleEvent>>();
};

using Lines = std::vector<std::string>;

}  // namespace noexpp::test
